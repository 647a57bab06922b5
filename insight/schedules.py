"""The django-q2 schedules of this app, declared like ``reviews.schedules`` and
created (or corrected) after ``migrate``."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from invoiceportal.common.schedules import ensure_schedules_from


def schedules() -> dict[str, tuple[str, int]]:
    """name: (function, minutes between runs)."""
    return {
        "insight-rollup-refresh": (
            "insight.tasks.rollup_refresh_task",
            settings.INSIGHT_ROLLUP_REFRESH_MINUTES,
        ),
        "insight-forecast-alert": (
            "insight.tasks.forecast_alert_task",
            settings.INSIGHT_FORECAST_CHECK_MINUTES,
        ),
    }


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedules_from(schedules())
