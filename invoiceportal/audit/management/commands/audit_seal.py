import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from invoiceportal.audit.services import audit_seal


class Command(BaseCommand):
    help = (
        "Seal committed audit entries into the hash chain (normally done right after "
        "each commit; this is the catch-up). With --every SECONDS it keeps running "
        "(the deployment's sealer process)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Repeat every SECONDS until stopped (0: once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        every = options["every"]
        if every < 0:
            raise CommandError("--every must be 0 or more seconds.")
        while True:
            sealed = audit_seal()
            if not every:
                self.stdout.write(f"Sealed {sealed} audit entries.")
                return
            close_old_connections()
            time.sleep(every)
