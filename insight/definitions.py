"""The definitions this app takes from ``reviews`` rather than restating them: the
median/p90 of decision times and what counts as breaching the SLA. One place, so
that a consolidation in ``reviews`` is one import to follow."""

from __future__ import annotations

from django.db.models import F, Q

from reviews.models import OPEN_STATES, TaskDecision, TaskState
from reviews.sla.stats import median_and_p90

__all__ = [
    "OPEN_STATES",
    "breached_decided_q",
    "human_decided_q",
    "median_and_p90",
]


def human_decided_q() -> Q:
    """Review tasks a reviewer decided (closures without a decision excluded)."""
    return Q(
        state=TaskState.DONE, decided_at__isnull=False, decided_by__isnull=False
    ) & ~Q(decision=TaskDecision.CLOSED)


def breached_decided_q() -> Q:
    """A decided task breached its SLA when the sweep marked it breached or it was
    decided after its due time: ``reviews.models.breaching_q`` (running tasks) for
    tasks that are no longer running."""
    return Q(breached_at__isnull=False) | Q(
        due_at__isnull=False, decided_at__gt=F("due_at")
    )
