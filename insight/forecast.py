"""Breach forecast: which open review tasks will miss their SLA within the next
business day at the current pace, and how much reviewer time would prevent it.

The model (``forecast_breaches``, pure) is the one the submitters' ETA uses
(``reviews.sla.eta``): the team decides ``rate`` tasks per business hour, so the
queued task at position k (0-based, claim order: due time first, then priority) is
claimed after about ``k * 60 / rate`` business minutes and decided ``handle`` minutes
later; a claimed task has about half a handling time left. A task breaches when that
is later than its due time. ``rate`` is reviewers on shift times the per-reviewer
pace measured recently. ``breach_forecast`` reads these inputs from the database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from reviews.models import RUNNING_STATES, ReviewTask, TaskState
from reviews.queue.calendar import business_calendar
from reviews.queue.selectors import recent_throughput_and_handle
from reviews.sla.calendar import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
)

MAX_EXTRA_REVIEWERS = 50


@dataclass(frozen=True)
class OpenTask:
    """What the forecast needs of an open task."""

    id: int
    due_at: dt.datetime
    priority: int = 0
    claimed: bool = False
    reference: str = ""


@dataclass(frozen=True)
class FlaggedTask:
    id: int
    reference: str
    due_at: dt.datetime
    expected_at: dt.datetime
    preventable: bool


@dataclass
class Forecast:
    now: dt.datetime
    horizon_end: dt.datetime
    reviewers_on_shift: int
    per_reviewer_per_hour: float
    handle_minutes: float
    open_tasks: int  # active tasks due within the horizon
    breaching: list[FlaggedTask] = field(default_factory=list)
    extra_reviewers: int = 0
    reviewer_hours: float = 0.0

    @property
    def count(self) -> int:
        return len(self.breaching)

    @property
    def breach_by(self) -> dt.datetime | None:
        """The due time of the last task forecast to breach."""
        return max((t.due_at for t in self.breaching), default=None)

    @property
    def unpreventable(self) -> int:
        return sum(1 for t in self.breaching if not t.preventable)


def _completions(claimed: Sequence[bool], rate: float, handle: float) -> list[float]:
    """Business minutes from now until each task (claim order) is decided."""
    out: list[float] = []
    position = 0
    for is_claimed in claimed:
        if is_claimed:
            out.append(handle / 2.0)
        elif rate <= 0:
            out.append(math.inf)
        else:
            out.append(position * 60.0 / rate + handle)
            position += 1
    return out


def forecast_breaches(
    tasks: Sequence[OpenTask],
    *,
    cal: BusinessCalendar,
    now: dt.datetime,
    horizon_end: dt.datetime,
    reviewers_on_shift: int,
    per_reviewer_per_hour: float,
    handle_minutes: float,
) -> Forecast:
    """The tasks due by ``horizon_end`` that will breach at the current pace, the
    fewest extra reviewers that would prevent every preventable one, and the
    reviewer-hours of work that are missing."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware.")
    if reviewers_on_shift < 0 or per_reviewer_per_hour < 0 or handle_minutes <= 0:
        raise ValueError("on-shift reviewers, pace and handling time must be positive.")
    handle = float(handle_minutes)
    pace = per_reviewer_per_hour if per_reviewer_per_hour > 0 else 60.0 / handle
    # Claimed tasks first (in hand), then the queue in claim order.
    queued_order = sorted(
        (t for t in tasks if now < t.due_at <= horizon_end),
        key=lambda t: (not t.claimed, t.due_at, -t.priority, t.id),
    )
    left = [business_minutes_between(cal, now, t.due_at) for t in queued_order]
    claimed = [t.claimed for t in queued_order]

    def late_among(done: list[float]) -> list[int]:
        return [i for i, (c, d) in enumerate(zip(done, left, strict=True)) if c > d]

    def late(rate: float) -> list[int]:
        return late_among(_completions(claimed, rate, handle))

    rate = reviewers_on_shift * pace
    done_at = _completions(claimed, rate, handle)
    late_now = late_among(done_at)
    # A queued task due sooner than one handling time cannot be saved by anyone.
    preventable = {
        i
        for i in late_now
        if (claimed[i] and left[i] >= handle / 2) or left[i] >= handle
    }
    forecast = Forecast(
        now=now,
        horizon_end=horizon_end,
        reviewers_on_shift=reviewers_on_shift,
        per_reviewer_per_hour=round(pace, 3),
        handle_minutes=round(handle, 1),
        open_tasks=len(queued_order),
    )
    for i in late_now:
        task = queued_order[i]
        done = done_at[i]
        expected = (
            horizon_end if math.isinf(done) else add_business_minutes(cal, now, done)
        )
        forecast.breaching.append(
            FlaggedTask(
                task.id, task.reference, task.due_at, expected, i in preventable
            )
        )
    if not preventable:
        return forecast
    for extra in range(1, MAX_EXTRA_REVIEWERS + 1):
        if not (set(late((reviewers_on_shift + extra) * pace)) & preventable):
            forecast.extra_reviewers = extra
            break
    else:
        forecast.extra_reviewers = MAX_EXTRA_REVIEWERS
    # Missing work: queued tasks that must have started by each deadline, against
    # what the team can start by then.
    deficit = 0.0
    position = 0
    for i, is_claimed in enumerate(claimed):
        if is_claimed:
            continue
        position += 1
        if i not in preventable:
            continue
        can_start = rate * max(left[i] - handle, 0.0) / 60.0
        deficit = max(deficit, position - can_start)
    forecast.reviewer_hours = math.ceil(max(deficit, 0.0) * handle / 60.0 * 2) / 2
    return forecast


