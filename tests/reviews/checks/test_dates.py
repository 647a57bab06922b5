from __future__ import annotations

import datetime as dt

import pytest

from reviews.checks.base import Outcome
from reviews.checks.dates import (
    DEFAULT_AGE_PARAMS,
    DEFAULT_FUTURE_PARAMS,
    check_max_age,
    check_not_future,
)

from . import TODAY, context, digital_special


def on(delta_days: int):
    return digital_special(issue_date=TODAY + dt.timedelta(days=delta_days))


@pytest.mark.parametrize(
    ("delta", "ok"), [(-400, True), (0, True), (1, False), (30, False)]
)
def test_not_future(delta: int, ok: bool) -> None:
    result = check_not_future(on(delta), context(), DEFAULT_FUTURE_PARAMS)
    assert result.outcome is (Outcome.PASS if ok else Outcome.FAIL)


def test_future_message_and_grace() -> None:
    result = check_not_future(on(1), context(), DEFAULT_FUTURE_PARAMS)
    assert "2024-06-04" in result.message_en and "after today" in result.message_en
    assert "重新开具" in result.message_zh
    assert check_not_future(on(1), context(), {"grace_days": 1}).outcome is Outcome.PASS


def test_not_future_skipped_without_date() -> None:
    inv = digital_special(issue_date=None)
    assert (
        check_not_future(inv, context(), DEFAULT_FUTURE_PARAMS).outcome
        is Outcome.SKIPPED
    )


@pytest.mark.parametrize(("delta", "ok"), [(0, True), (-365, True), (-366, False)])
def test_max_age(delta: int, ok: bool) -> None:
    result = check_max_age(on(delta), context(), DEFAULT_AGE_PARAMS)
    assert result.outcome is (Outcome.PASS if ok else Outcome.FAIL)


def test_max_age_is_a_parameter_and_explains() -> None:
    result = check_max_age(on(-31), context(), {"max_age_days": 30})
    assert result.outcome is Outcome.FAIL
    assert result.details == {"age_days": 31, "max_age_days": 30}
    assert "explain the delay" in result.message_en


def test_missing_date_fails_age_check() -> None:
    inv = digital_special(issue_date=None)
    result = check_max_age(inv, context(), DEFAULT_AGE_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert "could not be read" in result.message_en
