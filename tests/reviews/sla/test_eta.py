"""Expected completion times and reviewer throughput."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.sla.calendar import (
    add_business_minutes,
    business_minutes_between,
    china_calendar,
    is_working_day,
    is_working_instant,
)
from reviews.sla.eta import (
    EtaBasis,
    EtaEstimate,
    estimate_completion,
    throughput_from_history,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = china_calendar(2026)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def estimate(**overrides: object) -> EtaEstimate:
    kwargs: dict[str, object] = {
        "cal": CAL,
        "now": sh(2026, 3, 2, 10, 0),
        "queue_position": 3,
        "reviewers_throughput_per_business_hour": 6.0,
        "typical_handle_minutes": 20.0,
        "due_at": sh(2026, 3, 3, 10, 0),
        "paused": False,
    }
    kwargs.update(overrides)
    return estimate_completion(**kwargs)  # type: ignore[arg-type]


def bm(a: datetime, b: datetime) -> float:
    return business_minutes_between(CAL, a, b)


# ================================================================ examples


def test_expected_time_is_position_times_gap_plus_handling():
    # 3 decisions at 10 minutes each, then 20 minutes of handling: 50 minutes.
    eta = estimate()

    assert eta.basis is EtaBasis.THROUGHPUT
    assert eta.expected_at == sh(2026, 3, 2, 10, 50)
    assert eta.low is not None and eta.high is not None
    assert eta.low < eta.expected_at < eta.high
    assert eta.due_at == sh(2026, 3, 3, 10, 0)
    assert not eta.likely_late
    assert "3" in eta.message_en and "3" in eta.message_zh


def test_expected_time_skips_lunch_nights_and_holidays():
    assert estimate(now=sh(2026, 3, 2, 11, 30)).expected_at == sh(2026, 3, 2, 13, 20)
    assert estimate(now=sh(2026, 9, 30, 17, 30)).expected_at == sh(2026, 10, 8, 9, 20)
    assert estimate(now=sh(2026, 2, 13, 17, 30)).expected_at == sh(2026, 2, 14, 9, 20)


def test_estimate_made_outside_working_hours_starts_counting_at_the_next_period():
    eta = estimate(now=sh(2026, 3, 7, 15, 0))  # Saturday

    assert eta.expected_at == sh(2026, 3, 9, 9, 50)


def test_invoice_in_hand_expects_half_a_handling_time():
    eta = estimate(queue_position=0)

    assert eta.expected_at == sh(2026, 3, 2, 10, 10)
    assert "working on" in eta.message_en


def test_long_queue_is_flagged_as_likely_late():
    eta = estimate(queue_position=60, due_at=sh(2026, 3, 2, 15, 0))

    assert eta.expected_at is not None and eta.expected_at > sh(2026, 3, 2, 15, 0)
    assert eta.likely_late
    assert "SLA deadline" in eta.message_en


@pytest.mark.parametrize("throughput", [0.0, -3.0, float("nan"), float("inf")])
def test_without_usable_throughput_the_sla_due_time_is_shown(throughput):
    eta = estimate(reviewers_throughput_per_business_hour=throughput)

    assert eta.basis is EtaBasis.SLA_DUE
    assert eta.expected_at == sh(2026, 3, 3, 10, 0)
    assert eta.low is None and eta.high is None
    assert "SLA deadline" in eta.message_en
    assert "SLA" in eta.message_zh


def test_without_throughput_or_due_time_there_is_no_estimate():
    eta = estimate(reviewers_throughput_per_business_hour=0.0, due_at=None)

    assert eta.basis is EtaBasis.UNKNOWN
    assert eta.expected_at is None
    assert not eta.likely_late


def test_without_throughput_and_past_the_deadline_no_past_time_is_promised():
    eta = estimate(
        now=sh(2026, 3, 4, 10, 0),
        reviewers_throughput_per_business_hour=0.0,
        due_at=sh(2026, 3, 3, 10, 0),
    )

    assert eta.basis is EtaBasis.UNKNOWN
    assert eta.expected_at is None
    assert eta.likely_late
    assert "passed" in eta.message_en


def test_paused_invoice_has_no_estimate_and_says_why():
    eta = estimate(paused=True, due_at=None)

    assert eta.basis is EtaBasis.PAUSED
    assert eta.expected_at is None and eta.low is None and eta.high is None
    assert "paused" in eta.message_en
    assert "暂停" in eta.message_zh


def test_paused_wins_over_zero_throughput():
    eta = estimate(paused=True, reviewers_throughput_per_business_hour=0.0)

    assert eta.basis is EtaBasis.PAUSED


def test_due_time_in_another_timezone_is_reported_in_the_calendar_timezone():
    due = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

    eta = estimate(due_at=due)

    assert eta.due_at == due
    assert eta.due_at is not None and eta.due_at.tzinfo == SH


@pytest.mark.parametrize(
    "overrides",
    [
        {"queue_position": -1},
        {"typical_handle_minutes": -1.0},
        {"typical_handle_minutes": float("nan")},
        {"now": datetime(2026, 3, 2, 10, 0)},
    ],
)
def test_bad_inputs_are_rejected(overrides):
    with pytest.raises(ValueError):
        estimate(**overrides)


# ============================================================== throughput


def test_throughput_counts_decisions_in_the_business_window():
    # 8 business hours before Monday 10:00 begin on Friday 10:00.
    decisions = [
        sh(2026, 3, 6, 9, 59),  # before the window
        sh(2026, 3, 6, 10, 0),  # the window is open at its start
        sh(2026, 3, 6, 15, 0),
        sh(2026, 3, 7, 11, 0),  # Saturday overtime still counts
        sh(2026, 3, 9, 10, 0),  # the window is closed at its end
        sh(2026, 3, 9, 10, 1),  # after the window
    ]

    rate = throughput_from_history(decisions, CAL, sh(2026, 3, 9, 10, 0), 8)

    assert rate == 3 / 8


def test_throughput_window_skips_holidays():
    # 4 business hours before 2026-10-08 10:00: 09:00-10:00, then Sep 30 15:00-18:00.
    decisions = [sh(2026, 9, 30, 14, 59), sh(2026, 9, 30, 15, 30), sh(2026, 10, 3)]

    assert throughput_from_history(decisions, CAL, sh(2026, 10, 8, 10, 0), 4) == 0.5


def test_throughput_of_no_decisions_is_zero():
    assert throughput_from_history([], CAL, sh(2026, 3, 9, 10, 0), 8) == 0


@pytest.mark.parametrize("hours", [0, -1, float("nan")])
def test_throughput_window_must_be_positive(hours):
    with pytest.raises(ValueError):
        throughput_from_history([], CAL, sh(2026, 3, 9, 10, 0), hours)


# ============================================================== properties

working_instants = st.builds(
    lambda d, m: add_business_minutes(CAL, d, m),
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2026, 12, 20),
        timezones=st.just(SH),
    ),
    st.integers(min_value=1, max_value=480),
)
positions = st.integers(min_value=0, max_value=200)
rates = st.floats(min_value=0.05, max_value=100, allow_nan=False)
handles = st.floats(min_value=0, max_value=240, allow_nan=False)


def _on_business_time(t: datetime) -> bool:
    local = t.astimezone(SH)
    at_end = (local.hour, local.minute, local.second, local.microsecond) in {
        (12, 0, 0, 0),
        (18, 0, 0, 0),
    }
    return is_working_instant(CAL, t) or (at_end and is_working_day(CAL, local.date()))


@settings(deadline=None, max_examples=150)
@given(now=working_instants, p=positions, rate=rates, handle=handles)
def test_band_is_ordered_and_never_in_the_past(now, p, rate, handle):
    eta = estimate(
        now=now,
        queue_position=p,
        reviewers_throughput_per_business_hour=rate,
        typical_handle_minutes=handle,
    )

    assert eta.expected_at is not None and eta.low is not None and eta.high is not None
    assert now <= eta.low <= eta.expected_at <= eta.high


@settings(deadline=None, max_examples=150)
@given(now=working_instants, p=positions, rate=rates, handle=handles)
def test_expected_business_minutes_follow_the_model(now, p, rate, handle):
    eta = estimate(
        now=now,
        queue_position=p,
        reviewers_throughput_per_business_hour=rate,
        typical_handle_minutes=handle,
    )

    assert eta.expected_at is not None
    model = handle / 2 if p == 0 else p * 60 / rate + handle
    assert math.isclose(bm(now, eta.expected_at), model, rel_tol=1e-9, abs_tol=1e-4)
    assert eta.expected_at == now or _on_business_time(eta.expected_at)


@settings(deadline=None, max_examples=150)
@given(now=working_instants, p1=positions, p2=positions, rate=rates, handle=handles)
def test_further_back_in_the_queue_is_later_or_equal(now, p1, p2, rate, handle):
    lo, hi = sorted((p1, p2))
    a = estimate(
        now=now,
        queue_position=lo,
        reviewers_throughput_per_business_hour=rate,
        typical_handle_minutes=handle,
    )
    b = estimate(
        now=now,
        queue_position=hi,
        reviewers_throughput_per_business_hour=rate,
        typical_handle_minutes=handle,
    )

    assert a.expected_at <= b.expected_at
    assert a.high <= b.high


@settings(deadline=None, max_examples=150)
@given(now=working_instants, p=positions, r1=rates, r2=rates, handle=handles)
def test_faster_reviewers_are_earlier_or_equal(now, p, r1, r2, handle):
    slow, fast = sorted((r1, r2))
    a = estimate(
        now=now,
        queue_position=p,
        reviewers_throughput_per_business_hour=slow,
        typical_handle_minutes=handle,
    )
    b = estimate(
        now=now,
        queue_position=p,
        reviewers_throughput_per_business_hour=fast,
        typical_handle_minutes=handle,
    )

    assert b.expected_at <= a.expected_at


@settings(deadline=None, max_examples=100)
@given(
    now=working_instants,
    p=positions,
    rate=rates,
    handle=handles,
    due_offset=st.integers(min_value=1, max_value=5000),
)
def test_likely_late_means_expected_after_the_due_time(
    now, p, rate, handle, due_offset
):
    due = add_business_minutes(CAL, now, due_offset)

    eta = estimate(
        now=now,
        queue_position=p,
        reviewers_throughput_per_business_hour=rate,
        typical_handle_minutes=handle,
        due_at=due,
    )

    assert eta.expected_at is not None
    assert eta.likely_late == (eta.expected_at > due)


@settings(deadline=None, max_examples=100)
@given(
    end=working_instants,
    offsets=st.lists(st.integers(min_value=-30 * 24 * 60, max_value=24 * 60)),
    hours=st.integers(min_value=1, max_value=80),
)
def test_throughput_counts_exactly_the_decisions_inside_the_window(end, offsets, hours):
    decisions = [end + timedelta(minutes=o) for o in offsets]

    rate = throughput_from_history(decisions, CAL, end, hours)

    # The window is (start, end] with start the latest instant H business hours
    # back; equivalently, a decision is inside when it is not after the end and less
    # than H business hours before it.
    inside = [t for t in decisions if t <= end and bm(t, end) < 60 * hours]
    assert rate * hours == pytest.approx(len(inside))
