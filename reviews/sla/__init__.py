"""SLA calendar and ETA arithmetic for the review queue (pure, no ORM).

Owns business-time arithmetic (working periods, holidays, make-up workdays, pauses) and
completion estimates. Part of the reviews layer; imports only the standard library and
its own modules, so every layer above can use it.
"""

from reviews.sla.calendar import (
    DEFAULT_WORKING_PERIODS,
    BusinessCalendar,
    HolidayEntry,
    PauseInterval,
    add_business_minutes,
    add_business_time,
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
from reviews.sla.eta import (
    EtaBasis,
    EtaEstimate,
    estimate_completion,
    throughput_from_history,
)

__all__ = [
    "DEFAULT_WORKING_PERIODS",
    "BusinessCalendar",
    "EtaBasis",
    "EtaEstimate",
    "HolidayEntry",
    "PauseInterval",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "china_calendar",
    "due_at",
    "elapsed_business_minutes",
    "estimate_completion",
    "is_working_day",
    "is_working_instant",
    "load_calendar_data",
    "load_holiday_entries",
    "next_working_instant",
    "percent_elapsed",
    "throughput_from_history",
]
