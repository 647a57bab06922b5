"""django-q2 entry points of the performance pages: thin, one service call."""

from __future__ import annotations

from django.conf import settings

from .alerts import forecast_alert_check
from .rollup import rollup_refresh_recent


def rollup_refresh_task() -> int:
    """Scheduled: the daily figures of the last few days; rows stored."""
    return rollup_refresh_recent(days_back=settings.INSIGHT_ROLLUP_DAYS_BACK)


def forecast_alert_task() -> str:
    """Scheduled: notify supervisors when the breach forecast crosses the threshold."""
    return forecast_alert_check().value
