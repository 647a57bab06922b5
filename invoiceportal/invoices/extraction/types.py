"""The normalized structure every extractor returns.

Plain dataclasses, no ORM: extractors, checks and tests share them. Amounts are
``Decimal`` with two places; rates are fractions (``Decimal("0.13")``); an exempt
line has ``tax_rate=None`` and ``tax_exempt=True``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class InvoiceKind(StrEnum):
    """Kind values of the API contract (DESIGN.md section 7)."""

    DIGITAL_SPECIAL = "digital_special"
    DIGITAL_ORDINARY = "digital_ordinary"
    E_SPECIAL = "e_special"
    E_ORDINARY = "e_ordinary"
    E_TOLL = "e_toll"
    PAPER_SPECIAL = "paper_special"
    PAPER_ORDINARY = "paper_ordinary"
    # Wave 2 (domain/einvoice.md section 11): 数电 passenger tickets and the provincial
    # general machine-printed e-invoice, which is not a VAT invoice.
    RAIL_TICKET = "rail_ticket"
    AIR_ITINERARY = "air_itinerary"
    GENERAL_MACHINE = "general_machine"
    OTHER = "other"


# Fully digital kinds: identified by the 20-digit number alone.
DIGITAL_KINDS = frozenset(
    {
        InvoiceKind.DIGITAL_SPECIAL,
        InvoiceKind.DIGITAL_ORDINARY,
        InvoiceKind.RAIL_TICKET,
        InvoiceKind.AIR_ITINERARY,
    }
)
# Passenger tickets: no line items and no amount in capitals on the page.
TICKET_KINDS = frozenset({InvoiceKind.RAIL_TICKET, InvoiceKind.AIR_ITINERARY})


class FieldSource(StrEnum):
    XML = "xml"
    OFD = "ofd"
    PDF_TEXT = "pdf_text"
    QR = "qr"
    OCR = "ocr"
    MANUAL = "manual"


@dataclass(frozen=True)
class FieldReading:
    """Where a field's value came from and how sure we are (0.0 to 1.0)."""

    source: FieldSource
    confidence: float


@dataclass
class ExtractedLine:
    name: str = ""
    spec: str = ""
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tax_rate: Decimal | None = None
    tax_amount: Decimal | None = None
    tax_exempt: bool = False
    tax_classification_code: str = ""


@dataclass
class ExtractedInvoice:
    """Everything an extractor could read from one document."""

    kind: InvoiceKind = InvoiceKind.OTHER
    code: str = ""  # legacy invoice code (10 or 12 digits); empty for 数电票
    number: str = ""  # 8 digits legacy, 20 digits 数电票
    issue_date: dt.date | None = None
    check_code: str = ""
    seller_name: str = ""
    seller_tax_id: str = ""
    buyer_name: str = ""
    buyer_tax_id: str = ""
    amount: Decimal | None = None  # 合计金额, excluding tax
    tax_amount: Decimal | None = None  # 合计税额
    total_amount: Decimal | None = None  # 价税合计
    total_in_words: str = ""
    lines: list[ExtractedLine] = field(default_factory=list)
    remarks: str = ""
    is_red: bool = False
    red_of_number: str = ""  # the blue invoice a red-letter one flushes, when named
    qr_payload: str = ""
    drawer: str = ""
    # Special-business data printed on the invoice, JSON-safe values only: toll
    # (plate, passage dates), rail (passenger, masked ID, stations, train, seat,
    # departure), air (passenger, segments, fare, fuel surcharge, CAAC fund, domestic).
    extras: dict[str, Any] = field(default_factory=dict)
    # per-field provenance, keyed by field name ("number", "amount", ...)
    readings: dict[str, FieldReading] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """The duplicate key of domain/einvoice.md section 1."""
        if self.kind in DIGITAL_KINDS:
            return self.number
        return f"{self.code}:{self.number}" if self.code else self.number

    def min_confidence(self) -> float:
        return min((r.confidence for r in self.readings.values()), default=0.0)

    def mark_read(self, names: Iterable[str], reading: FieldReading) -> None:
        """Record ``reading`` for each of ``names`` that holds a value (and for
        ``extras`` when there are any), replacing the readings so far."""
        found = [name for name in names if getattr(self, name) not in (None, "")]
        if self.extras:
            found.append("extras")
        self.readings = {name: reading for name in found}
