"""The forecast's one-line summary, in the reader's language."""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .forecast import Forecast


def forecast_message(forecast: Forecast) -> str:
    """ "7 tasks will breach by 15:00 unless 2 more reviewers join"."""
    if not forecast.count:
        return _("No task is forecast to breach within the next business day.")
    by = timezone.localtime(forecast.breach_by)
    when = (
        time_format(by, "H:i")
        if by.date() == timezone.localtime(forecast.now).date()
        else by.strftime("%m-%d %H:%M")
    )
    values = {
        "count": forecast.count,
        "time": when,
        "extra": forecast.extra_reviewers,
        "hours": forecast.reviewer_hours,
    }
    if forecast.extra_reviewers:
        text = (
            ngettext(
                "%(count)s task will breach by %(time)s unless %(extra)s more "
                "reviewers join (about %(hours)s reviewer-hours).",
                "%(count)s tasks will breach by %(time)s unless %(extra)s more "
                "reviewers join (about %(hours)s reviewer-hours).",
                forecast.count,
            )
            % values
        )
    else:
        text = (
            ngettext(
                "%(count)s task will breach by %(time)s.",
                "%(count)s tasks will breach by %(time)s.",
                forecast.count,
            )
            % values
        )
    if forecast.unpreventable:
        text += " " + _(
            "%(n)s of them are due too soon for anyone to finish in time."
        ) % {"n": forecast.unpreventable}
    return text
