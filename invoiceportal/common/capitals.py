"""Amounts in Chinese capitals (大写金额), as printed on invoices and cheques.

``parse_capitals`` reads what real invoices print, including their rule breaks
(``⊗肆拾陆圆肆分`` for -46.04: the 零 before 分 is missing), and refuses text whose
meaning is ambiguous or unknown. ``amount_to_capitals`` writes the canonical form of
the central bank's rules (see ../shared/domain/einvoice.md section 6). Compare amounts
as numbers, never as strings.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_DIGIT_VALUE = {ch: i for i, ch in enumerate(DIGITS)}
# Some prints use the everyday characters; NFKC does not map them, so do it here.
_VARIANTS = str.maketrans({"两": "贰", "〇": "零", "圓": "圆", "萬": "万", "億": "亿"})
_SMALL_UNITS = {"拾": 1, "佰": 2, "仟": 3}
_SMALL_UNIT_CHARS = "仟佰拾"
NEGATIVE_PREFIX = "（负数）"
_NEGATIVE_PREFIXES = ("(负数)", "⊗", "ⓧ", "负数", "负", "-")
_FRACTION = re.compile(
    r"^零?(?:(?P<jiao>[零壹贰叁肆伍陆柒捌玖])角)?零?(?:(?P<fen>[零壹贰叁肆伍陆柒捌玖])分)?$"
)
MAX_AMOUNT = Decimal("999999999999.99")  # below 万亿


def _fail(text: str, why: str) -> ValueError:
    return ValueError(f"not an amount in capitals ({why}): {text!r}")


def _parse_section(part: str, text: str, *, allow_leading_zero: bool) -> int:
    """A run below 万 (0 to 9999): ``壹仟零伍拾``, ``拾伍``, ``零玖``."""
    body = part.lstrip("零")
    if body != part and not allow_leading_zero:
        raise _fail(text, "leading 零")
    if not body:
        raise _fail(text, "empty group")
    value = 0
    last_rank = 4  # above 仟
    digit: int | None = None
    zero_seen = False
    for index, ch in enumerate(body):
        if ch in _DIGIT_VALUE and ch != "零":
            if digit is not None:
                raise _fail(text, "two digits without a unit")
            digit = _DIGIT_VALUE[ch]
        elif ch == "零":
            if digit is not None or zero_seen:
                raise _fail(text, "零 in the wrong place")
            zero_seen = True
        elif ch in _SMALL_UNITS:
            rank = _SMALL_UNITS[ch]
            if rank >= last_rank:
                raise _fail(text, "units out of order")
            if zero_seen and rank == last_rank - 1:
                raise _fail(text, "零 where no digit is missing")
            if digit is None:
                # A bare 拾 opens a number: 拾伍 = 15.
                if not (ch == "拾" and index == 0):
                    raise _fail(text, "unit without a digit")
                digit = 1
            value += digit * 10**rank
            last_rank = rank
            digit = None
            zero_seen = False
        else:
            raise _fail(text, f"unexpected {ch!r}")
    if zero_seen and digit is None:
        raise _fail(text, "trailing 零")
    if digit is not None:
        # 壹佰伍 could mean 150 or 105: refuse unless the position is unambiguous.
        if value and last_rank > 1 and not zero_seen:
            raise _fail(text, "digit without a unit")
        value += digit
    return value


def _parse_integer(part: str, text: str) -> int:
    if part == "零":
        return 0
    total = 0
    rest = part
    higher = False
    for unit, scale in (("亿", 10**8), ("万", 10**4)):
        if unit in rest:
            head, _, rest = rest.partition(unit)
            if unit in rest:
                raise _fail(text, f"{unit} twice")
            group = _parse_section(head, text, allow_leading_zero=higher)
            if group == 0:
                raise _fail(text, f"nothing before {unit}")
            total += group * scale
            higher = True
    if rest:
        total += _parse_section(rest, text, allow_leading_zero=higher)
    elif not higher:
        raise _fail(text, "no digits before 元")
    return total


def parse_capitals(text: str) -> Decimal:
    """``肆仟肆佰肆拾玖圆整`` -> ``Decimal("4449.00")``; red prefixes give a negative.

    Raises ``ValueError`` when the text is not an amount in capitals.
    """
    if not isinstance(text, str):
        raise _fail(str(text), "not text")
    s = unicodedata.normalize("NFKC", text).translate(_VARIANTS)
    s = "".join(s.split())
    negative = False
    for prefix in _NEGATIVE_PREFIXES:
        if s.startswith(prefix):
            negative = True
            s = s[len(prefix) :]
            break
    s = s.removeprefix("人民币")
    if s.endswith(("整", "正")):
        # The rules forbid 整 after 分, but its meaning is clear: tolerate it.
        s = s[:-1]
    if not s:
        raise _fail(text, "empty")
    s = s.replace("圆", "元")
    if s.count("元") > 1:
        raise _fail(text, "元 twice")
    if "元" in s:
        integer_part, _, fraction_part = s.partition("元")
        if not integer_part:
            raise _fail(text, "no digits before 元")
        yuan = _parse_integer(integer_part, text)
    else:
        if "角" not in s and "分" not in s:
            raise _fail(text, "no 元, 角 or 分")
        integer_part, fraction_part, yuan = "", s, 0
    jiao = fen = 0
    if fraction_part:
        match = _FRACTION.match(fraction_part)
        if not match or not (match["jiao"] or match["fen"]):
            raise _fail(text, "bad 角/分 part")
        jiao = _DIGIT_VALUE[match["jiao"]] if match["jiao"] else 0
        fen = _DIGIT_VALUE[match["fen"]] if match["fen"] else 0
    amount = Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100
    amount = amount.quantize(Decimal("0.01"))
    return -amount if negative else amount


def _section_to_capitals(value: int) -> str:
    """0 < value < 10000, with one 零 per run of inner zeros and none at the end."""
    out: list[str] = []
    pending_zero = False
    for rank, unit in zip((3, 2, 1, 0), (*_SMALL_UNIT_CHARS, ""), strict=True):
        d = value // 10**rank % 10
        if d == 0:
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[d] + unit)
    return "".join(out)


def _integer_to_capitals(value: int) -> str:
    groups = [
        (value // 10**8, "亿"),
        (value // 10**4 % 10**4, "万"),
        (value % 10**4, ""),
    ]
    out: list[str] = []
    pending_zero = False
    for group, unit in groups:
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out.append("零")
        out.append(_section_to_capitals(group) + unit)
        pending_zero = False
    return "".join(out)


def amount_to_capitals(
    amount: Decimal, *, yuan: str = "圆", negative_prefix: str = NEGATIVE_PREFIX
) -> str:
    """The canonical capitals for an amount of at most two decimal places.

    ``Decimal("4449.00") -> "肆仟肆佰肆拾玖圆整"``;
    ``Decimal("-46.04") -> "（负数）肆拾陆圆零肆分"``. Raises ``ValueError`` for
    fractions of a cent, non-finite values and amounts of 万亿 or more.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"not a finite Decimal: {amount!r}")
    if yuan not in ("元", "圆"):
        raise ValueError("yuan must be 元 or 圆")
    cents_exact = amount * 100
    if cents_exact != cents_exact.to_integral_value():
        raise ValueError(f"fractions of a cent: {amount}")
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"amount too large for capitals: {amount}")
    cents = int(abs(cents_exact))
    integer, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    prefix = negative_prefix if amount < 0 else ""
    if integer == 0:
        if jiao == fen == 0:
            return f"零{yuan}整"
        head = ""
    else:
        head = _integer_to_capitals(integer) + yuan
    if jiao == fen == 0:
        return f"{prefix}{head}整"
    tail = ""
    if jiao:
        # 元 digit 0 before a 角: the 零 is optional; the canonical form writes it.
        if integer and integer % 10 == 0:
            tail += "零"
        tail += DIGITS[jiao] + "角"
    elif integer:
        tail += "零"  # 角 is 0 but 分 is not: 零 after 元 is required
    if fen:
        tail += DIGITS[fen] + "分"
    return f"{prefix}{head}{tail}"
