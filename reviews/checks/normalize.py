"""Normalisation shared by checks: tax IDs, names, parameter values."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from invoiceportal.common.money import to_decimal


def tax_id(value: str) -> str:
    """Upper case, NFKC (full-width letters), no spaces."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def party_name(value: str) -> str:
    """NFKC (full-width brackets become ASCII), no spaces, case folded."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def param_decimal(value: object) -> Decimal:
    """Parameters are stored as JSON: money and rates as strings, sometimes numbers."""
    if isinstance(value, float):
        value = repr(value)
    return to_decimal(value)  # type: ignore[arg-type]
