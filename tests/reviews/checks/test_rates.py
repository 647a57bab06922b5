from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reviews.checks.base import Outcome
from reviews.checks.rates import (
    DEFAULT_CATEGORY_PARAMS,
    DEFAULT_RATE_PARAMS,
    check_category_rate,
    check_rate_for_date,
    line_category,
)

from . import context, digital_special, line

D = Decimal


def on(day: str, *rates: str | None, exempt: bool = False):
    return digital_special(
        issue_date=dt.date.fromisoformat(day),
        lines=[
            line(
                name="*信息技术服务*软件",
                amount=D("100"),
                tax_rate=None if r is None else D(r),
                tax_exempt=exempt,
            )
            for r in rates
        ],
    )


@pytest.mark.parametrize(
    ("day", "rate", "ok"),
    [
        ("2019-04-01", "0.13", True),
        ("2019-04-01", "0.09", True),
        ("2019-04-01", "0.06", True),
        ("2019-04-01", "0", True),
        ("2019-03-31", "0.13", False),
        ("2019-03-31", "0.16", True),
        ("2019-04-01", "0.16", False),
        ("2018-05-01", "0.10", True),
        ("2018-04-30", "0.10", False),
        ("2018-04-30", "0.17", True),
        ("2018-04-30", "0.11", True),
        ("2018-05-01", "0.17", False),
        ("2026-01-01", "0.13", True),  # VAT Law, same rates
        ("2024-05-28", "0.03", True),
        ("2024-05-28", "0.05", True),
        ("2024-05-28", "0.015", True),
        ("2024-05-28", "0.01", True),
        ("2027-12-31", "0.01", True),
        ("2028-01-01", "0.01", False),  # reduced levy rate runs out
        ("2019-06-01", "0.01", False),
        ("2024-05-28", "0.02", False),  # [U]: review, not silently accepted
        ("2024-05-28", "0.17", False),
    ],
)
def test_rate_valid_for_issue_date(day: str, rate: str, ok: bool) -> None:
    result = check_rate_for_date(on(day, rate), context(), DEFAULT_RATE_PARAMS)
    assert result.outcome is (Outcome.PASS if ok else Outcome.FAIL), result.details


def test_failure_names_the_line_and_the_rate() -> None:
    result = check_rate_for_date(
        on("2024-05-28", "0.06", "0.16"), context(), DEFAULT_RATE_PARAMS
    )
    assert result.outcome is Outcome.FAIL
    assert "line 2: 16%" in result.message_en
    assert "第2行16%" in result.message_zh
    assert "ask for a corrected invoice" in result.message_en


def test_missing_rate_fails_and_exempt_passes() -> None:
    missing = check_rate_for_date(
        on("2024-05-28", None), context(), DEFAULT_RATE_PARAMS
    )
    assert missing.outcome is Outcome.FAIL
    assert "not read" in missing.message_en
    exempt = on("2024-05-28", None, exempt=True)
    assert (
        check_rate_for_date(exempt, context(), DEFAULT_RATE_PARAMS).outcome
        is Outcome.PASS
    )


def test_rate_periods_are_a_parameter() -> None:
    params = {"periods": [{"from": None, "until": None, "rates": ["0.02"]}]}
    result = check_rate_for_date(on("2024-05-28", "0.02"), context(), params)
    assert result.outcome is Outcome.PASS


def test_skipped_without_date_or_lines() -> None:
    no_date = digital_special(issue_date=None)
    assert (
        check_rate_for_date(no_date, context(), DEFAULT_RATE_PARAMS).outcome
        is Outcome.SKIPPED
    )


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("*餐饮服务*餐费", "餐饮服务"),
        (" *运输服务*客运服务费", "运输服务"),
        ("餐费", ""),
        ("**", ""),
        ("", ""),
    ],
)
def test_line_category(name: str, category: str) -> None:
    assert line_category(name) == category


def category_line(name: str, rate: str, day: str = "2024-05-28"):
    return digital_special(
        issue_date=dt.date.fromisoformat(day),
        lines=[line(name=name, amount=D("100"), tax_rate=D(rate))],
    )


@pytest.mark.parametrize(
    ("name", "rate", "ok"),
    [
        ("*餐饮服务*餐费", "0.06", True),
        ("*餐饮服务*餐费", "0.13", False),
        ("*餐饮服务*餐费", "0.03", True),  # small-scale levy rate: no conflict
        ("*餐饮服务*餐费", "0.01", True),
        ("*运输服务*客运服务费", "0.09", True),
        ("*运输服务*客运服务费", "0.10", True),  # 2018 rate
        ("*运输服务*客运服务费", "0.06", False),
        ("*有形动产租赁服务*车辆租赁", "0.13", True),
        ("*有形动产租赁服务*车辆租赁", "0.09", False),
        ("*信息技术服务*软件服务费", "0.06", True),
        ("*某新类别*东西", "0.13", True),  # unknown category: no opinion
        ("没有类别的名称", "0.13", True),
    ],
)
def test_category_rate(name: str, rate: str, ok: bool) -> None:
    result = check_category_rate(
        category_line(name, rate), context(), DEFAULT_CATEGORY_PARAMS
    )
    assert result.outcome is (Outcome.PASS if ok else Outcome.FAIL)


def test_category_mismatch_message_and_parameters() -> None:
    inv = category_line("*餐饮服务*餐费", "0.13")
    result = check_category_rate(inv, context(), DEFAULT_CATEGORY_PARAMS)
    assert "餐饮服务" in result.message_en and "13%" in result.message_en
    assert result.details["lines"][0]["expected"] == ["0.06"]
    params = {"categories": {"餐饮服务": ["0.06", "0.13"]}, "neutral_rates": []}
    assert check_category_rate(inv, context(), params).outcome is Outcome.PASS
