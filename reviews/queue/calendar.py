"""The business calendar admins edit, as the pure ``reviews.sla`` calendar.

Read from the database (working hours, public holidays, make-up workdays) and kept in
the cache for a few minutes; the admin clears it on every change. Every node reads the
same rows, so a stale node catches up within ``CALENDAR_CACHE_SECONDS``.
"""

from __future__ import annotations

from django.core.cache import cache

from reviews.sla.calendar import DEFAULT_WORKING_PERIODS, BusinessCalendar

CALENDAR_TZ = "Asia/Shanghai"
CALENDAR_CACHE_KEY = "reviews:business-calendar:v1"
CALENDAR_CACHE_SECONDS = 300


def calendar_from_rows() -> BusinessCalendar:
    """The calendar as the rows stand now (inside a transaction: its own changes),
    without the cache."""
    from reviews.models import Holiday, MakeupWorkday, WorkingPeriod

    periods = tuple(WorkingPeriod.objects.values_list("start", "end"))
    return BusinessCalendar(
        tz=CALENDAR_TZ,
        working_periods=periods or DEFAULT_WORKING_PERIODS,
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        makeup_workdays=frozenset(MakeupWorkday.objects.values_list("date", flat=True)),
    )


def _load() -> BusinessCalendar:
    from reviews.models import WorkingPeriod

    if not WorkingPeriod.objects.exists():
        from .defaults import seed_calendar

        seed_calendar()
    return calendar_from_rows()


def business_calendar() -> BusinessCalendar:
    """The calendar SLA arithmetic runs on (three small queries when not cached)."""
    cal = cache.get(CALENDAR_CACHE_KEY)
    if cal is None:
        cal = _load()
        cache.set(CALENDAR_CACHE_KEY, cal, CALENDAR_CACHE_SECONDS)
    return cal


def calendar_changed() -> None:
    """Call after editing working hours, holidays or make-up workdays."""
    cache.delete(CALENDAR_CACHE_KEY)
