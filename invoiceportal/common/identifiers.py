"""Identifiers (tax IDs, invoice codes and numbers) cleaned of what a person cannot see.

A tax ID or an invoice number is ASCII letters and digits. What else arrives in one
is either formatting (full-width digits from a Chinese input method, spaces) or an
attempt to slip past an exact comparison (a zero-width space, a soft hyphen, a word
joiner, a direction mark, a Cyrillic К for a Latin K): the blocklist, the duplicate
index and the registry all compare identifiers exactly. Pure functions, no Django.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Why a value changed; stable codes (the caller translates them).
COMPATIBILITY = "compatibility_forms"  # NFKC: full-width letters and digits
INVISIBLE = "invisible_characters"  # format characters, controls, combining marks
SPACES = "spaces"
LOOK_ALIKES = "look_alikes"  # Cyrillic or Greek letters, non-ASCII digits
CASE = "lower_case"

# Cyrillic and Greek capitals and small letters that look like a Latin capital
# (Unicode confusables, restricted to what an 18-character tax ID can contain).
_LOOK_ALIKES = {
    # Cyrillic
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I",
    "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I", "З": "3", "Ч": "4",
    "а": "A", "в": "B", "е": "E", "к": "K", "м": "M", "н": "H", "о": "O",
    "р": "P", "с": "C", "т": "T", "у": "Y", "х": "X", "ѕ": "S", "і": "I",
    "ј": "J", "ԛ": "Q", "ԝ": "W", "ү": "Y", "ӏ": "I",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "A", "β": "B", "ε": "E", "ι": "I", "κ": "K", "ν": "V", "ο": "O",
    "ρ": "P", "τ": "T", "υ": "U", "χ": "X",
}  # fmt: skip
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn", "Mn", "Me", "Mc"})


@dataclass(frozen=True)
class CleanedIdentifier:
    value: str
    reasons: tuple[str, ...]  # in the order of the codes above; empty when unchanged


def _look_alike(ch: str) -> str | None:
    if ch in _LOOK_ALIKES:
        return _LOOK_ALIKES[ch]
    if not ch.isascii() and unicodedata.category(ch) == "Nd":
        return str(unicodedata.decimal(ch))  # Arabic-Indic, Devanagari... digits
    return None


def clean_identifier(value: str) -> CleanedIdentifier:
    """``value`` as ASCII capitals and digits where it can be: NFKC, format and
    control characters and spaces removed, look-alike letters mapped to Latin,
    upper case. Surrounding whitespace is trimmed without being a reason. What is
    still not ASCII afterwards is kept, for the format checks to reject."""
    original = (value or "").strip()
    reasons: list[str] = []
    text = unicodedata.normalize("NFKC", original)
    if text != original:
        reasons.append(COMPATIBILITY)
    kept: list[str] = []
    invisible = spaces = look_alikes = False
    for ch in text:
        if ch.isspace():
            spaces = True
            continue
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES:
            invisible = True
            continue
        latin = _look_alike(ch)
        if latin is not None:
            look_alikes = True
            ch = latin
        kept.append(ch)
    text = "".join(kept)
    if invisible:
        reasons.append(INVISIBLE)
    if spaces:
        reasons.append(SPACES)
    if look_alikes:
        reasons.append(LOOK_ALIKES)
    if text != text.upper():
        reasons.append(CASE)
        text = text.upper()
    return CleanedIdentifier(text, tuple(reasons))


def visible(value: str, limit: int = 80) -> str:
    """``value`` with every non-printable or non-ASCII character spelled out
    (``\\u200b``), so a reviewer sees what was there."""
    out = []
    for ch in value[:limit]:
        out.append(ch if ch.isascii() and ch.isprintable() else f"\\u{ord(ch):04x}")
    return "".join(out)
