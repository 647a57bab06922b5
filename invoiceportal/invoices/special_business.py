"""Special-business data of an invoice (``Invoice.extras``) as labelled rows for pages.

The readers store what the document prints beyond the VAT fields (domain/einvoice.md
section 11; shapes documented in ``extraction/xml_reader.py`` and
``extraction/xbrl.py``): a toll invoice's plate and passages, a rail ticket's trip and
passenger, an air itinerary's passenger, fare and segments. Unknown keys are left out;
values are shown as stored (strings), never trusted as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from invoiceportal.common.money import to_decimal

# The screening rule that stores a ticket's deductible input VAT in its result's
# details (reviews/checks/tickets.py computes it; pages and the API read it here).
DEDUCTION_RULE = "tickets.deductible_vat"


def deductible_tax_in(results: Iterable[Any]) -> Decimal | None:
    """The deductible input VAT stored by the latest ``tickets.deductible_vat`` result
    among ``results`` (``CheckResult`` rows or dicts with ``rule``/``details``)."""
    found: Any = None
    for result in results:
        if isinstance(result, Mapping):
            code, details = result.get("rule"), result.get("details")
        else:
            code = getattr(result, "rule_code", None)
            details = getattr(result, "details", None)
        if code == DEDUCTION_RULE and isinstance(details, Mapping):
            found = details.get("deductible_tax")
    if found in (None, ""):
        return None
    try:
        return to_decimal(str(found))
    except ValueError:
        return None


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    key: str  # "toll" | "rail" | "air"
    title: str
    rows: tuple[tuple[str, str], ...] = ()
    table: Table | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return ""
    return str(value).strip()


def _rows(
    data: Mapping[str, Any], labels: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    rows = [(label, _text(data.get(key))) for key, label in labels]
    return [(label, value) for label, value in rows if value]


def _table(
    items: Any, columns: Sequence[tuple[str, str]], limit: int = 20
) -> Table | None:
    if not isinstance(items, list | tuple):
        return None
    rows = []
    for item in items[:limit]:
        if isinstance(item, Mapping):
            rows.append(tuple(_text(item.get(key)) for key, _label in columns))
        elif _text(item):
            rows.append((_text(item),) + ("",) * (len(columns) - 1))
    if not rows:
        return None
    used = [i for i in range(len(columns)) if any(row[i] for row in rows)]
    return Table(
        tuple(columns[i][1] for i in used),
        tuple(tuple(row[i] for i in used) for row in rows),
    )


def _toll(data: Mapping[str, Any]) -> Section:
    rows = _rows(data, [("plate", _("Plate number")), ("vehicle_type", _("Vehicle"))])
    table = _table(
        data.get("passages"),
        [
            ("plate", _("Plate number")),
            ("vehicle_type", _("Vehicle")),
            ("from", _("Passage from")),
            ("to", _("Passage until")),
        ],
    )
    return Section("toll", _("Toll passages"), tuple(rows), table)


def _rail(data: Mapping[str, Any]) -> Section:
    rows = _rows(
        data, [("passenger", _("Passenger")), ("passenger_id", _("Passenger ID"))]
    )
    trip = " → ".join(
        t for t in (_text(data.get("from_station")), _text(data.get("to_station"))) if t
    )
    if trip:
        rows.append((_("Trip"), trip))
    departure = " ".join(
        t
        for t in (_text(data.get("departure_date")), _text(data.get("departure_time")))
        if t
    )
    if departure:
        rows.append((_("Departure"), departure))
    rows += _rows(
        data,
        [
            ("train", _("Train")),
            ("seat_class", _("Seat class")),
            ("seat", _("Seat")),
            ("eticket", _("E-ticket number")),
            ("fare", _("Fare")),
            ("business", _("Ticket business")),
            ("refund", _("Amount refunded")),
            ("original_number", _("Original invoice number")),
        ],
    )
    return Section("rail", _("Rail trip"), tuple(rows))


def _air(data: Mapping[str, Any]) -> Section:
    rows = _rows(
        data,
        [
            ("passenger", _("Passenger")),
            ("passenger_id", _("Passenger ID")),
            ("domestic", _("Domestic or international")),
            ("status", _("Issuing status")),
            ("eticket", _("E-ticket number")),
            ("issuer", _("Issued by")),
            ("fare", _("Fare")),
            ("fuel_surcharge", _("Fuel surcharge")),
            ("vat_rate", _("VAT rate")),
            ("vat_amount", _("VAT")),
            ("caac_fund", _("Civil aviation development fund")),
            ("other_taxes", _("Other taxes and fees")),
            ("insurance", _("Insurance")),
            ("total", _("Total")),
        ],
    )
    table = _table(
        data.get("segments"),
        [
            ("from", _("From")),
            ("to", _("To")),
            ("carrier", _("Carrier")),
            ("flight", _("Flight")),
            ("seat_class", _("Seat class")),
            ("date", _("Date")),
            ("time", _("Time")),
        ],
    )
    return Section("air", _("Air itinerary"), tuple(rows), table)


_SECTIONS = (("toll", _toll), ("rail", _rail), ("air", _air))


def special_business_sections(extras: Any) -> list[Section]:
    """The labelled sections of ``extras`` that hold something to show."""
    if not isinstance(extras, Mapping):
        return []
    sections = []
    for key, build in _SECTIONS:
        data = extras.get(key)
        if isinstance(data, Mapping) and data:
            section = build(data)
            if section.rows or section.table:
                sections.append(section)
    return sections
