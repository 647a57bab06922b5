from typing import Any

from django.core.management.base import BaseCommand, CommandError

from invoiceportal.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at entry {report.first_bad_seq}: {report.reason} "
                f"({report.checked} entries verified before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} entries.")
        )
