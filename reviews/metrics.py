"""The figures the portal is judged by, for supervisors and admins
(``GET /api/v1/metrics/summary/``): time from upload to decision, the share of invoices
that never need a person, and the state of the review queue.

Counts (``decided``, ``automatic_share``, the queue) are exact, counted by the
database. The percentiles are computed over the most recent ``SAMPLE_LIMIT``
decisions; ``decision_time_sample`` says how many were read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, Q
from django.utils import timezone

from invoiceportal.invoices.models import Feedback, Invoice
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus

from .models import ReviewTask, TaskState, at_risk_q, breaching_q
from .sla.stats import median_and_p90

SAMPLE_LIMIT = 50_000  # decisions read for the percentiles (the most recent)


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    median, p90 = median_and_p90(seconds)
    return {
        "median_seconds": None if median is None else round(median, 3),
        "p90_seconds": None if p90 is None else round(p90, 3),
    }


def metrics_summary(
    *, days: int = 30, now: dt.datetime | None = None, sample: int = SAMPLE_LIMIT
) -> dict[str, Any]:
    """The dashboard's figures over the last ``days``; percentiles over the most
    recent ``sample`` decisions, every count exact."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    window = Invoice.objects.filter(submitted_at__gte=since)
    decided = window.filter(decided_at__isnull=False)
    totals = decided.aggregate(
        decided=Count("id"),
        automatic=Count("id", filter=Q(decision_source=DecisionSource.AUTOMATIC)),
    )
    rows = list(
        decided.order_by("-decided_at").values_list(
            "decision_source", "submitted_at", "decided_at"
        )[:sample]
    )
    durations: dict[str, list[float]] = {"all": [], "automatic": [], "reviewer": []}
    for source, submitted, decided_at in rows:
        seconds = (decided_at - submitted).total_seconds()
        durations["all"].append(seconds)
        if source in durations:
            durations[source].append(seconds)
    statuses = dict(window.order_by().values_list("status").annotate(n=Count("id")))
    feedback = Feedback.objects.filter(created_at__gte=since).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    queue = ReviewTask.objects.open().aggregate(
        queued=Count("pk", filter=Q(state=TaskState.QUEUED)),
        claimed=Count("pk", filter=Q(state=TaskState.CLAIMED)),
        waiting=Count("pk", filter=Q(state=TaskState.WAITING)),
        at_risk=Count("pk", filter=at_risk_q(now)),
        breached=Count("pk", filter=breaching_q(now)),
    )
    count = totals["decided"]
    return {
        "window_days": days,
        "submitted": sum(statuses.values()),
        "by_status": {s: statuses.get(s, 0) for s in InvoiceStatus.values},
        "decided": count,
        "automatic_share": round(totals["automatic"] / count, 4) if count else None,
        "decision_time": {
            key: _percentiles(values) for key, values in durations.items()
        },
        "decision_time_sample": len(rows),
        "queue": queue,
        "feedback": {
            "average": round(float(feedback["average"]), 2)
            if feedback["average"] is not None
            else None,
            "count": feedback["count"],
        },
    }
