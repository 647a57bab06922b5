"""The business calendar admins edit, as the pure ``reviews.sla`` calendar.

Read from the database (working hours, public holidays, make-up workdays; seeded by
migration 0002, never by reading) and kept in Django's cache for a few minutes. The
admin clears it on every change through the same cache: with ``REDIS_URL`` set
(``CACHES`` in settings) that is Redis, shared by every web process and worker, so the
change reaches all of them at once; without it each process keeps its own copy and a
stale one catches up within ``CALENDAR_CACHE_SECONDS``.
"""

from __future__ import annotations

from django.core.cache import cache

from reviews.models import Holiday, MakeupWorkday, WorkingPeriod
from reviews.sla.calendar import DEFAULT_WORKING_PERIODS, BusinessCalendar

CALENDAR_TZ = "Asia/Shanghai"
CALENDAR_CACHE_KEY = "reviews:business-calendar:v1"
CALENDAR_CACHE_SECONDS = 300


def calendar_from_rows() -> BusinessCalendar:
    """The calendar as the rows stand now (inside a transaction: its own changes),
    without the cache. No working periods stored: the default hours."""

    periods = tuple(WorkingPeriod.objects.values_list("start", "end"))
    return BusinessCalendar(
        tz=CALENDAR_TZ,
        working_periods=periods or DEFAULT_WORKING_PERIODS,
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        makeup_workdays=frozenset(MakeupWorkday.objects.values_list("date", flat=True)),
    )


def business_calendar() -> BusinessCalendar:
    """The calendar SLA arithmetic runs on (three small queries when not cached)."""
    cal = cache.get(CALENDAR_CACHE_KEY)
    if cal is None:
        cal = calendar_from_rows()
        cache.set(CALENDAR_CACHE_KEY, cal, CALENDAR_CACHE_SECONDS)
    return cal


def calendar_changed() -> None:
    """Call after editing working hours, holidays or make-up workdays."""
    cache.delete(CALENDAR_CACHE_KEY)
