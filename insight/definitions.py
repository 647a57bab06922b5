"""Which review tasks the performance figures count: decided by a reviewer, and
decided late. Built on ``reviews.models``; the median/p90 are
``reviews.sla.stats.median_and_p90`` and breaching now is
``reviews.models.breaching_q``."""

from __future__ import annotations

from django.db.models import F, Q

from reviews.models import TaskDecision, TaskState


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
