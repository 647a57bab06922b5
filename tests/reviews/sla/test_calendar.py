"""Business calendar and SLA arithmetic: examples, the 2026 data, and properties."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reviews.sla.calendar import (
    DATA_DIR,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    business_time_between,
    china_calendar,
    due_at,
    elapsed_business_minutes,
    is_working_day,
    is_working_instant,
    load_calendar_data,
    load_holiday_entries,
    next_working_instant,
    percent_elapsed,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
CAL = china_calendar(2026)
PLAIN = BusinessCalendar()  # no holidays: only weekends off


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# --------------------------------------------------------------- an oracle
# An independent, deliberately naive reading of the rules, minute by minute.

HOLIDAYS_2026 = {date(2026, 1, 1) + timedelta(days=i) for i in range(3)} | {
    date(2026, 2, 15) + timedelta(days=i) for i in range(9)
}
HOLIDAYS_2026 |= {date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)}
HOLIDAYS_2026 |= {date(2026, 5, 1) + timedelta(days=i) for i in range(5)}
HOLIDAYS_2026 |= {date(2026, 6, 19), date(2026, 6, 20), date(2026, 6, 21)}
HOLIDAYS_2026 |= {date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27)}
HOLIDAYS_2026 |= {date(2026, 10, 1) + timedelta(days=i) for i in range(7)}
MAKEUP_2026 = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def oracle_working_minute(t: datetime) -> bool:
    """Is the local minute starting at ``t`` (Shanghai wall time) worked?"""
    local = t.astimezone(SH)
    d = local.date()
    if d in MAKEUP_2026:
        day_ok = True
    elif d in HOLIDAYS_2026:
        day_ok = False
    else:
        day_ok = d.weekday() < 5
    hm = (local.hour, local.minute)
    return day_ok and ((9, 0) <= hm < (12, 0) or (13, 0) <= hm < (18, 0))


def oracle_add(start: datetime, minutes: int) -> datetime:
    """Step one minute at a time from a whole-minute ``start``."""
    t = start
    while minutes > 0:
        if oracle_working_minute(t):
            minutes -= 1
        t += timedelta(minutes=1)
    return t


def is_working_or_period_end(cal: BusinessCalendar, t: datetime) -> bool:
    local = t.astimezone(cal.zone)
    ends = {end for _, end in cal.working_periods}
    at_end = local.timetz().replace(tzinfo=None) in ends
    return is_working_instant(cal, t) or (at_end and is_working_day(cal, local.date()))


# ------------------------------------------------------------ strategies

ZONES = st.sampled_from(
    [SH, UTC, NY, ZoneInfo("Asia/Kolkata"), ZoneInfo("Europe/Paris")]
)
instants = st.datetimes(
    min_value=datetime(2025, 12, 20),
    max_value=datetime(2026, 12, 31),
    timezones=ZONES,
    allow_imaginary=False,
)
whole_minutes = st.builds(
    lambda d, m: datetime.combine(d, time(0), tzinfo=SH) + timedelta(minutes=m),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 25)),
    st.integers(0, 24 * 60 - 1),
)
minutes = st.integers(min_value=0, max_value=6000)
positive_minutes = st.integers(min_value=1, max_value=6000)


# =========================================================== shipped data


def test_2026_data_matches_the_state_council_announcement():
    holidays, makeup = load_calendar_data(2026)

    assert holidays == HOLIDAYS_2026
    assert makeup == MAKEUP_2026


def test_2026_data_has_bilingual_names_for_every_holiday():
    entries = load_holiday_entries(2026)

    assert [e.name_zh for e in entries] == [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    ]
    assert all(e.name_en.strip() for e in entries)
    assert len({e.code for e in entries}) == len(entries)


def test_2026_make_up_workdays_are_weekend_days_as_announced():
    weekdays = {d: d.strftime("%a") for d in MAKEUP_2026}

    assert weekdays == {
        date(2026, 1, 4): "Sun",
        date(2026, 2, 14): "Sat",
        date(2026, 2, 28): "Sat",
        date(2026, 5, 9): "Sat",
        date(2026, 9, 20): "Sun",
        date(2026, 10, 10): "Sat",
    }


def test_2026_has_248_working_days():
    # 261 weekdays - 19 holiday weekdays + 6 make-up weekend days, counted by hand.
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]

    assert sum(is_working_day(CAL, d) for d in days) == 248
    assert business_minutes_between(CAL, sh(2026, 1, 1), sh(2027, 1, 1)) == 248 * 480


def test_loader_accepts_a_path(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text(
        json.dumps(
            {
                "holidays": [
                    {
                        "code": "x",
                        "name_zh": "测试",
                        "name_en": "Test",
                        "start": "2027-01-01",
                        "end": "2027-01-02",
                        "makeup_workdays": ["2027-01-03"],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )

    assert load_calendar_data(path) == (
        frozenset({date(2027, 1, 1), date(2027, 1, 2)}),
        frozenset({date(2027, 1, 3)}),
    )


@pytest.mark.parametrize(
    ("holiday", "problem"),
    [
        ({"start": "2027-01-02", "end": "2027-01-01"}, "ends before"),
        ({"makeup_workdays": ["2027-01-04"]}, "not a weekend"),  # a Monday
        ({"makeup_workdays": ["2027-01-02"]}, "both holiday"),
        ({"name_en": ""}, "names"),
    ],
)
def test_loader_rejects_inconsistent_data(tmp_path, holiday, problem):
    entry = {
        "code": "x",
        "name_zh": "测试",
        "name_en": "Test",
        "start": "2027-01-01",
        "end": "2027-01-02",
        "makeup_workdays": [],
    } | holiday
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"holidays": [entry]}), encoding="utf-8")

    with pytest.raises(ValueError, match=problem):
        load_calendar_data(path)


def test_loader_rejects_overlapping_holidays(tmp_path):
    entry = {
        "name_zh": "甲",
        "name_en": "A",
        "start": "2027-01-01",
        "end": "2027-01-02",
    }
    path = tmp_path / "cal.json"
    path.write_text(
        json.dumps(
            {
                "holidays": [
                    entry | {"code": "a"},
                    entry | {"code": "b", "start": "2027-01-02", "end": "2027-01-03"},
                ]
            }
        ),
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="overlap"):
        load_calendar_data(path)


def test_loader_reports_a_year_without_data():
    with pytest.raises(FileNotFoundError):
        load_calendar_data(1999)


def test_shipped_data_directory_holds_the_2026_seed():
    assert (DATA_DIR / "cn_2026.json").exists()


# ===================================================== calendar validation


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tz": "Mars/Olympus_Mons"},
        {"working_periods": ()},
        {"working_periods": ((time(12), time(9)),)},
        {"working_periods": ((time(9), time(13)), (time(12), time(18)))},
        {"working_periods": ((time(13), time(18)), (time(9), time(12)))},
        {"working_periods": ((time(9, tzinfo=UTC), time(12)),)},
        {"weekdays": frozenset()},
        {"weekdays": frozenset({7})},
        {"holidays": {date(2026, 1, 4)}, "makeup_workdays": {date(2026, 1, 4)}},
    ],
)
def test_calendar_rejects_impossible_configuration(kwargs):
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)


def test_calendar_is_hashable_and_normalises_sets():
    a = BusinessCalendar(holidays={date(2026, 1, 1)}, weekdays=[0, 1, 2, 3, 4])
    b = BusinessCalendar(holidays=frozenset({date(2026, 1, 1)}))

    assert a == b
    assert hash(a) == hash(b)
    assert a.minutes_per_working_day == 480


# ========================================================= working instants


@pytest.mark.parametrize(
    ("t", "working"),
    [
        (sh(2026, 3, 2, 8, 59, 59, 999999), False),
        (sh(2026, 3, 2, 9, 0), True),
        (sh(2026, 3, 2, 11, 59, 59, 999999), True),
        (sh(2026, 3, 2, 12, 0), False),  # lunch break
        (sh(2026, 3, 2, 12, 59, 59), False),
        (sh(2026, 3, 2, 13, 0), True),
        (sh(2026, 3, 2, 17, 59, 59, 999999), True),
        (sh(2026, 3, 2, 18, 0), False),
        (sh(2026, 3, 7, 10, 0), False),  # ordinary Saturday
        (sh(2026, 3, 8, 10, 0), False),  # ordinary Sunday
        (sh(2026, 1, 1, 10, 0), False),  # New Year's Day, a Thursday
        (sh(2026, 1, 4, 10, 0), True),  # make-up Sunday
        (sh(2026, 2, 14, 10, 0), True),  # make-up Saturday
        (sh(2026, 2, 14, 12, 30), False),  # make-up days have a lunch break too
        (sh(2026, 2, 16, 10, 0), False),  # Spring Festival Monday
        (sh(2026, 2, 24, 9, 0), True),  # first day back
        (sh(2026, 2, 28, 9, 0), True),
        (sh(2026, 4, 6, 10, 0), False),  # Qingming Monday
        (sh(2026, 5, 5, 10, 0), False),  # Labour Day Tuesday
        (sh(2026, 5, 9, 10, 0), True),
        (sh(2026, 6, 19, 10, 0), False),  # Dragon Boat Friday
        (sh(2026, 9, 20, 10, 0), True),
        (sh(2026, 9, 25, 10, 0), False),  # Mid-Autumn Friday
        (sh(2026, 10, 7, 10, 0), False),
        (sh(2026, 10, 8, 10, 0), True),
        (sh(2026, 10, 10, 10, 0), True),
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), True),  # 09:00 in Shanghai
        (datetime(2026, 3, 2, 0, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 1, 21, 0, tzinfo=NY), True),  # Mon 10:00 in Shanghai
    ],
)
def test_is_working_instant(t, working):
    assert is_working_instant(CAL, t) is working


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError, match="aware"):
        is_working_instant(CAL, datetime(2026, 3, 2, 10))
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(CAL, datetime(2026, 3, 2, 10), 5)
    with pytest.raises(ValueError, match="aware"):
        business_minutes_between(CAL, sh(2026, 3, 2), datetime(2026, 3, 3))


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (sh(2026, 3, 2, 10, 15), sh(2026, 3, 2, 10, 15)),
        (sh(2026, 3, 2, 7, 0), sh(2026, 3, 2, 9, 0)),
        (sh(2026, 3, 2, 12, 0), sh(2026, 3, 2, 13, 0)),
        (sh(2026, 3, 2, 18, 0), sh(2026, 3, 3, 9, 0)),
        (sh(2026, 3, 6, 18, 0), sh(2026, 3, 9, 9, 0)),
        (sh(2026, 2, 13, 18, 0), sh(2026, 2, 14, 9, 0)),  # make-up Saturday
        (sh(2026, 2, 14, 18, 0), sh(2026, 2, 24, 9, 0)),  # over Spring Festival
        (sh(2026, 9, 30, 18, 0), sh(2026, 10, 8, 9, 0)),
        (datetime(2026, 3, 2, 4, 30, tzinfo=UTC), sh(2026, 3, 2, 13, 0)),
    ],
)
def test_next_working_instant(t, expected):
    result = next_working_instant(CAL, t)

    assert result == expected
    assert result.tzinfo == SH


# ============================================================ adding time


@pytest.mark.parametrize(
    ("start", "mins", "expected"),
    [
        # The examples of the brief.
        (sh(2026, 2, 13, 17, 0), 120, sh(2026, 2, 14, 10, 0)),
        (sh(2026, 9, 30, 17, 30), 60, sh(2026, 10, 8, 9, 30)),
        # Landing exactly on the end of a period returns that end.
        (sh(2026, 3, 2, 11, 0), 60, sh(2026, 3, 2, 12, 0)),
        (sh(2026, 3, 6, 17, 0), 60, sh(2026, 3, 6, 18, 0)),  # Friday, not Monday
        (sh(2026, 3, 2, 9, 0), 480, sh(2026, 3, 2, 18, 0)),
        (sh(2026, 3, 2, 11, 0), 61, sh(2026, 3, 2, 13, 1)),
        (sh(2026, 3, 6, 17, 0), 61, sh(2026, 3, 9, 9, 1)),
        (sh(2026, 3, 2, 9, 0), 481, sh(2026, 3, 3, 9, 1)),
        # Starting in non-working time.
        (sh(2026, 3, 2, 20, 0), 1, sh(2026, 3, 3, 9, 1)),
        (sh(2026, 3, 2, 12, 30), 30, sh(2026, 3, 2, 13, 30)),
        (sh(2026, 3, 7, 10, 0), 60, sh(2026, 3, 9, 10, 0)),
        # Zero minutes is the identity, even off hours.
        (sh(2026, 3, 7, 10, 0), 0, sh(2026, 3, 7, 10, 0)),
        # Holidays on weekdays are skipped; make-up weekend days are worked.
        (sh(2025, 12, 31, 17, 0), 120, sh(2026, 1, 4, 10, 0)),
        (sh(2026, 1, 4, 17, 0), 120, sh(2026, 1, 5, 10, 0)),
        (sh(2026, 2, 13, 18, 0), 481, sh(2026, 2, 24, 9, 1)),
        (sh(2026, 2, 27, 17, 0), 120, sh(2026, 2, 28, 10, 0)),
        (sh(2026, 4, 3, 17, 0), 120, sh(2026, 4, 7, 10, 0)),
        (sh(2026, 4, 30, 17, 0), 120, sh(2026, 5, 6, 10, 0)),
        (sh(2026, 5, 8, 17, 0), 120, sh(2026, 5, 9, 10, 0)),
        (sh(2026, 6, 18, 17, 0), 120, sh(2026, 6, 22, 10, 0)),
        (sh(2026, 9, 18, 17, 0), 120, sh(2026, 9, 20, 10, 0)),
        (sh(2026, 9, 24, 17, 0), 120, sh(2026, 9, 28, 10, 0)),
        (sh(2026, 10, 9, 17, 0), 120, sh(2026, 10, 10, 10, 0)),
        # A whole working week from Monday morning ends on Friday evening.
        (sh(2026, 3, 2, 9, 0), 5 * 480, sh(2026, 3, 6, 18, 0)),
        # Seconds are kept.
        (sh(2026, 3, 2, 11, 59, 30), 1, sh(2026, 3, 2, 13, 0, 30)),
    ],
)
def test_add_business_minutes(start, mins, expected):
    result = add_business_minutes(CAL, start, mins)

    assert result == expected
    assert result.tzinfo == SH


def test_add_business_minutes_in_another_timezone_returns_the_same_instant():
    start = datetime(2026, 2, 13, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai

    result = add_business_minutes(CAL, start, 120)

    assert result == datetime(2026, 2, 14, 2, 0, tzinfo=UTC)
    assert result.tzinfo == SH
    assert result.hour == 10


def test_add_fractional_minutes():
    assert add_business_minutes(CAL, sh(2026, 3, 2, 11, 59), 1.5) == sh(
        2026, 3, 2, 13, 0, 30
    )


def test_add_rejects_non_finite_minutes():
    with pytest.raises(ValueError):
        add_business_minutes(CAL, sh(2026, 3, 2, 10), float("inf"))


@pytest.mark.parametrize(
    ("start", "mins", "expected"),
    [
        (sh(2026, 3, 2, 13, 30), -60, sh(2026, 3, 2, 11, 30)),
        (sh(2026, 3, 9, 9, 30), -60, sh(2026, 3, 6, 17, 30)),
        (sh(2026, 10, 8, 9, 30), -60, sh(2026, 9, 30, 17, 30)),
        (sh(2026, 2, 24, 10, 0), -120, sh(2026, 2, 14, 17, 0)),
        # Landing exactly on a period start returns that start.
        (sh(2026, 3, 2, 10, 0), -60, sh(2026, 3, 2, 9, 0)),
        (sh(2026, 3, 3, 20, 0), -480, sh(2026, 3, 3, 9, 0)),
    ],
)
def test_subtract_business_minutes(start, mins, expected):
    assert add_business_minutes(CAL, start, mins) == expected


# ======================================================== business between


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 10, 0), 0),
        (sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 11, 0), 60),
        (sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 14, 0), 120),  # lunch excluded
        (sh(2026, 3, 2, 0, 0), sh(2026, 3, 3, 0, 0), 480),
        (sh(2026, 3, 6, 17, 0), sh(2026, 3, 9, 10, 0), 120),
        (sh(2026, 3, 7, 0, 0), sh(2026, 3, 9, 0, 0), 0),  # weekend
        (sh(2026, 9, 30, 17, 30), sh(2026, 10, 8, 9, 30), 60),
        (sh(2026, 2, 13, 17, 0), sh(2026, 2, 14, 10, 0), 120),
        (sh(2026, 2, 15, 0, 0), sh(2026, 2, 24, 0, 0), 0),  # Spring Festival
        (sh(2026, 3, 2, 12, 0), sh(2026, 3, 2, 13, 0), 0),
        (sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 9, 0), -60),  # signed
        (sh(2026, 3, 9, 10, 0), sh(2026, 3, 6, 17, 0), -120),
        (sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 10, 0, 30), 0.5),
    ],
)
def test_business_minutes_between(a, b, expected):
    assert business_minutes_between(CAL, a, b) == expected


def test_business_minutes_between_mixed_timezones():
    a = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # Friday 17:00 Shanghai
    # US daylight saving time starts on 2026-03-08: 22:00 EDT is 02:00 UTC, which
    # is Monday 10:00 in Shanghai (21:00 EDT would only be 09:00).
    b = datetime(2026, 3, 8, 22, 0, tzinfo=NY)

    assert business_minutes_between(CAL, a, b) == 120


def test_calendar_in_another_timezone_counts_its_own_wall_time():
    london = BusinessCalendar(tz="Europe/London")
    start = datetime(2026, 3, 2, 17, 0, tzinfo=ZoneInfo("Europe/London"))

    assert add_business_minutes(london, start, 120) == datetime(
        2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Europe/London")
    )
    assert add_business_minutes(PLAIN, start, 120) == sh(2026, 3, 3, 11, 0)


def test_custom_weekdays_and_periods():
    six_days = BusinessCalendar(
        working_periods=((time(8), time(16)),), weekdays=frozenset(range(6))
    )

    assert add_business_minutes(six_days, sh(2026, 3, 6, 15, 0), 120) == sh(
        2026, 3, 7, 9, 0
    )


# ================================================================= due_at


def test_due_at_without_pauses_is_plain_addition():
    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 480) == sh(2026, 3, 3, 10, 0)
    assert due_at(CAL, sh(2026, 9, 30, 17, 30), 60, []) == sh(2026, 10, 8, 9, 30)


def test_pause_extends_the_due_time_by_its_business_overlap():
    # Paused Monday 11:00-15:00: 60 + 120 business minutes.
    due = due_at(
        CAL, sh(2026, 3, 2, 10, 0), 480, [(sh(2026, 3, 2, 11), sh(2026, 3, 2, 15))]
    )

    assert due == sh(2026, 3, 3, 14, 0)


def test_pause_outside_working_hours_changes_nothing():
    pauses = [(sh(2026, 3, 2, 18, 0), sh(2026, 3, 3, 9, 0))]

    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 480, pauses) == sh(2026, 3, 3, 10, 0)


def test_pause_before_enqueueing_is_ignored_and_straddling_pause_is_clipped():
    enq = sh(2026, 3, 2, 10, 0)
    before = [(sh(2026, 2, 27, 9, 0), sh(2026, 2, 27, 17, 0))]
    straddling = [(sh(2026, 3, 2, 9, 0), sh(2026, 3, 2, 11, 0))]

    assert due_at(CAL, enq, 480, before) == sh(2026, 3, 3, 10, 0)
    assert due_at(CAL, enq, 480, straddling) == sh(2026, 3, 3, 11, 0)


def test_pause_after_the_due_time_changes_nothing():
    pauses = [(sh(2026, 3, 4, 9, 0), sh(2026, 3, 5, 18, 0))]

    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 480, pauses) == sh(2026, 3, 3, 10, 0)


def test_overlapping_pauses_count_once():
    enq = sh(2026, 3, 2, 10, 0)
    overlapping = [
        (sh(2026, 3, 2, 13, 0), sh(2026, 3, 2, 15, 0)),
        (sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 14, 0)),
        (sh(2026, 3, 2, 11, 30), sh(2026, 3, 2, 11, 45)),
    ]
    single = [(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 15, 0))]

    assert due_at(CAL, enq, 480, overlapping) == due_at(CAL, enq, 480, single)


def test_target_used_up_exactly_when_a_pause_starts_is_due_then():
    # 60 minutes from 10:00 run out at 11:00, the instant the pause starts.
    pauses = [(sh(2026, 3, 2, 11, 0), sh(2026, 3, 2, 15, 0))]

    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 60, pauses) == sh(2026, 3, 2, 11, 0)
    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 60, [(pauses[0][0], None)]) == sh(
        2026, 3, 2, 11, 0
    )


def test_open_pause_makes_the_due_time_unknown():
    pauses = [(sh(2026, 3, 2, 11, 0), None)]

    assert due_at(CAL, sh(2026, 3, 2, 10, 0), 480, pauses) is None


def test_open_pause_after_a_breach_keeps_the_due_time():
    enq = sh(2026, 3, 2, 10, 0)
    pauses = [(sh(2026, 3, 4, 11, 0), None)]  # info requested after the deadline

    assert due_at(CAL, enq, 480, pauses) == sh(2026, 3, 3, 10, 0)


def test_pause_across_a_holiday_extends_only_by_working_time():
    # Paused from Wednesday 2026-09-30 17:00 to Friday 2026-10-09 10:00:
    # 60 minutes on Sep 30, Oct 8 full (480), Oct 9 60 = 600 business minutes.
    enq = sh(2026, 9, 30, 16, 0)
    pauses = [(sh(2026, 9, 30, 17, 0), sh(2026, 10, 9, 10, 0))]

    due = due_at(CAL, enq, 120, pauses)

    assert due == sh(2026, 10, 9, 11, 0)
    assert business_minutes_between(CAL, due_at(CAL, enq, 120), due) == 600


def test_zero_target_is_due_at_enqueueing():
    enq = sh(2026, 3, 7, 10, 0)

    assert due_at(CAL, enq, 0) == enq
    assert due_at(CAL, enq, 0, [(enq, None)]) == enq


@pytest.mark.parametrize("target", [-1, float("nan"), float("inf")])
def test_due_at_rejects_bad_targets(target):
    with pytest.raises(ValueError):
        due_at(CAL, sh(2026, 3, 2, 10), target)


def test_due_at_rejects_backwards_pause():
    with pytest.raises(ValueError, match="ends before"):
        due_at(CAL, sh(2026, 3, 2, 10), 60, [(sh(2026, 3, 2, 12), sh(2026, 3, 2, 11))])


# ====================================================== elapsed and percent


def test_elapsed_excludes_closed_and_open_pauses():
    start, now = sh(2026, 3, 2, 10, 0), sh(2026, 3, 2, 16, 0)

    assert elapsed_business_minutes(CAL, start, now) == 300
    assert (
        elapsed_business_minutes(
            CAL, start, now, [(sh(2026, 3, 2, 11), sh(2026, 3, 2, 15))]
        )
        == 120
    )
    assert (
        elapsed_business_minutes(CAL, start, now, [(sh(2026, 3, 2, 14), None)]) == 180
    )
    assert (
        elapsed_business_minutes(CAL, start, now, [(sh(2026, 3, 2, 17), None)]) == 300
    )


def test_elapsed_is_zero_before_start():
    assert elapsed_business_minutes(CAL, sh(2026, 3, 2, 10), sh(2026, 3, 2, 9)) == 0


def test_percent_elapsed():
    start = sh(2026, 3, 2, 10, 0)

    assert percent_elapsed(CAL, start, sh(2026, 3, 2, 13, 0), 240) == 50  # lunch
    assert percent_elapsed(CAL, start, sh(2026, 3, 2, 14, 0), 240) == 75
    assert percent_elapsed(CAL, start, sh(2026, 3, 3, 10, 0), 240) == 200
    assert percent_elapsed(CAL, start, sh(2026, 3, 2, 14, 0), 0) == 100
    with pytest.raises(ValueError):
        percent_elapsed(CAL, start, sh(2026, 3, 2, 14, 0), -5)


def test_percent_elapsed_reaches_100_exactly_at_the_due_time():
    enq = sh(2026, 2, 13, 16, 20)
    pauses = [(sh(2026, 2, 13, 17, 0), sh(2026, 2, 14, 9, 30))]
    due = due_at(CAL, enq, 300, pauses)

    assert due is not None
    assert percent_elapsed(CAL, enq, due, 300, pauses) == 100
    assert percent_elapsed(CAL, enq, due - timedelta(seconds=1), 300, pauses) < 100


# ============================================================== properties


@settings(deadline=None, max_examples=150)
@given(start=instants, m=positive_minutes)
def test_added_time_is_never_inside_non_working_time(start, m):
    result = add_business_minutes(CAL, start, m)

    assert is_working_or_period_end(CAL, result)
    assert result > start


@settings(deadline=None, max_examples=150)
@given(start=instants, m=minutes)
def test_add_then_measure_round_trips(start, m):
    result = add_business_minutes(CAL, start, m)

    assert business_minutes_between(CAL, start, result) == m
    assert business_minutes_between(CAL, result, start) == -m


@settings(deadline=None, max_examples=150)
@given(start=instants, m=positive_minutes)
def test_add_returns_the_earliest_such_instant(start, m):
    result = add_business_minutes(CAL, start, m)

    just_before = result - timedelta(microseconds=1)
    assert business_time_between(CAL, start, just_before) < timedelta(minutes=m)


@settings(deadline=None, max_examples=150)
@given(start=instants, m=positive_minutes)
def test_subtract_round_trips_and_lands_on_working_time(start, m):
    earlier = add_business_minutes(CAL, start, -m)

    assert business_minutes_between(CAL, earlier, start) == m
    assert is_working_instant(CAL, earlier)


@settings(deadline=None, max_examples=100)
@given(start=whole_minutes, m=st.integers(min_value=0, max_value=1500))
def test_add_agrees_with_a_minute_by_minute_oracle(start, m):
    assert add_business_minutes(CAL, start, m) == oracle_add(start, m)


@settings(deadline=None, max_examples=100)
@given(
    a=whole_minutes,
    span=st.integers(min_value=0, max_value=3 * 24 * 60),
)
def test_between_agrees_with_a_minute_by_minute_oracle(a, span):
    expected = sum(oracle_working_minute(a + timedelta(minutes=i)) for i in range(span))

    assert business_minutes_between(CAL, a, a + timedelta(minutes=span)) == expected


@settings(deadline=None, max_examples=150)
@given(start=instants, m1=minutes, m2=minutes)
def test_more_minutes_is_later_or_equal(start, m1, m2):
    lo, hi = sorted((m1, m2))

    assert add_business_minutes(CAL, start, lo) <= add_business_minutes(CAL, start, hi)


@settings(deadline=None, max_examples=150)
@given(s1=instants, s2=instants, m=minutes)
def test_later_start_is_later_or_equal(s1, s2, m):
    early, late = sorted((s1, s2))

    assert add_business_minutes(CAL, early, m) <= add_business_minutes(CAL, late, m)


@settings(deadline=None, max_examples=150)
@given(start=instants, m1=minutes, m2=minutes)
def test_adding_in_two_steps_equals_adding_once(start, m1, m2):
    once = add_business_minutes(CAL, start, m1 + m2)
    twice = add_business_minutes(CAL, add_business_minutes(CAL, start, m1), m2)

    assert once == twice


@settings(deadline=None, max_examples=150)
@given(a=instants, b=instants, c=instants)
def test_between_is_additive_and_antisymmetric(a, b, c):
    ab = business_time_between(CAL, a, b)
    bc = business_time_between(CAL, b, c)

    assert ab + bc == business_time_between(CAL, a, c)
    assert business_time_between(CAL, b, a) == -ab
    assert abs(ab) <= abs(b - a)


@settings(deadline=None, max_examples=100)
@given(t=instants)
def test_results_do_not_depend_on_the_input_timezone(t):
    in_utc = t.astimezone(UTC)

    assert add_business_minutes(CAL, t, 90) == add_business_minutes(CAL, in_utc, 90)
    assert is_working_instant(CAL, t) == is_working_instant(CAL, in_utc)
    assert add_business_minutes(CAL, t, 90).tzinfo == SH


@settings(deadline=None, max_examples=100)
@given(t=instants)
def test_next_working_instant_is_working_and_skips_only_non_working_time(t):
    nxt = next_working_instant(CAL, t)

    assert is_working_instant(CAL, nxt)
    assert nxt >= t
    assert business_time_between(CAL, t, nxt) == timedelta(0)


pauses_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-2000, max_value=8000),  # start, wall minutes from enq
        st.integers(min_value=0, max_value=5000),  # length in wall minutes
    ),
    max_size=4,
)


def _pauses(
    enq: datetime, spec: list[tuple[int, int]]
) -> list[tuple[datetime, datetime]]:
    return [
        (enq + timedelta(minutes=s), enq + timedelta(minutes=s + n)) for s, n in spec
    ]


@settings(deadline=None, max_examples=200)
@given(
    enq=instants, target=st.integers(min_value=1, max_value=3000), spec=pauses_strategy
)
def test_due_at_uses_exactly_the_target_of_unpaused_business_time(enq, target, spec):
    pauses = _pauses(enq, spec)

    due = due_at(CAL, enq, target, pauses)

    assert due is not None
    assert is_working_or_period_end(CAL, due)
    assert elapsed_business_minutes(CAL, enq, due, pauses) == target
    # ... and it is the first instant where that is so.
    just_before = due - timedelta(microseconds=1)
    assert elapsed_business_minutes(CAL, enq, just_before, pauses) < target


@settings(deadline=None, max_examples=200)
@given(
    enq=instants, target=st.integers(min_value=1, max_value=3000), spec=pauses_strategy
)
def test_pauses_extend_the_due_time_by_their_business_overlap(enq, target, spec):
    pauses = _pauses(enq, spec)
    plain = due_at(CAL, enq, target)
    due = due_at(CAL, enq, target, pauses)
    assert plain is not None and due is not None

    # elapsed(enq, due) == target (tested above), so the paused business time inside
    # [enq, due] is business_time(enq, due) - target; compare exactly, as timedeltas.
    paused_overlap = business_time_between(CAL, enq, due) - timedelta(minutes=target)

    assert due >= plain
    assert business_time_between(CAL, plain, due) == paused_overlap


@settings(deadline=None, max_examples=150)
@given(
    enq=instants,
    t1=st.integers(min_value=0, max_value=3000),
    t2=st.integers(min_value=0, max_value=3000),
    spec=pauses_strategy,
)
def test_due_at_is_monotone_in_the_target(enq, t1, t2, spec):
    pauses = _pauses(enq, spec)
    lo, hi = sorted((t1, t2))

    assert due_at(CAL, enq, lo, pauses) <= due_at(CAL, enq, hi, pauses)


@settings(deadline=None, max_examples=100)
@given(
    enq=instants, target=st.integers(min_value=1, max_value=3000), spec=pauses_strategy
)
def test_adding_a_pause_never_makes_the_due_time_earlier(enq, target, spec):
    pauses = _pauses(enq, spec)

    for k in range(len(pauses)):
        fewer, more = pauses[:k], pauses[: k + 1]
        assert due_at(CAL, enq, target, fewer) <= due_at(CAL, enq, target, more)


@settings(deadline=None, max_examples=100)
@given(
    start=instants,
    now_offset=st.integers(min_value=0, max_value=20000),
    target=st.integers(min_value=1, max_value=3000),
    spec=pauses_strategy,
)
def test_percent_elapsed_reaches_100_exactly_when_due(start, now_offset, target, spec):
    pauses = _pauses(start, spec)
    now = start + timedelta(minutes=now_offset)
    due = due_at(CAL, start, target, pauses)
    assume(due is not None)

    pct = percent_elapsed(CAL, start, now, target, pauses)

    assert (pct >= 100) == (now >= due)
