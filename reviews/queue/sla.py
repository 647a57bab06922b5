"""SLA bookkeeping of a review task: due and warning times from the policy, the
calendar and the task's pauses (the arithmetic itself is ``reviews.sla``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reviews.sla.calendar import (
    BusinessCalendar,
    PauseInterval,
    business_time_between,
    due_at,
)


def pause_intervals(task) -> list[PauseInterval]:
    """The task's pauses, oldest first (uses a prefetched ``pauses`` when present)."""
    return sorted(
        ((p.paused_at, p.resumed_at) for p in task.pauses.all()),
        key=lambda p: p[0],
    )


def schedule(
    task, *, cal: BusinessCalendar, pauses: Sequence[PauseInterval]
) -> list[str]:
    """Set ``due_at``, ``warn_at`` and ``paused_seconds`` from the task's own SLA
    target (taken from ``task.sla_policy`` when it has none yet).

    Paused time is kept whatever the policy: a new priority changes the target, never
    the pauses. Returns the fields changed, for ``save(update_fields=...)``.
    """
    if task.sla_target_minutes is None or task.sla_warn_percent is None:
        # The task takes the policy's values now (opened, or a new priority); from
        # then on a policy change does not move its deadline.
        task.sla_target_minutes = task.sla_policy.target_business_minutes
        task.sla_warn_percent = task.sla_policy.warn_at_percent
    target = float(task.sla_target_minutes)
    task.due_at = due_at(cal, task.enqueued_at, target, pauses)
    task.warn_at = due_at(
        cal, task.enqueued_at, target * task.sla_warn_percent / 100.0, pauses
    )
    paused = dt.timedelta(0)
    for start, end in pauses:
        if end is None:
            continue
        start = max(start, task.enqueued_at)
        if end > start:
            paused += business_time_between(cal, start, end)
    task.paused_seconds = int(paused.total_seconds())
    return [
        "due_at",
        "warn_at",
        "paused_seconds",
        "sla_target_minutes",
        "sla_warn_percent",
    ]


def remaining_seconds(task, *, cal: BusinessCalendar, now: dt.datetime) -> float | None:
    """Business seconds until the task is due (negative once breached)."""
    if task.due_at is None:
        return None
    return business_time_between(cal, now, task.due_at).total_seconds()
