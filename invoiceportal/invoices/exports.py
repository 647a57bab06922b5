"""CSV export of the filtered invoice list, streamed row by row (no size limit, flat
memory)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .status import DecisionSource, InvoiceKindChoice, InvoiceStatus

EXPORT_FIELDS = (
    "id",
    "reference",
    "status",
    "kind",
    "code",
    "number",
    "issue_date",
    "seller_name",
    "seller_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "amount",
    "tax_amount",
    "total_amount",
    "decision_source",
    "decision_reason",
    "submitted_at",
    "decided_at",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number (a red invoice's "-100.00") is data, not a formula.
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """Text a spreadsheet must not run as a formula: a cell that starts with
    ``= + - @``, a tab or a carriage return gets a leading apostrophe, unless it is
    a plain number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _when(value: Any) -> str:
    return (
        "" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    )


def header() -> list[str]:
    return [
        _("Reference"),
        _("Status"),
        _("Kind"),
        _("Invoice code"),
        _("Invoice number"),
        _("Issue date"),
        _("Seller"),
        _("Seller taxpayer ID"),
        _("Buyer"),
        _("Buyer taxpayer ID"),
        _("Amount excluding tax"),
        _("Tax"),
        _("Total"),
        _("Decided by"),
        _("Decision reason"),
        _("Submitted"),
        _("Decided"),
    ]


def _row(r: dict[str, Any]) -> list[str]:
    """Every cell neutralised, whichever column it is in."""
    return [csv_cell(cell) for cell in _cells(r)]


def _cells(r: dict[str, Any]) -> list[str]:
    status = r["status"]
    kind = r["kind"]
    source = r["decision_source"]
    return [
        r["reference"],
        str(InvoiceStatus(status).label) if status in InvoiceStatus.values else status,
        str(InvoiceKindChoice(kind).label)
        if kind in InvoiceKindChoice.values
        else kind,
        r["code"],
        r["number"],
        r["issue_date"].isoformat() if r["issue_date"] else "",
        r["seller_name"],
        r["seller_tax_id"],
        r["buyer_name"],
        r["buyer_tax_id"],
        "" if r["amount"] is None else str(r["amount"]),
        "" if r["tax_amount"] is None else str(r["tax_amount"]),
        "" if r["total_amount"] is None else str(r["total_amount"]),
        str(DecisionSource(source).label) if source in DecisionSource.values else "",
        r["decision_reason"],
        _when(r["submitted_at"]),
        _when(r["decided_at"]),
    ]


def csv_rows(queryset: Any, *, chunk_size: int = 2000) -> Iterator[str]:
    """The CSV text, line by line: a UTF-8 byte-order mark (for Excel), the
    header, then every invoice of ``queryset`` newest first."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header())
    rows = (
        queryset.order_by("-submitted_at", "-id")
        .values(*EXPORT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for r in rows:
        yield writer.writerow(_row(r))
