"""SLA display filters usable on any page (``{% load sla_display %}``).

``{{ task.due_at|overdue }}`` gives "overdue by 8 h 01 min" once the deadline has
passed (wall-clock time since it passed, in the reader's language) and "" before:
a breach never moves a deadline, the pages say how late it is.
``{{ task|task_overdue }}`` says it only for a task whose SLA clock runs (not
waiting, not done).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from reviews.models import RUNNING_STATES

register = template.Library()


def duration_text(seconds: float) -> str:
    """A duration as people read it: "2 d 3 h 04 min", "8 h 01 min", "5 min"."""
    minutes_total = max(0, int(seconds // 60))
    days, rest = divmod(minutes_total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h %(minutes)02d min") % {
            "days": days,
            "hours": hours,
            "minutes": minutes,
        }
    if hours:
        return _("%(hours)s h %(minutes)02d min") % {
            "hours": hours,
            "minutes": minutes,
        }
    return _("%(minutes)s min") % {"minutes": minutes}


def overdue_text(due_at: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """ "overdue by …" when ``due_at`` has passed, else ""."""
    if not isinstance(due_at, dt.datetime):
        return ""
    now = now or timezone.now()
    if due_at > now:
        return ""
    return _("overdue by %(duration)s") % {
        "duration": duration_text((now - due_at).total_seconds())
    }


@register.filter
def overdue(due_at: dt.datetime | None) -> str:
    """``{{ due_at|overdue }}``: "overdue by 8 h 01 min", or "" when not due yet."""
    return overdue_text(due_at)


@register.filter
def task_overdue(task: Any) -> str:
    """``{{ task|task_overdue }}``: :func:`overdue` for a task whose clock runs
    (``RUNNING_STATES``); "" for a waiting (paused) or decided task."""
    if task.state not in RUNNING_STATES:
        return ""
    return overdue_text(task.due_at)


@register.simple_tag
def task_stage(task: Any) -> str:
    """``{% task_stage task %}``: "Second review" as a badge, else the stage's name
    (a Python tag: the queue renders fifty rows a page)."""
    label = task.get_stage_display()
    if task.stage == "second":
        return format_html(
            '<span class="badge text-bg-info" data-badge="second">'
            '<i class="bi bi-people" aria-hidden="true"></i> {}</span>',
            label,
        )
    return conditional_escape(label)


@register.simple_tag
def task_badges(task: Any, remaining: dict[str, Any] | None) -> str:
    """``{% task_badges task remaining %}``: overdue, breaching or at risk (from the
    row's ``remaining``, ``reviews.queue.selectors.row_remaining``), and paused."""
    level = (remaining or {}).get("level")
    parts = []
    late = task_overdue(task)
    if late or level == "breach":
        parts.append(
            format_html(
                '<span class="badge text-bg-danger sla-overdue" data-badge="overdue">'
                '<i class="bi bi-alarm" aria-hidden="true"></i> {}</span>',
                capfirst(late) if late else _("Breaching the SLA"),
            )
        )
    elif level == "warn":
        parts.append(
            format_html(
                '<span class="badge text-bg-warning" data-badge="at-risk">'
                '<i class="bi bi-hourglass-split" aria-hidden="true"></i> {}</span>',
                _("At risk"),
            )
        )
    if task.state == "waiting":
        parts.append(
            format_html(
                ' <span class="badge text-bg-secondary" data-badge="paused" '
                'title="{}"><i class="bi bi-pause-circle" aria-hidden="true"></i> '
                "{}</span>",
                _("The SLA clock is paused while the submitter answers."),
                _("Paused"),
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 (each part built by format_html)
