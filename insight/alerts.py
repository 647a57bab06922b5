"""Telling supervisors once when the breach forecast crosses the threshold."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from invoiceportal.invoices.models import Invoice
from reviews.models import ReviewTask
from reviews.queue.notify import notify_supervisors

from .forecast import Forecast, breach_forecast
from .models import ForecastAlert


class AlertOutcome(StrEnum):
    BELOW = "below"  # under the threshold, no alert open
    OPENED = "opened"  # crossed it: supervisors notified
    STILL_OPEN = "still_open"  # still over it: nobody notified again
    CLOSED = "closed"  # fell back under it: the next crossing notifies again


def over_threshold(forecast: Forecast) -> bool:
    """The forecast reaches ``INSIGHT_FORECAST_ALERT_THRESHOLD`` (0: never)."""
    threshold = settings.INSIGHT_FORECAST_ALERT_THRESHOLD
    return threshold > 0 and forecast.count >= threshold


def forecast_alert_check(
    *, now: dt.datetime | None = None, forecast: Forecast | None = None
) -> AlertOutcome:
    """Compare the forecast with ``INSIGHT_FORECAST_ALERT_THRESHOLD``; notify the
    supervisors (in-app, plus email/SMS as each chose) once per crossing."""
    now = now or timezone.now()
    forecast = forecast or breach_forecast(now=now)
    over = over_threshold(forecast)
    with transaction.atomic():
        alert = ForecastAlert.objects.select_for_update().filter(is_open=True).first()
        if alert is not None and not over:
            alert.is_open = False
            alert.closed_at = now
            alert.save(update_fields=["is_open", "closed_at"])
            return AlertOutcome.CLOSED
        if alert is not None:
            alert.breaching = forecast.count
            alert.extra_reviewers = forecast.extra_reviewers
            alert.save(update_fields=["breaching", "extra_reviewers"])
            return AlertOutcome.STILL_OPEN
        if not over:
            return AlertOutcome.BELOW
        first = min(forecast.breaching, key=lambda t: t.due_at)
        invoice = Invoice.objects.get(
            pk=ReviewTask.objects.values_list("invoice_id", flat=True).get(pk=first.id)
        )
        by = forecast.breach_by
        context = {
            "due": date_format(timezone.localtime(by), "SHORT_DATETIME_FORMAT")
            if by
            else "",
            "forecast_breaching": forecast.count,
            "forecast_extra_reviewers": forecast.extra_reviewers,
            "forecast_reviewer_hours": forecast.reviewer_hours,
        }

        users = notify_supervisors(invoice=invoice, kind="sla_at_risk", context=context)
        ForecastAlert.objects.create(
            opened_at=now,
            breaching=forecast.count,
            threshold=settings.INSIGHT_FORECAST_ALERT_THRESHOLD,
            extra_reviewers=forecast.extra_reviewers,
            notified=len(users),
        )
        return AlertOutcome.OPENED
