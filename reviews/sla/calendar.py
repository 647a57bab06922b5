"""Business calendar and SLA arithmetic for the review queue.

Pure functions on plain data: no ORM, no Django settings. The database models (admins
edit working hours, holidays and make-up workdays) are turned into a
:class:`BusinessCalendar` and handed to these functions.

Conventions
- A working period is half-open, ``[start, end)``, in the calendar's local wall time on
  a working day. ``is_working_instant`` is true at 09:00 and false at 12:00.
- A working day is a make-up workday (调休上班: a weekend day worked with normal hours)
  or a weekday of ``weekdays`` that is not a holiday. Holidays are never worked, even
  on weekdays; a date cannot be both a holiday and a make-up workday.
- Business time between two instants is the real elapsed time of their overlap with
  working periods. Arithmetic is done on UTC instants, so inputs may be aware datetimes
  in any timezone; results are returned in the calendar's timezone.
- ``add_business_minutes(cal, t, m)`` returns the *earliest* instant ``r`` with
  ``business_minutes_between(cal, t, r) == m``. For ``m > 0`` that is inside a working
  period or exactly at the end of one (Friday 17:00 + 60 min is Friday 18:00, not
  Monday 09:00); it is never inside non-working time. Negative ``m`` counts backwards
  and returns the latest such instant (a working instant for ``m < 0``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "DATA_DIR",
    "DEFAULT_WORKING_PERIODS",
    "BusinessCalendar",
    "HolidayEntry",
    "PauseInterval",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "china_calendar",
    "due_at",
    "elapsed_business_minutes",
    "is_working_day",
    "is_working_instant",
    "load_calendar_data",
    "load_holiday_entries",
    "next_working_instant",
    "percent_elapsed",
]

MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)
DATA_DIR = Path(__file__).with_name("data")
DEFAULT_WORKING_PERIODS: tuple[tuple[time, time], ...] = (
    (time(9, 0), time(12, 0)),
    (time(13, 0), time(18, 0)),
)
MONDAY_TO_FRIDAY = frozenset(range(5))

#: ``(paused_at, resumed_at)``; ``resumed_at is None`` means still paused.
PauseInterval = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours, weekly working days, holidays and make-up workdays."""

    tz: str = "Asia/Shanghai"
    working_periods: tuple[tuple[time, time], ...] = DEFAULT_WORKING_PERIODS
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY  # 0 = Monday

    def __post_init__(self) -> None:
        # Accept lists and sets from callers; store hashable, immutable values.
        periods = tuple((start, end) for start, end in self.working_periods)
        object.__setattr__(self, "working_periods", periods)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup_workdays", frozenset(self.makeup_workdays))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        try:
            ZoneInfo(self.tz)
        except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"Unknown timezone {self.tz!r}.") from exc
        if not periods:
            raise ValueError("A business calendar needs at least one working period.")
        previous_end: time | None = None
        for start, end in periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("Working periods are local wall times without tzinfo.")
            if not start < end:
                raise ValueError(
                    f"Working period {start}-{end} must end after it starts."
                )
            if previous_end is not None and start < previous_end:
                raise ValueError("Working periods must be sorted and must not overlap.")
            previous_end = end
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError(
                "weekdays must be a non-empty subset of 0 (Mon) .. 6 (Sun)."
            )
        clash = self.holidays & self.makeup_workdays
        if clash:
            days = ", ".join(sorted(d.isoformat() for d in clash))
            raise ValueError(
                f"Dates cannot be both holiday and make-up workday: {days}."
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # ZoneInfo caches instances per key

    @property
    def minutes_per_working_day(self) -> float:
        """Length of a normal working day (wall time; exact when DST-free)."""
        total = sum(
            _time_seconds(end) - _time_seconds(start)
            for start, end in self.working_periods
        )
        return total / 60


def _time_seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


# --------------------------------------------------------------------------- days


def is_working_day(cal: BusinessCalendar, day: date) -> bool:
    """Whether ``day`` (a local calendar date) has working hours."""
    if day in cal.makeup_workdays:
        return True
    if day in cal.holidays:
        return False
    return day.weekday() in cal.weekdays


@lru_cache(maxsize=4096)
def _utc_periods(
    cal: BusinessCalendar, day: date
) -> tuple[tuple[datetime, datetime], ...]:
    """The working periods of ``day`` as UTC instants (empty on a day off)."""
    if not is_working_day(cal, day):
        return ()
    zone = cal.zone
    periods = []
    for start, end in cal.working_periods:
        s = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
        e = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
        if s < e:  # only a DST gap could make this false
            periods.append((s, e))
    return tuple(periods)


def _periods_from(
    cal: BusinessCalendar, t: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Working periods (clipped) at or after the UTC instant ``t``, forwards."""
    day = t.astimezone(cal.zone).date()
    while True:
        for s, e in _utc_periods(cal, day):
            if e > t:
                yield max(s, t), e
        day += timedelta(days=1)


def _periods_before(
    cal: BusinessCalendar, t: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Working periods (clipped) before the UTC instant ``t``, backwards."""
    day = t.astimezone(cal.zone).date()
    while True:
        for s, e in reversed(_utc_periods(cal, day)):
            if s < t:
                yield s, min(e, t)
        day -= timedelta(days=1)


# ----------------------------------------------------------------------- instants


def _utc(t: datetime, name: str = "datetime") -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(t).__name__}.")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {t.isoformat()}).")
    return t.astimezone(UTC)


