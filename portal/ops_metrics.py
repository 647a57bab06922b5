"""The portal's figures on ``/metrics``, read from the database at scrape time
(issue 13, section 3): every web process answers the same, whichever process did the
work (the worker screens, delivers notifications and webhooks).

Registered as metric sources of :mod:`invoiceportal.common.prometheus` by
``PortalConfig.ready``; the top layer may read every lower one.

* review queue: open tasks by priority and state, the oldest queued task's age,
  tasks breaching or at risk now, SLA breaches so far (a counter);
* screening: latency (submission or answer to a reviewer's question until the
  screening's outcome) of the screenings finished in the last
  ``METRICS_SCREENING_WINDOW_MINUTES``, as a gauge histogram; invoices waiting for
  screening and the oldest one's wait;
* notifications: failed attempts of messages not delivered yet, messages given up
  on;
* webhooks: failed delivery attempts (counter), deliveries waiting or given up,
  paused endpoints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)

from invoiceportal.common.prometheus import (
    PREFIX,
    register_metric_source,
)
from invoiceportal.invoices.models import Invoice, TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus, Priority
from invoiceportal.notifications.models import Channel, Notification
from invoiceportal.notifications.services import MAX_ATTEMPTS
from reviews.models import (
    OPEN_STATES,
    ReviewTask,
    TaskState,
    at_risk_q,
    breaching_q,
)
from webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

PRIORITIES = {p.value: p.name.lower() for p in Priority}
# Screening ends with one of these events (reviews.screening; intake's unreadable
# or duplicate document read by the worker); it started at the submission or at the
# submitter's answer.
SCREENING_OUTCOMES = (
    "auto_approved",
    "auto_rejected",
    "sent_to_review",
    "unreadable",
    "duplicate_of",
)
SCREENING_STARTS = ("submitted", "info_provided")
SCREENING_SAMPLE = 20_000  # most recent outcomes read per scrape
SCREENING_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def review_queue(now: dt.datetime) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        f"{PREFIX}_review_queue_depth",
        "Open review tasks by priority and state.",
        labels=["priority", "state"],
    )
    counts = {
        (row["priority"], row["state"]): row["n"]
        for row in ReviewTask.objects.filter(state__in=OPEN_STATES)
        .order_by()
        .values("priority", "state")
        .annotate(n=Count("pk"))
    }
    for value, name in PRIORITIES.items():
        for state in OPEN_STATES:
            depth.add_metric([name, str(state)], counts.get((value, state), 0))
    yield depth

    oldest = GaugeMetricFamily(
        f"{PREFIX}_review_oldest_task_age_seconds",
        "Age of the oldest task waiting in the queue (unclaimed), by priority; "
        "0 when none waits.",
        labels=["priority"],
    )
    firsts = dict(
        ReviewTask.objects.filter(state=TaskState.QUEUED)
        .order_by()
        .values_list("priority")
        .annotate(first=Min("enqueued_at"))
    )
    for value, name in PRIORITIES.items():
        first = firsts.get(value)
        oldest.add_metric(
            [name], max(0.0, (now - first).total_seconds()) if first else 0.0
        )
    yield oldest

    sla = ReviewTask.objects.filter(state__in=OPEN_STATES).aggregate(
        breaching=Count("pk", filter=breaching_q(now)),
        at_risk=Count("pk", filter=at_risk_q(now)),
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_review_tasks_breaching",
        "Running review tasks past their deadline now.",
        value=sla["breaching"],
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_review_tasks_at_risk",
        "Running review tasks past their warning time, not breaching yet.",
        value=sla["at_risk"],
    )
    yield CounterMetricFamily(
        f"{PREFIX}_review_sla_breaches",
        "Review tasks that missed their deadline, since the portal started counting.",
        value=ReviewTask.objects.filter(breached_at__isnull=False).count(),
    )


def screening_latencies(
    now: dt.datetime, window: dt.timedelta, limit: int = SCREENING_SAMPLE
) -> list[float]:
    """Seconds from submission (or answer) to the screening's outcome, for the
    screenings that ended in ``window`` before ``now`` (the invoice's
    ``submitted_at`` when no start event was written). Only outcomes that follow a
    ``screening`` step count (a registry re-check of a task in review does not)."""
    before = TimelineEvent.objects.filter(
        invoice=OuterRef("invoice"), at__lte=OuterRef("at")
    ).exclude(pk=OuterRef("pk"))
    rows = (
        TimelineEvent.objects.filter(
            at__gt=now - window, at__lte=now, code__in=SCREENING_OUTCOMES
        )
        .annotate(
            previous=Subquery(before.order_by("-at", "-pk").values("status")[:1]),
            started=Coalesce(
                Subquery(
                    before.filter(code__in=SCREENING_STARTS)
                    .order_by("-at", "-pk")
                    .values("at")[:1]
                ),
                F("invoice__submitted_at"),
            ),
        )
        .filter(previous=InvoiceStatus.SCREENING)
        .order_by("-at")
        .values_list("at", "started")[:limit]
    )
    return [max(0.0, (end - start).total_seconds()) for end, start in rows]


def screening(now: dt.datetime) -> Iterator[Metric]:
    window = dt.timedelta(minutes=settings.METRICS_SCREENING_WINDOW_MINUTES)
    latencies = screening_latencies(now, window)
    buckets = [
        (str(bound), float(sum(1 for s in latencies if s <= bound)))
        for bound in SCREENING_BUCKETS
    ]
    buckets.append(("+Inf", float(len(latencies))))
    yield GaugeHistogramMetricFamily(
        f"{PREFIX}_screening_latency_seconds",
        "Time from submission (or the submitter's answer) to the automatic checks' "
        f"outcome, for the screenings finished in the last "
        f"{settings.METRICS_SCREENING_WINDOW_MINUTES} minutes.",
        buckets=buckets,
        gsum_value=sum(latencies),
    )
    waiting = Invoice.objects.filter(
        status__in=[InvoiceStatus.RECEIVED, InvoiceStatus.SCREENING]
    ).aggregate(n=Count("pk"), since=Min("updated_at"))
    yield GaugeMetricFamily(
        f"{PREFIX}_screening_pending",
        "Invoices received or in screening, waiting for the automatic checks.",
        value=waiting["n"],
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_screening_oldest_pending_age_seconds",
        "How long the longest-waiting invoice has waited for its checks (0: none).",
        value=max(0.0, (now - waiting["since"]).total_seconds())
        if waiting["since"]
        else 0.0,
    )


def notifications(now: dt.datetime) -> Iterator[Metric]:
    """Only the undelivered email and SMS rows are read (the partial index
    ``notification_undelivered``): delivered ones are most of the table."""
    failures = GaugeMetricFamily(
        f"{PREFIX}_notification_delivery_failures",
        "Failed delivery attempts of email and SMS notifications not delivered yet.",
        labels=["channel"],
    )
    undelivered = GaugeMetricFamily(
        f"{PREFIX}_notifications_undelivered",
        "Email and SMS notifications tried and not delivered (yet).",
        labels=["channel"],
    )
    given_up = GaugeMetricFamily(
        f"{PREFIX}_notifications_given_up",
        f"Email and SMS notifications not delivered after {MAX_ATTEMPTS} attempts.",
        labels=["channel"],
    )
    rows = {
        row["channel"]: row
        for row in Notification.objects.filter(sent_at__isnull=True)
        .exclude(channel=Channel.IN_APP)
        .order_by()
        .values("channel")
        .annotate(
            failed=Sum("attempts"),
            tried=Count("pk", filter=Q(attempts__gt=0)),
            gave_up=Count("pk", filter=Q(attempts__gte=MAX_ATTEMPTS)),
        )
    }
    for channel in Channel.values:
        if channel == Channel.IN_APP:
            continue
        row = rows.get(channel, {})
        failures.add_metric([channel], row.get("failed") or 0)
        undelivered.add_metric([channel], row.get("tried", 0))
        given_up.add_metric([channel], row.get("gave_up", 0))
    yield failures
    yield undelivered
    yield given_up


def webhooks(now: dt.datetime) -> Iterator[Metric]:
    yield CounterMetricFamily(
        f"{PREFIX}_webhook_delivery_failures",
        "Failed webhook delivery attempts (refused address, no answer, error status).",
        value=WebhookAttempt.objects.exclude(error_code="").count(),
    )
    states = dict(
        WebhookDelivery.objects.filter(
            state__in=[
                DeliveryState.PENDING,
                DeliveryState.SENDING,
                DeliveryState.FAILED,
            ]
        )
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    deliveries = GaugeMetricFamily(
        f"{PREFIX}_webhook_deliveries",
        "Webhook deliveries waiting, being sent, or given up on.",
        labels=["state"],
    )
    for state in (DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.FAILED):
        deliveries.add_metric([str(state)], states.get(state, 0))
    yield deliveries
    yield GaugeMetricFamily(
        f"{PREFIX}_webhook_endpoints_paused",
        "Webhook endpoints paused after failing for the whole retry window.",
        value=WebhookEndpoint.objects.filter(paused_at__isnull=False).count(),
    )


def register() -> None:
    register_metric_source("review_queue", review_queue)
    register_metric_source("screening", screening)
    register_metric_source("notifications", notifications)
    register_metric_source("webhooks", webhooks)
