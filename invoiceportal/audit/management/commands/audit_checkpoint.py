from typing import Any

from django.core.management.base import BaseCommand, CommandError

from invoiceportal.audit.services import (
    AuditChainError,
    audit_checkpoint_write,
    checkpoint_path,
)


class Command(BaseCommand):
    help = (
        "Sign the audit chain's head and append it to the checkpoint file in "
        "AUDIT_CHECKPOINT_DIR (ship that file off the host); also logged. The "
        "django-q2 schedule 'audit-checkpoint' does the same every few minutes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", help="Write here instead of AUDIT_CHECKPOINT_DIR.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write a checkpoint even when the head has not moved.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = checkpoint_path(options["dir"])
        try:
            checkpoint = audit_checkpoint_write(
                directory=options["dir"], force=options["force"]
            )
        except AuditChainError as exc:
            raise CommandError(str(exc)) from exc
        if checkpoint is None:
            self.stdout.write("The head has not moved since the last checkpoint.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint of entry {checkpoint.seq} appended to {path}."
            )
        )
