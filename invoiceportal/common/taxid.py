"""Taxpayer identifiers: the Unified Social Credit Code (GB 32100-2015) and older forms.

Pure functions; see ../shared/domain/einvoice.md section 2. The checks themselves are
python-stdnum's (``stdnum.cn.uscc``, ``stdnum.cn.ric``); this module keeps the portal's
names, its tolerance (surrounding spaces, lower case) and its classification.
"""

from __future__ import annotations

import re
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidFormat, ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")
# GB 32100-2015 registration authorities that are letters (A: the military's
# organisation office, N: agriculture, Y: others); stdnum accepts digits only there.
_LETTER_AUTHORITIES = frozenset("ANY")
_LEGACY_SHAPE = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{17}|\d{17}[\dX]\d{2}")


class TaxIdForm(StrEnum):
    USCC = "uscc"
    PERSONAL_ID = "personal_id"
    LEGACY = "legacy"  # 15, 17 or 20 characters: well-formed by shape only
    INVALID = "invalid"


def _normal(value: str | None) -> str:
    return (value or "").strip().upper()


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a USCC."""
    if len(first17) != 17 or not _USCC_SHAPE.match(first17 + "0"):
        raise ValueError(f"{first17!r} is not 17 characters of the USCC alphabet")
    return uscc.calc_check_digit(first17)


def is_valid_uscc(value: str) -> bool:
    """18 characters of the USCC alphabet, a numeric division code and a correct
    check character."""
    value = _normal(value)
    if not _USCC_SHAPE.match(value):
        return False
    try:
        uscc.validate(value)
    except InvalidFormat:
        # stdnum wants a digit first; GB 32100 also has A, N and Y there.
        return (
            value[0] in _LETTER_AUTHORITIES
            and value[1:8].isdigit()
            and uscc.calc_check_digit(value) == value[17]
        )
    except ValidationError:
        return False
    return True


def is_valid_personal_id(value: str) -> bool:
    """18-character resident ID card number (GB 11643, ISO 7064 MOD 11-2), with a
    real birth date and a known division code."""
    value = _normal(value)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    return ric.is_valid(value)


def classify_tax_id(value: str) -> TaxIdForm:
    value = _normal(value)
    if is_valid_uscc(value):
        return TaxIdForm.USCC
    if is_valid_personal_id(value):
        return TaxIdForm.PERSONAL_ID
    if _LEGACY_SHAPE.fullmatch(value):
        return TaxIdForm.LEGACY
    return TaxIdForm.INVALID
