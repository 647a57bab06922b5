from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from invoiceportal.audit.services import (
    audit_checkpoints_read,
    audit_verify_chain,
    checkpoint_path,
)


class Command(BaseCommand):
    help = (
        "Recompute the audit log's keyed hash chain, compare it with its stored head "
        "and with the signed checkpoints, and report the first problem (a broken "
        "link, a truncated tail, a head or checkpoint mismatch, entries left unsealed "
        "longer than AUDIT_SEAL_MAX_DELAY_SECONDS)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--checkpoints",
            metavar="PATH",
            help=(
                "A checkpoint file (or directory) to compare with, for example the "
                "copy shipped off the host. Default: the file in "
                "AUDIT_CHECKPOINT_DIR."
            ),
        )
        parser.add_argument(
            "--no-checkpoints",
            action="store_true",
            help="Verify the chain and its head only.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoints = None
        source = ""
        if not options["no_checkpoints"]:
            path = Path(options["checkpoints"] or checkpoint_path())
            if options["checkpoints"] and not path.exists():
                raise CommandError(f"No checkpoint file at {path}.")
            checkpoints = audit_checkpoints_read(path)
            source = str(path)
        report = audit_verify_chain(checkpoints=checkpoints)
        if report.problem == "unsealed":
            raise CommandError(
                f"Audit chain incomplete: {report.reason} [unsealed] "
                f"({report.checked} sealed entries verified)."
            )
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at entry {report.first_bad_seq}: {report.reason} "
                f"[{report.problem}] ({report.checked} entries verified before it)."
            )
        legacy = (
            f", {report.legacy} of them from before the key (plain SHA-256)"
            if report.legacy
            else ""
        )
        compared = (
            f"; {report.checkpoints} signed checkpoints in {source} agree"
            if checkpoints is not None
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} entries{legacy}{compared}."
            )
        )
        if checkpoints is not None and not report.checkpoints:
            self.stdout.write(
                self.style.WARNING(
                    "No checkpoint to compare with: a truncated tail cannot be seen "
                    f"without one (run audit_checkpoint; AUDIT_CHECKPOINT_DIR="
                    f"{settings.AUDIT_CHECKPOINT_DIR})."
                )
            )
