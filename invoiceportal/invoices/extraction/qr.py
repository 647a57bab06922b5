"""The invoice QR payload: ``01,type,code,number,amount,YYYYMMDD,check,crc``.

Pure parsing only; decoding the QR from an image lives with the image reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .types import InvoiceKind

QR_TYPE_TO_KIND = {
    "31": InvoiceKind.DIGITAL_SPECIAL,
    "32": InvoiceKind.DIGITAL_ORDINARY,
    "20": InvoiceKind.E_SPECIAL,
    "10": InvoiceKind.E_ORDINARY,
    "14": InvoiceKind.E_TOLL,
    "01": InvoiceKind.PAPER_SPECIAL,
    "04": InvoiceKind.PAPER_ORDINARY,
}


@dataclass(frozen=True)
class QrPayload:
    qr_type: str
    code: str
    number: str
    amount: Decimal | None  # total excl. tax (legacy) or 价税合计 (数电票)
    issue_date: dt.date | None
    check_code: str
    raw: str

    @property
    def kind(self) -> InvoiceKind:
        return QR_TYPE_TO_KIND.get(self.qr_type, InvoiceKind.OTHER)


def parse_qr_payload(text: str) -> QrPayload | None:
    """Parse a payload, or None when it is not an invoice QR."""
    fields = [f.strip() for f in (text or "").strip().split(",")]
    if len(fields) < 7 or fields[0] != "01":
        return None
    qr_type, code, number, amount_s, date_s, check = fields[1:7]
    if not number.isdigit():
        return None
    try:
        amount = Decimal(amount_s) if amount_s else None
    except InvalidOperation:
        amount = None
    try:
        issue_date = dt.datetime.strptime(date_s, "%Y%m%d").date() if date_s else None
    except ValueError:
        issue_date = None
    return QrPayload(qr_type, code, number, amount, issue_date, check, text.strip())
