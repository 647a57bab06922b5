from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reviews.registry_import import registry_import


class Command(BaseCommand):
    help = "Import the registry of issued invoices from a CSV file (see README)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("csv_file", type=Path)

    def handle(self, *args: Any, csv_file: Path, **options: Any) -> None:
        if not csv_file.is_file():
            raise CommandError(f"No such file: {csv_file}")
        report = registry_import(actor=None, data=csv_file.read_bytes())
        for error in report.errors:
            self.stderr.write(f"line {error.line}: {error.message_en}")
        self.stdout.write(
            f"Registry import: {report.created} created, {report.updated} updated, "
            f"{len(report.errors)} rows refused."
        )
        if report.errors and not (report.created or report.updated):
            raise CommandError("Nothing was imported.")
