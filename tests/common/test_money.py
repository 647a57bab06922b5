from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoiceportal.common.money import (
    parse_rate,
    round_half_up,
    to_decimal,
    to_decimal_or_none,
    to_money,
    within,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.125", 2, "0.13"),  # half up, not banker's rounding
        ("0.135", 2, "0.14"),
        ("-0.125", 2, "-0.13"),  # half away from zero for red invoices
        ("251.8302", 2, "251.83"),  # 4197.17 x 6 %
        ("2.5", 0, "3"),
        ("1", 2, "1.00"),
    ],
)
def test_round_half_up(value: str, places: int, expected: str) -> None:
    result = round_half_up(D(value), places)
    assert result == D(expected)
    assert str(result) == expected


def test_round_half_up_refuses_negative_places() -> None:
    with pytest.raises(ValueError):
        round_half_up(D("1"), -1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4449.00", "4449.00"),
        ("¥4,449.00", "4449.00"),
        ("￥4,449.00", "4449.00"),
        ("－46.04", "-46.04"),  # full-width minus from a PDF
        ("４４４９．００", "4449.00"),  # full-width digits
        ("4197.17元", "4197.17"),
        (" 1800 ", "1800"),
        ("人民币100", "100"),
        (".5", "0.5"),
    ],
)
def test_to_decimal_reads_printed_amounts(text: str, expected: str) -> None:
    assert to_decimal(text) == D(expected)


@pytest.mark.parametrize(
    "bad", ["", "abc", "1.2.3", "NaN", "Infinity", "1e5", 1.5, True, None, D("NaN")]
)
def test_to_decimal_refuses_garbage_and_floats(bad: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(bad)  # type: ignore[arg-type]


def test_to_decimal_accepts_int_and_decimal() -> None:
    assert to_decimal(12) == D(12)
    assert to_decimal(D("1.10")) == D("1.10")


@pytest.mark.parametrize("blank", [None, "", "***", " - "])
def test_to_decimal_or_none_blank_cells(blank: str | None) -> None:
    assert to_decimal_or_none(blank) is None


def test_to_decimal_or_none_parses_values() -> None:
    assert to_decimal_or_none("251.83") == D("251.83")


def test_to_money() -> None:
    assert str(to_money("4449")) == "4449.00"
    with pytest.raises(ValueError, match="fractions of a cent"):
        to_money("1.005")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13%", D("0.13")),
        ("0.13", D("0.13")),
        ("6", D("0.06")),
        ("1.5%", D("0.015")),
        ("0%", D("0")),
        ("０.０９", D("0.09")),
        (D("0.10"), D("0.1")),
        ("免税", None),
        ("不征税", None),
        ("***", None),
        (None, None),
    ],
)
def test_parse_rate(text: object, expected: Decimal | None) -> None:
    assert parse_rate(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "101%", "-1%", D("1.5")])
def test_parse_rate_refuses_garbage(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_rate(bad)  # type: ignore[arg-type]


def test_within() -> None:
    assert within(D("1.00"), D("1.06"), D("0.06"))
    assert not within(D("1.00"), D("1.07"), D("0.06"))


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6))
def test_round_half_up_is_within_half_a_cent(value: Decimal) -> None:
    rounded = round_half_up(value)
    assert abs(rounded - value) <= D("0.005")
    assert rounded == rounded.quantize(D("0.01"))
    assert round_half_up(-value) == -rounded  # symmetric around zero