def horizon(cal: BusinessCalendar, now: dt.datetime) -> dt.datetime:
    """One business day ahead of ``now``."""
    return add_business_minutes(cal, now, cal.minutes_per_working_day)


def reviewers_on_shift(
    cal: BusinessCalendar, now: dt.datetime, *, minutes: int | None = None
) -> int:
    """Reviewers who hold a claim now, or decided or claimed a task within the last
    ``INSIGHT_ON_SHIFT_MINUTES`` business minutes."""
    minutes = settings.INSIGHT_ON_SHIFT_MINUTES if minutes is None else minutes
    since = add_business_minutes(cal, now, -float(minutes))
    deciders = ReviewTask.objects.filter(
        decided_at__gt=since, decided_at__lte=now, decided_by__isnull=False
    ).values_list("decided_by_id", flat=True)
    holders = ReviewTask.objects.filter(
        Q(state=TaskState.CLAIMED) | Q(claimed_at__gt=since, claimed_at__lte=now),
        assigned_to__isnull=False,
    ).values_list("assigned_to_id", flat=True)
    return len(set(deciders.distinct()) | set(holders.distinct()))


def breach_forecast(*, now: dt.datetime | None = None) -> Forecast:
    """The forecast for the whole queue as it stands (a few small queries): one
    team serves every organization, so it is never split by organization."""
    now = now or timezone.now()
    cal = business_calendar()
    end = horizon(cal, now)
    on_shift = reviewers_on_shift(cal, now)
    throughput, handle = recent_throughput_and_handle(cal, now)
    pace = throughput / on_shift if throughput > 0 and on_shift else 60.0 / handle
    rows = ReviewTask.objects.filter(
        state__in=RUNNING_STATES, due_at__lte=end
    ).not_breaching(now=now)
    tasks = [
        OpenTask(pk, due, priority, state == TaskState.CLAIMED, reference)
        for pk, due, priority, state, reference in rows.values_list(
            "pk", "due_at", "priority", "state", "invoice__reference"
        )
    ]
    return forecast_breaches(
        tasks,
        cal=cal,
        now=now,
        horizon_end=end,
        reviewers_on_shift=on_shift,
        per_reviewer_per_hour=pace,
        handle_minutes=handle,
    )
