"""Money helpers: exact decimal parsing and the rounding rule of Chinese VAT invoices.

Pure functions. Amounts are ``Decimal`` with two places; tax rates are fractions
(``Decimal("0.13")``). Floats are refused: a binary float cannot hold 0.1 exactly.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Markers printed instead of a number: exempt rate, "no tax", blank cells.
_EMPTY_MARKERS = frozenset({"", "***", "**", "*", "-", "--", "—", "/"})
_EXEMPT_RATE_MARKERS = frozenset({"免税", "不征税", "***"})
_CURRENCY = re.compile(r"^(?:人民币|rmb|cny)|[¥￥]|元$", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def round_half_up(value: Decimal | int | str, places: int = 2) -> Decimal:
    """Round half away from zero, as the invoicing systems do (``-0.125 -> -0.13``)."""
    if places < 0:
        raise ValueError("places must be zero or positive")
    exponent = Decimal(1).scaleb(-places)
    return to_decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = _CURRENCY.sub("", text.replace(" ", ""))
    return text.replace(",", "")


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse an amount exactly: ``"¥4,449.00"``, ``"－46.04"``, ``"4197.17元"``.

    Raises ``ValueError`` on anything else (floats, NaN, infinities, empty text).
    """
    if isinstance(value, bool | float):
        raise ValueError(
            f"refusing {type(value).__name__} {value!r}: use str or Decimal"
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"cannot read an amount from {type(value).__name__}")
    text = _clean(value)
    if not _NUMBER.match(text):
        raise ValueError(f"not an amount: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(f"not an amount: {value!r}") from exc


def to_decimal_or_none(value: Decimal | int | str | None) -> Decimal | None:
    """Like :func:`to_decimal`, but blank cells (``""``, ``"***"``, None) give None."""
    if value is None:
        return None
    if isinstance(value, str) and _clean(value) in _EMPTY_MARKERS:
        return None
    return to_decimal(value)


def to_money(value: Decimal | int | str) -> Decimal:
    """An amount with exactly two places; refuses values with fractions of a cent."""
    amount = to_decimal(value)
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise ValueError(f"amount has fractions of a cent: {value!r}")
    return quantized


def parse_rate(value: Decimal | int | str | None) -> Decimal | None:
    """A tax rate as a fraction: ``"13%" -> 0.13``, ``"0.13" -> 0.13``.

    Exempt markers (``免税``, ``不征税``, ``***``) and blanks give None. A bare number
    above 1 is read as a percentage (``"13" -> 0.13``). Raises ``ValueError`` on garbage
    or a rate outside 0 to 100 %.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = _clean(value)
        if text in _EXEMPT_RATE_MARKERS or text in _EMPTY_MARKERS:
            return None
        percent = text.endswith("%")
        number = to_decimal(text.rstrip("%"))
        rate = number / 100 if percent or number > 1 else number
    else:
        rate = to_decimal(value)
    if rate < 0 or rate > 1:
        raise ValueError(f"tax rate out of range: {value!r}")
    return rate.normalize() if rate != 0 else Decimal("0")


def within(a: Decimal, b: Decimal, tolerance: Decimal) -> bool:
    """``|a - b| <= tolerance``."""
    return abs(a - b) <= tolerance
