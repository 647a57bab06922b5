"""Amounts in Chinese capitals (大写), domain/einvoice.md section 6.

``amount_to_capitals`` writes the canonical form; ``capitals_to_amount`` reads
any of the allowed forms (and the rule-breaking real prints) back into a
number, so tests compare numbers, never strings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_SECTION_UNITS = ("", "万", "亿", "万亿")
RED_PREFIX = "（负数）"


def _section(value: int) -> str:
    """Write 1..9999 with one 零 per run of inner zeros and no trailing zeros."""
    out: list[str] = []
    digits = f"{value:04d}"
    pending_zero = False
    started = False
    for pos, ch in enumerate(digits):
        d = int(ch)
        unit = _SMALL_UNITS[3 - pos]
        if d == 0:
            if started:
                pending_zero = True
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[d] + unit)
        started = True
    return "".join(out)


def _integer(value: int) -> str:
    if value == 0:
        return "零"
    sections: list[int] = []
    while value:
        sections.append(value % 10000)
        value //= 10000
    if len(sections) > len(_SECTION_UNITS):
        raise ValueError("amount too large")
    out: list[str] = []
    need_zero = False
    for idx in range(len(sections) - 1, -1, -1):
        sec = sections[idx]
        if sec == 0:
            if out:
                need_zero = True
            continue
        if out and (need_zero or sec < 1000):
            out.append("零")
        out.append(_section(sec) + _SECTION_UNITS[idx])
        need_zero = False
    return "".join(out)


def amount_to_capitals(
    amount: Decimal,
    *,
    yuan: str = "圆",
    whole: str = "整",
    red_prefix: str = RED_PREFIX,
) -> str:
    """Canonical capitals for ``amount``; negative amounts get ``red_prefix``.

    >>> amount_to_capitals(Decimal("16409.02"), yuan="元")
    '壹万陆仟肆佰零玖元零贰分'
    """
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    prefix = red_prefix if value < 0 else ""
    value = abs(value)
    cents = int(value * 100)
    integer, jiao, fen = cents // 100, (cents // 10) % 10, cents % 10
    head = "" if integer == 0 and (jiao or fen) else _integer(integer) + yuan
    if not jiao and not fen:
        return prefix + head + whole
    tail = ""
    if jiao:
        # the 元 digit is 0 (and there is an integer part): write the optional 零
        if integer and integer % 10 == 0:
            tail += "零"
        tail += DIGITS[jiao] + "角"
    elif integer:
        tail += "零"
    if fen:
        tail += DIGITS[fen] + "分"
    return prefix + head + tail


_UNIT_VALUES = {"拾": 10, "佰": 100, "仟": 1000}


def capitals_to_amount(text: str) -> Decimal | None:
    """Read capitals (any allowed variant, red prefixes, 元/圆, 整/正) into a number."""
    s = (text or "").strip().replace(" ", "")
    negative = False
    for marker in ("（负数）", "(负数)", "负数", "⊗", "负"):
        if s.startswith(marker):
            negative = True
            s = s[len(marker) :]
    s = s.rstrip("整正")
    if not s:
        return None
    integer_part, _, frac_part = s.replace("圆", "元").partition("元")
    if "元" not in s.replace("圆", "元"):
        integer_part, frac_part = "", s
    try:
        integer = _read_integer(integer_part)
        cents = _read_fraction(frac_part)
    except (KeyError, ValueError):
        return None
    value = Decimal(integer) + Decimal(cents) / 100
    return -value if negative else value


def _read_integer(text: str) -> int:
    total = mid = section = digit = 0  # 亿 multiples, 万 multiples, below 万
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch in _UNIT_VALUES:
            section += (digit or 1) * _UNIT_VALUES[ch]
            digit = 0
        elif ch == "万":
            mid = (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + mid + section + digit) * 100_000_000
            mid = section = digit = 0
        else:
            raise ValueError(ch)
    return total + mid + section + digit


def _read_fraction(text: str) -> int:
    cents = 0
    digit = 0
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS.index(ch)
        elif ch == "角":
            cents += digit * 10
            digit = 0
        elif ch == "分":
            cents += digit
            digit = 0
        else:
            raise ValueError(ch)
    return cents
