"""``{% breach_forecast as forecast %}``: the forecast for the supervisor board
(templates/insight/_forecast.html), so the board's view need not know this app."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.roles import Perm, user_can
from insight.alerts import over_threshold
from insight.forecast import breach_forecast as compute
from insight.messages import forecast_message

register = template.Library()


@register.simple_tag(takes_context=True)
def breach_forecast(context: template.Context) -> dict[str, Any] | None:
    request = context.get("request")
    if request is None or not user_can(request.user, Perm.SUPERVISE):
        return None
    forecast = compute()
    return {
        "forecast": forecast,
        "message": forecast_message(forecast),
        "over": over_threshold(forecast),
        "tasks": forecast.breaching[:10],
    }
