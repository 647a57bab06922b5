"""The figures the portal is judged by, for supervisors and admins
(``GET /api/v1/metrics/summary/``): time from upload to decision, the share of invoices
that never need a person, and the state of the review queue."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from django.db.models import Avg, Count
from django.utils import timezone

from invoiceportal.invoices.models import Feedback, Invoice
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus

from .models import ReviewTask, TaskState

SAMPLE_LIMIT = 50_000  # decisions read for the percentiles (the most recent)


def _percentiles(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"median_seconds": None, "p90_seconds": None}
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median_seconds": round(statistics.median(ordered), 3),
        "p90_seconds": round(p90, 3),
    }


def metrics_summary(
    *, days: int = 30, now: dt.datetime | None = None
) -> dict[str, Any]:
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    window = Invoice.objects.filter(submitted_at__gte=since)
    decided = window.filter(decided_at__isnull=False).order_by("-decided_at")
    rows = list(
        decided.values_list("decision_source", "submitted_at", "decided_at")[
            :SAMPLE_LIMIT
        ]
    )
    durations: dict[str, list[float]] = {"all": [], "automatic": [], "reviewer": []}
    for source, submitted, decided_at in rows:
        seconds = (decided_at - submitted).total_seconds()
        durations["all"].append(seconds)
        if source in durations:
            durations[source].append(seconds)
    automatic = len(durations[DecisionSource.AUTOMATIC])
    tasks = ReviewTask.objects.open()
    statuses = dict(window.order_by().values_list("status").annotate(n=Count("id")))
    feedback = Feedback.objects.filter(created_at__gte=since).aggregate(
        average=Avg("rating"), count=Count("id")
    )
    return {
        "window_days": days,
        "submitted": sum(statuses.values()),
        "by_status": {s: statuses.get(s, 0) for s in InvoiceStatus.values},
        "decided": len(rows),
        "automatic_share": round(automatic / len(rows), 4) if rows else None,
        "decision_time": {
            key: _percentiles(values) for key, values in durations.items()
        },
        "queue": {
            "queued": tasks.filter(state=TaskState.QUEUED).count(),
            "claimed": tasks.filter(state=TaskState.CLAIMED).count(),
            "waiting": tasks.filter(state=TaskState.WAITING).count(),
            "at_risk": tasks.filter(warned_at__isnull=False)
            .not_breaching(now=now)
            .count(),
            "breached": tasks.breaching_sla(now=now).count(),
        },
        "feedback": {
            "average": round(float(feedback["average"]), 2)
            if feedback["average"] is not None
            else None,
            "count": feedback["count"],
        },
    }
