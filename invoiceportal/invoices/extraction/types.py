"""The normalized structure every extractor returns.

Plain dataclasses, no ORM: extractors, checks and tests share them. Amounts are
``Decimal`` with two places; rates are fractions (``Decimal("0.13")``); an exempt
line has ``tax_rate=None`` and ``tax_exempt=True``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class InvoiceKind(StrEnum):
    """Kind values of the API contract (DESIGN.md section 7)."""

    DIGITAL_SPECIAL = "digital_special"
    DIGITAL_ORDINARY = "digital_ordinary"
    E_SPECIAL = "e_special"
    E_ORDINARY = "e_ordinary"
    E_TOLL = "e_toll"
    PAPER_SPECIAL = "paper_special"
    PAPER_ORDINARY = "paper_ordinary"
    OTHER = "other"


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
    # per-field provenance, keyed by field name ("number", "amount", ...)
    readings: dict[str, FieldReading] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        """The duplicate key of domain/einvoice.md section 1."""
        if self.kind in (InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY):
            return self.number
        return f"{self.code}:{self.number}" if self.code else self.number

    def min_confidence(self) -> float:
        return min((r.confidence for r in self.readings.values()), default=0.0)
