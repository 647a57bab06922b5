"""The kind of an invoice from its identity (domain/einvoice.md section 1)."""

from __future__ import annotations

import unicodedata

from .types import InvoiceKind

_TWELVE_DIGIT_SUFFIX = {
    "11": InvoiceKind.E_ORDINARY,
    "13": InvoiceKind.E_SPECIAL,
    "12": InvoiceKind.E_TOLL,
    "04": InvoiceKind.PAPER_ORDINARY,
    "05": InvoiceKind.PAPER_ORDINARY,
}
_TEN_DIGIT_KIND = {
    "1": InvoiceKind.PAPER_SPECIAL,
    "5": InvoiceKind.PAPER_SPECIAL,
    "3": InvoiceKind.PAPER_ORDINARY,
    "6": InvoiceKind.PAPER_ORDINARY,
}


def kind_from_code(code: str) -> InvoiceKind:
    """Kind of a legacy invoice from its code; OTHER when the code says nothing."""
    code = (code or "").strip()
    if not code.isdigit():
        return InvoiceKind.OTHER
    if len(code) == 12:
        return _TWELVE_DIGIT_SUFFIX.get(code[-2:], InvoiceKind.OTHER)
    if len(code) == 10:
        return _TEN_DIGIT_KIND.get(code[7], InvoiceKind.OTHER)
    return InvoiceKind.OTHER


def digital_kind(label: str) -> InvoiceKind:
    """数电 GeneralOrSpecialVAT label or a printed title to a digital kind."""
    label = (label or "").strip()
    if label in ("01", "1") or "专用" in label:
        return InvoiceKind.DIGITAL_SPECIAL
    if label in ("02", "2") or "普通" in label:
        return InvoiceKind.DIGITAL_ORDINARY
    return InvoiceKind.OTHER


# Printed titles, NFKC-normalised without spaces (full-width brackets become ASCII),
# most specific first. A 通用机打发票 is a provincial general invoice, not a VAT one.
_TITLES = (
    ("电子发票(铁路电子客票)", InvoiceKind.RAIL_TICKET),
    ("铁路电子客票", InvoiceKind.RAIL_TICKET),
    ("航空运输电子客票行程单", InvoiceKind.AIR_ITINERARY),
    ("通用机打发票", InvoiceKind.GENERAL_MACHINE),
    ("电子发票(增值税专用发票)", InvoiceKind.DIGITAL_SPECIAL),
    ("电子发票(普通发票)", InvoiceKind.DIGITAL_ORDINARY),
    ("增值税电子专用发票", InvoiceKind.E_SPECIAL),
    ("增值税电子普通发票(通行费)", InvoiceKind.E_TOLL),
    ("增值税电子普通发票", InvoiceKind.E_ORDINARY),
)


def normalize_title(text: str) -> str:
    """NFKC (Kangxi radicals, full-width brackets) without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def kind_from_title(text: str) -> InvoiceKind:
    """The kind a printed title names; OTHER when it names none."""
    title = normalize_title(text)
    for marker, kind in _TITLES:
        if marker in title:
            return kind
    return InvoiceKind.OTHER
