"""Run screening again for chosen invoices that are not decided yet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from invoiceportal.invoices.models import Invoice
from reviews.screening import SCREENABLE, invoices_stuck_in_screening, screen_invoice


class Command(BaseCommand):
    help = (
        "Screen invoices again, now, in this process: the references given, or every "
        "invoice stuck in received/screening (--stuck). Decided invoices are left "
        "alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("references", nargs="*", metavar="INV-REF")
        parser.add_argument(
            "--stuck",
            action="store_true",
            help="every invoice still received or screening after --minutes",
        )
        parser.add_argument(
            "--minutes",
            type=int,
            default=None,
            help="with --stuck: untouched for this long (default "
            "SCREENING_STUCK_MINUTES, 10)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        references: list[str] = options["references"]
        if bool(references) == bool(options["stuck"]):
            raise CommandError("Give invoice references or --stuck (not both).")
        if options["stuck"]:
            minutes = options["minutes"]
            older = dt.timedelta(minutes=minutes) if minutes is not None else None
            invoices = list(invoices_stuck_in_screening(older_than=older))
            if not invoices:
                self.stdout.write("No invoice is stuck before a decision.")
        else:
            found = {
                i.reference: i for i in Invoice.objects.filter(reference__in=references)
            }
            invoices = []
            for ref in references:
                if ref not in found:
                    self.stderr.write(f"{ref}: no such invoice.")
                else:
                    invoices.append(found[ref])
        failures = 0
        for invoice in invoices:
            if invoice.status not in SCREENABLE:
                self.stdout.write(
                    f"{invoice.reference}: already decided ({invoice.status}); "
                    "not screened again."
                )
                continue
            try:
                screen_invoice(invoice_id=invoice.pk)
            except Exception as exc:  # report and go on with the others
                failures += 1
                self.stderr.write(
                    f"{invoice.reference}: screening failed, still {invoice.status}: "
                    f"{type(exc).__name__}: {exc}"
                )
                continue
            invoice.refresh_from_db(fields=["status"])
            self.stdout.write(
                self.style.SUCCESS(f"{invoice.reference}: screened -> {invoice.status}")
            )
        if failures:
            raise CommandError(f"{failures} invoice(s) could not be screened.")