def is_working_instant(cal: BusinessCalendar, t: datetime) -> bool:
    """Whether ``t`` lies inside a working period (``[start, end)``)."""
    u = _utc(t, "t")
    day = u.astimezone(cal.zone).date()
    return any(s <= u < e for s, e in _utc_periods(cal, day))


def next_working_instant(cal: BusinessCalendar, t: datetime) -> datetime:
    """``t`` itself if it is working time, else the start of the next period."""
    u = _utc(t, "t")
    s, _ = next(_periods_from(cal, u))
    return s.astimezone(cal.zone)


def add_business_time(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> datetime:
    """Move ``delta`` of business time from ``start`` (backwards when negative)."""
    u = _utc(start, "start")
    if delta == _ZERO:
        return u.astimezone(cal.zone)
    if delta > _ZERO:
        remaining = delta
        for s, e in _periods_from(cal, u):
            span = e - s
            if remaining <= span:
                return (s + remaining).astimezone(cal.zone)
            remaining -= span
    remaining = -delta
    for s, e in _periods_before(cal, u):
        span = e - s
        if remaining <= span:
            return (e - remaining).astimezone(cal.zone)
        remaining -= span
    raise AssertionError("unreachable: the period iterators are infinite")


def add_business_minutes(
    cal: BusinessCalendar, start: datetime, minutes: float
) -> datetime:
    """``start`` plus ``minutes`` business minutes (see the module docstring)."""
    if not math.isfinite(minutes):
        raise ValueError(f"minutes must be finite, got {minutes!r}.")
    return add_business_time(cal, start, timedelta(minutes=minutes))


def business_time_between(cal: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Business time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    ua, ub = _utc(a, "a"), _utc(b, "b")
    if ub < ua:
        return -business_time_between(cal, b, a)
    total = _ZERO
    for s, e in _periods_from(cal, ua):
        if s >= ub:
            break
        total += min(e, ub) - s
    return total


def business_minutes_between(cal: BusinessCalendar, a: datetime, b: datetime) -> float:
    """Business minutes from ``a`` to ``b`` (signed; whole minutes are exact)."""
    return business_time_between(cal, a, b) / MINUTE


# ------------------------------------------------------------------------ pauses


def _merged_pauses(
    paused: Sequence[PauseInterval], lower: datetime, upper: datetime | None
) -> list[tuple[datetime, datetime | None]]:
    """Pauses clipped to ``[lower, upper]``, sorted and merged (UTC).

    An open pause (``None`` end) stays open when ``upper`` is None, otherwise it is
    closed at ``upper``.
    """
    clipped: list[tuple[datetime, datetime | None]] = []
    for i, (p_start, p_end) in enumerate(paused):
        s = _utc(p_start, f"paused[{i}] start")
        e = None if p_end is None else _utc(p_end, f"paused[{i}] end")
        if e is not None and e < s:
            raise ValueError(f"paused[{i}] ends before it starts.")
        if e is None and upper is not None:
            e = upper
        s = max(s, lower)
        if upper is not None:
            if s >= upper:
                continue
            e = min(e, upper) if e is not None else upper
        if e is not None and e <= s:
            continue
        clipped.append((s, e))
    clipped.sort(key=lambda p: p[0])
    merged: list[tuple[datetime, datetime | None]] = []
    for s, e in clipped:
        if merged:
            ms, me = merged[-1]
            if me is None:
                continue  # an open pause swallows everything after it
            if s <= me:
                merged[-1] = (ms, None if e is None else max(me, e))
                continue
        merged.append((s, e))
    return merged


def due_at(
    cal: BusinessCalendar,
    enqueued_at: datetime,
    target_minutes: float,
    paused: Sequence[PauseInterval] = (),
) -> datetime | None:
    """When ``target_minutes`` of unpaused business time since enqueueing have passed.

    Pause intervals (waiting on the submitter) do not count: each one pushes the due
    time back by exactly its business-time overlap with ``[enqueued_at, due]``. Pauses
    before ``enqueued_at`` are ignored, overlapping pauses count once. While a pause is
    still open the due time is unknown and ``None`` is returned, unless the target
    was already used up before that pause began (a breach stays a breach).
    """
    if not math.isfinite(target_minutes) or target_minutes < 0:
        raise ValueError(f"target_minutes must be >= 0, got {target_minutes!r}.")
    enqueued = _utc(enqueued_at, "enqueued_at")
    remaining = timedelta(minutes=target_minutes)
    if remaining == _ZERO:
        return enqueued.astimezone(cal.zone)
    cursor = enqueued
    for p_start, p_end in _merged_pauses(paused, enqueued, None):
        if p_start > cursor:
            available = business_time_between(cal, cursor, p_start)
            if remaining <= available:
                break
            remaining -= available
        if p_end is None:
            return None
        cursor = max(cursor, p_end)
    return add_business_time(cal, cursor, remaining)


def elapsed_business_minutes(
    cal: BusinessCalendar,
    start: datetime,
    now: datetime,
    paused: Sequence[PauseInterval] = (),
) -> float:
    """Unpaused business minutes from ``start`` to ``now`` (0 when now <= start).

    An open pause counts as paused up to ``now``.
    """
    s, n = _utc(start, "start"), _utc(now, "now")
    if n <= s:
        return 0.0
    total = business_time_between(cal, s, n)
    for p_start, p_end in _merged_pauses(paused, s, n):
        assert p_end is not None
        total -= business_time_between(cal, p_start, p_end)
    return total / MINUTE


def percent_elapsed(
    cal: BusinessCalendar,
    start: datetime,
    now: datetime,
    target_minutes: float,
    paused: Sequence[PauseInterval] = (),
) -> float:
    """Share of the SLA target used so far, in percent (may exceed 100).

    A zero target is due immediately: 100 percent.
    """
    if not math.isfinite(target_minutes) or target_minutes < 0:
        raise ValueError(f"target_minutes must be >= 0, got {target_minutes!r}.")
    if target_minutes == 0:
        return 100.0
    return 100.0 * elapsed_business_minutes(cal, start, now, paused) / target_minutes


# -------------------------------------------------------------------- seed data


@dataclass(frozen=True)
class HolidayEntry:
    """One named public holiday with its make-up workdays, as shipped seed data."""

    code: str
    name_zh: str
    name_en: str
    start: date
    end: date
    makeup_workdays: tuple[date, ...] = field(default=())

    @property
    def dates(self) -> tuple[date, ...]:
        n = (self.end - self.start).days + 1
        return tuple(self.start + timedelta(days=i) for i in range(n))


def _data_path(source: int | str | Path) -> Path:
    if isinstance(source, int):
        path = DATA_DIR / f"cn_{source}.json"
        if not path.exists():
            raise FileNotFoundError(f"No shipped calendar data for {source}: {path}.")
        return path
    return Path(source)


def load_holiday_entries(source: int | str | Path) -> tuple[HolidayEntry, ...]:
    """Named holidays from a year's shipped JSON (``2026``) or a file path.

    Raises ``ValueError`` on inconsistent data: a range ending before it starts, a
    make-up workday that is not a weekend day, or a date both off and worked.
    """
    path = _data_path(source)
    raw = json.loads(path.read_text(encoding="utf-8"))
    entries = []
    for item in raw["holidays"]:
        entry = HolidayEntry(
            code=str(item["code"]),
            name_zh=str(item["name_zh"]),
            name_en=str(item["name_en"]),
            start=date.fromisoformat(item["start"]),
            end=date.fromisoformat(item["end"]),
            makeup_workdays=tuple(
                date.fromisoformat(d) for d in item.get("makeup_workdays", ())
            ),
        )
        if entry.end < entry.start:
            raise ValueError(f"{path.name}: {entry.code} ends before it starts.")
        if not entry.name_zh or not entry.name_en:
            raise ValueError(f"{path.name}: {entry.code} needs zh and en names.")
        for d in entry.makeup_workdays:
            if d.weekday() < 5:
                raise ValueError(
                    f"{path.name}: make-up workday {d} of {entry.code} is not a "
                    "weekend day."
                )
        entries.append(entry)
    holidays = [d for e in entries for d in e.dates]
    makeup = [d for e in entries for d in e.makeup_workdays]
    if len(set(holidays)) != len(holidays):
        raise ValueError(f"{path.name}: holiday ranges overlap.")
    clash = set(holidays) & set(makeup)
    if clash:
        days = ", ".join(sorted(d.isoformat() for d in clash))
        raise ValueError(
            f"{path.name}: dates both holiday and make-up workday: {days}."
        )
    return tuple(entries)


def load_calendar_data(
    source: int | str | Path,
) -> tuple[frozenset[date], frozenset[date]]:
    """``(holidays, makeup_workdays)`` from a year's shipped JSON or a file path."""
    entries = load_holiday_entries(source)
    holidays = frozenset(d for e in entries for d in e.dates)
    makeup = frozenset(d for e in entries for d in e.makeup_workdays)
    return holidays, makeup


def china_calendar(*years: int, tz: str = "Asia/Shanghai") -> BusinessCalendar:
    """The default calendar with the shipped holidays of ``years`` (default 2026)."""
    holidays: set[date] = set()
    makeup: set[date] = set()
    for year in years or (2026,):
        h, m = load_calendar_data(year)
        holidays |= h
        makeup |= m
    return BusinessCalendar(
        tz=tz, holidays=frozenset(holidays), makeup_workdays=frozenset(makeup)
    )
