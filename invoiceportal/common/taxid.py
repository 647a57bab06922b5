"""Taxpayer identifiers: the Unified Social Credit Code (GB 32100-2015) and older forms.

Pure functions; see ../shared/domain/einvoice.md section 2.
"""

from __future__ import annotations

import re
from enum import StrEnum

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")
_ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CARD_CHECK = "10X98765432"


class TaxIdForm(StrEnum):
    USCC = "uscc"
    PERSONAL_ID = "personal_id"
    LEGACY = "legacy"  # 15, 17 or 20 characters: well-formed by shape only
    INVALID = "invalid"


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a USCC."""
    total = sum(
        USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    value = (value or "").strip().upper()
    if not _USCC_SHAPE.match(value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def is_valid_personal_id(value: str) -> bool:
    """18-character resident ID card number (GB 11643, ISO 7064 MOD 11-2)."""
    value = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_CARD_WEIGHTS, strict=True))
    return _ID_CARD_CHECK[total % 11] == value[17]


def classify_tax_id(value: str) -> TaxIdForm:
    value = (value or "").strip().upper()
    if is_valid_uscc(value):
        return TaxIdForm.USCC
    if is_valid_personal_id(value):
        return TaxIdForm.PERSONAL_ID
    if re.fullmatch(r"[0-9A-Z]{15}|[0-9A-Z]{17}|\d{17}[\dX]\d{2}", value):
        return TaxIdForm.LEGACY
    return TaxIdForm.INVALID
