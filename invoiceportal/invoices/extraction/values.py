"""Parsing printed values: amounts, rates, quantities, dates. Pure, forgiving, no raise.

Shared by the structured readers (XML, OFD); text readers may reuse them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_NUMBER_NOISE = re.compile(r"[\s,¥￥元圆]")
_DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$"),
)
EXEMPT_MARKERS = ("免税",)
NO_TAX_MARKERS = ("不征税", "不征收")
MISSING_TAX = ("***", "*", "")


def clean(text: str | None) -> str:
    """NFKC (full-width digits, Kangxi radicals), trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_decimal(text: str | None) -> Decimal | None:
    """A number as printed: thousands separators, currency signs, full-width minus."""
    s = _NUMBER_NOISE.sub("", clean(text)).replace("−", "-")
    if not s or set(s) <= {"*"}:
        return None
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_amount(text: str | None) -> Decimal | None:
    """Money with (at least) two places: '4197.1' -> Decimal('4197.10')."""
    value = parse_decimal(text)
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENT)
    return value


def parse_rate(text: str | None) -> tuple[Decimal | None, bool]:
    """``(rate, exempt)``: '0.13', '13%', '13' -> 0.13; '免税' -> (None, True)."""
    s = clean(text)
    if any(marker in s for marker in EXEMPT_MARKERS):
        return None, True
    if not s or any(marker in s for marker in NO_TAX_MARKERS):
        return None, False
    percent = s.endswith("%")
    value = parse_decimal(s.rstrip("%"))
    if value is None:
        return None, False
    if percent or value > 1:
        value = value / _HUNDRED
    return value.normalize() if value else Decimal("0"), False


def parse_date(text: str | None) -> dt.date | None:
    """'2024-05-28 14:22:10', '2024年05月28日', '20240528', '2024-05-28T14:22:10'."""
    s = clean(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.search(s)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


_RED_REFERENCES = (
    re.compile(r"代码\s*[:：]?\s*\d{10,12}\D{0,4}号码\s*[:：]?\s*(\d{8})(?!\d)"),
    re.compile(
        r"(?:蓝字|原|正数|对应)[^0-9]{0,16}?号码\s*[:：]?\s*(\d{20}|\d{8})(?!\d)"
    ),
)


def red_reference(remarks: str | None) -> str:
    """The blue invoice number a red-letter invoice's remarks name ('' when none)."""
    text = clean(remarks)
    for pattern in _RED_REFERENCES:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return ""
