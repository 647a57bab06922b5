"""Amounts in Chinese capitals: every example of domain/einvoice.md section 6, the
rule breaks of real prints, garbage, and round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoiceportal.common.capitals import amount_to_capitals, parse_capitals

D = Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("壹仟肆佰零玖元伍角", "1409.50"),
        ("陆仟零柒元壹角肆分", "6007.14"),
        ("壹万陆仟肆佰零玖元零贰分", "16409.02"),
        ("壹仟陆佰捌拾元零叁角贰分", "1680.32"),
        ("壹仟陆佰捌拾元叁角贰分", "1680.32"),  # the optional 零 left out
        ("肆仟肆佰肆拾玖圆整", "4449.00"),  # real 数电专票
        ("⊗肆拾陆圆肆分", "-46.04"),  # real legacy red print breaking the 零 rule
        ("（负数）肆仟肆佰肆拾玖圆整", "-4449.00"),
        ("(负数)肆仟肆佰肆拾玖圆整", "-4449.00"),  # ASCII brackets
        ("肆仟肆佰肆拾玖元正", "4449.00"),  # 正 for 整
        ("壹仟肆佰零玖元伍角整", "1409.50"),  # 整 after 角 is optional
        ("壹拾元整", "10.00"),
        ("拾伍元整", "15.00"),  # bare 拾 at the start
        ("伍角", "0.50"),
        ("零元伍角", "0.50"),
        ("伍分", "0.05"),
        ("零圆整", "0.00"),
        ("壹拾万柒仟元零伍角叁分", "107000.53"),
        ("壹拾万零柒仟元伍角叁分", "107000.53"),  # the other optional 零
        ("壹万伍元整", "10005.00"),  # missing 零 across 万: still unambiguous
        ("壹仟伍拾元整", "1050.00"),  # missing inner 零: still unambiguous
        ("壹亿零伍仟元整", "100005000.00"),
        ("壹亿壹仟万元整", "110000000.00"),
        ("玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分", "999999999999.99"),
        (" 肆仟 肆佰肆拾玖圆整 ", "4449.00"),  # stray spaces from PDF text
        ("壹元零角伍分", "1.05"),
        ("人民币壹佰元整", "100.00"),
    ],
)
def test_parse_capitals_reads_rules_and_real_prints(text: str, expected: str) -> None:
    assert parse_capitals(text) == D(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "整",
        "元",
        "abc",
        "4449.00",
        "壹壹元",  # two digits with no unit
        "壹佰伍元",  # 150 or 105? refused
        "壹元伍",  # a digit after 元 without 角 or 分
        "伍分伍角",  # 角 after 分
        "拾佰元",  # units in the wrong order
        "壹仟零伍佰元",  # 零 where no digit is missing
        "壹元整伍角",  # 整 in the middle
        "壹万万元",
        "壹元贰元",
        "壹佰",  # no 元, 角 or 分
        "壹佰零元",  # trailing 零
        "伍零元",
        "零壹拾元",  # leading 零 with nothing above it
        "壹亿零万元",
        "肆仟肆佰肆拾玖美元",
    ],
)
def test_parse_capitals_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount in capitals"):
        parse_capitals(text)


def test_parse_capitals_refuses_non_text() -> None:
    with pytest.raises(ValueError):
        parse_capitals(4449)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1409.50", "壹仟肆佰零玖圆伍角"),
        ("6007.14", "陆仟零柒圆壹角肆分"),
        ("16409.02", "壹万陆仟肆佰零玖圆零贰分"),
        ("1680.32", "壹仟陆佰捌拾圆零叁角贰分"),
        ("4449.00", "肆仟肆佰肆拾玖圆整"),
        ("4449", "肆仟肆佰肆拾玖圆整"),
        ("-46.04", "（负数）肆拾陆圆零肆分"),
        ("10", "壹拾圆整"),
        ("0", "零圆整"),
        ("0.50", "伍角"),
        ("0.05", "伍分"),
        ("100005000", "壹亿零伍仟圆整"),
        ("100010000", "壹亿零壹万圆整"),
        ("1500010", "壹佰伍拾万零壹拾圆整"),
        ("107000.53", "壹拾万柒仟圆零伍角叁分"),
        ("100700", "壹拾万零柒佰圆整"),
        ("1001", "壹仟零壹圆整"),
    ],
)
def test_amount_to_capitals_writes_the_canonical_form(
    amount: str, expected: str
) -> None:
    assert amount_to_capitals(D(amount)) == expected


def test_amount_to_capitals_options() -> None:
    assert amount_to_capitals(D("1409.50"), yuan="元") == "壹仟肆佰零玖元伍角"
    assert amount_to_capitals(D("-46.04"), negative_prefix="⊗") == "⊗肆拾陆圆零肆分"
    with pytest.raises(ValueError):
        amount_to_capitals(D("1"), yuan="块")


@pytest.mark.parametrize(
    "bad", [D("1.005"), D("NaN"), D("Infinity"), D("1000000000000"), 12.5]
)
def test_amount_to_capitals_refuses_what_it_cannot_write(bad: object) -> None:
    with pytest.raises(ValueError):
        amount_to_capitals(bad)  # type: ignore[arg-type]


amounts = st.decimals(
    min_value=D("-999999999999.99"),
    max_value=D("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(amounts)
def test_round_trip(amount: Decimal) -> None:
    assert parse_capitals(amount_to_capitals(amount)) == amount


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(0, 99))
def test_round_trip_integers_and_cents(yuan: int, cents: int) -> None:
    amount = D(yuan) + D(cents) / 100
    assert parse_capitals(amount_to_capitals(amount, yuan="元")) == amount


@given(amounts)
def test_tolerated_variants_read_the_same(amount: Decimal) -> None:
    """Real prints drop the 零 before 角/分, write 元, add 整 after 角, use ⊗."""
    canonical = amount_to_capitals(amount, negative_prefix="⊗")
    variants = {
        canonical.replace("圆", "元"),
        canonical.replace("圆零", "圆"),
        canonical + "整" if canonical.endswith("角") else canonical,
    }
    for text in variants:
        assert parse_capitals(text) == amount, text


@given(amounts, amounts)
def test_different_amounts_give_different_capitals(a: Decimal, b: Decimal) -> None:
    if a != b:
        assert amount_to_capitals(a) != amount_to_capitals(b)
