"""Daily figures from the invoices, review tasks, check results and feedback.

``compute_facts`` aggregates a range of local days straight from the source tables
(the live query: used for today, and as the benchmark's baseline);
``rollup_refresh`` stores the same figures in ``RollupFact`` for past days.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from invoiceportal.invoices.models import Feedback, Invoice
from invoiceportal.invoices.status import DECIDED, DecisionSource
from reviews.models import (
    CheckOutcomeChoice,
    CheckResult,
    ReviewTask,
    TaskDecision,
    TaskStage,
)
from reviews.queue.calendar import CALENDAR_TZ

from .definitions import breached_decided_q, human_decided_q
from .models import Metric, RollupFact

ZONE = ZoneInfo(CALENDAR_TZ)

FactKey = tuple[dt.date, int, str, str]  # day, organization id, metric, key


class Fact:
    """One day's figure: how many, a sum (ratings, disagreements), durations."""

    __slots__ = ("count", "durations", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.durations: Counter[int] = Counter()


Facts = dict[FactKey, Fact]


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(ZONE).date()


def day_bounds(start_day: dt.date, end_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start of start_day, start of the day after end_day)`` in local time."""
    start = dt.datetime.combine(start_day, dt.time(0), tzinfo=ZONE)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time(0), tzinfo=ZONE)
    return start, end


def two_figures(seconds: float) -> int:
    """Seconds rounded to two significant figures (at most 5 % off): how decision
    times are kept in the rollup, so a day's durations stay a short list."""
    s = max(0, round(seconds))
    if s < 100:
        return s
    step = 10 ** (len(str(s)) - 2)
    return (s + step // 2) // step * step


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=ZONE)


def compute_facts(
    start_day: dt.date, end_day: dt.date, *, organization_id: int | None = None
) -> Facts:
    """Every figure of the days ``start_day``..``end_day`` (local), per organization."""
    start, end = day_bounds(start_day, end_day)
    facts: Facts = defaultdict(Fact)
    org = {} if organization_id is None else {"organization_id": organization_id}
    inv_org = (
        {} if organization_id is None else {"invoice__organization_id": organization_id}
    )

    def add(key: FactKey, count: int, total: int = 0) -> None:
        fact = facts[key]
        fact.count += count
        fact.total += total or 0

    invoices = Invoice.objects.order_by().filter(**org)
    volume = (
        invoices.filter(submitted_at__gte=start, submitted_at__lt=end)
        .annotate(d=_day("submitted_at"))
        .values_list("d", "organization_id", "kind")
        .annotate(n=Count("pk"))
    )
    for day, org_id, kind, n in volume:
        add((day, org_id, Metric.VOLUME, kind), n)

    decided = invoices.filter(
        decided_at__gte=start,
        decided_at__lt=end,
        status__in=sorted(DECIDED),
        decision_source__in=DecisionSource.values,
    ).values_list("organization_id", "decision_source", "submitted_at", "decided_at")
    for org_id, source, submitted, decided_at in decided.iterator(chunk_size=5000):
        fact = facts[
            (decided_at.astimezone(ZONE).date(), org_id, Metric.DECIDED, source)
        ]
        fact.count += 1
        fact.durations[two_figures((decided_at - submitted).total_seconds())] += 1

    tasks = ReviewTask.objects.order_by().filter(
        human_decided_q(), decided_at__gte=start, decided_at__lt=end, **org
    )
    sla = (
        tasks.annotate(
            d=_day("decided_at"),
            late=Case(
                When(breached_decided_q(), then=1),
                default=0,
                output_field=IntegerField(),
            ),
        )
        .values_list("d", "organization_id", "late")
        .annotate(n=Count("pk"))
    )
    for day, org_id, late, n in sla:
        add((day, org_id, Metric.SLA, "breached" if late else "met"), n)
    rejections = (
        tasks.filter(decision=TaskDecision.REJECT)
        .annotate(d=_day("decided_at"))
        .values_list("d", "organization_id", "reason_code")
        .annotate(n=Count("pk"))
    )
    for day, org_id, code, n in rejections:
        add((day, org_id, Metric.REJECTION, code or ""), n)
    reviewers = (
        tasks.annotate(d=_day("decided_at"))
        .values_list("d", "organization_id", "decided_by_id")
        .annotate(n=Count("pk"))
    )
    for day, org_id, user_id, n in reviewers:
        add((day, org_id, Metric.REVIEWER, str(user_id)), n)
    # Second reviews, per first reviewer: how many, and how many the second reviewer
    # did not approve (the first reviewer had approved: that is why it exists).
    seconds = (
        tasks.filter(stage=TaskStage.SECOND, first_reviewer__isnull=False)
        .annotate(d=_day("decided_at"))
        .values_list("d", "organization_id", "first_reviewer_id")
        .annotate(
            n=Count("pk"), disagreed=Count("pk", filter=Q(decision=TaskDecision.REJECT))
        )
    )
    for day, org_id, user_id, n, disagreed in seconds:
        add((day, org_id, Metric.SECOND, str(user_id)), n, disagreed)

    failures = (
        CheckResult.objects.order_by()
        .filter(
            outcome=CheckOutcomeChoice.FAIL,
            created_at__gte=start,
            created_at__lt=end,
            **inv_org,
        )
        .annotate(d=_day("created_at"))
        .values_list("d", "invoice__organization_id", "rule_code")
        .annotate(n=Count("pk"))
    )
    for day, org_id, code, n in failures:
        add((day, org_id, Metric.RULE_FAIL, code), n)

    feedback = (
        Feedback.objects.order_by()
        .filter(created_at__gte=start, created_at__lt=end, **inv_org)
        .annotate(d=_day("created_at"))
        .values_list("d", "invoice__organization_id")
        .annotate(n=Count("pk"), ratings=Sum("rating"))
    )
    for day, org_id, n, ratings in feedback:
        add((day, org_id, Metric.FEEDBACK, ""), n, ratings)
    return facts


def rollup_refresh(
    start_day: dt.date, end_day: dt.date, *, now: dt.datetime | None = None
) -> int:
    """Recompute and store the figures of ``start_day``..``end_day``; rows stored."""
    if end_day < start_day:
        raise ValueError("end_day must not be before start_day.")
    now = now or timezone.now()
    facts = compute_facts(start_day, end_day)
    rows = [
        RollupFact(
            day=day,
            organization_id=org_id,
            metric=metric,
            key=key,
            count=fact.count,
            total=fact.total,
            durations={str(k): v for k, v in sorted(fact.durations.items())},
            refreshed_at=now,
        )
        for (day, org_id, metric, key), fact in facts.items()
    ]
    with transaction.atomic():
        RollupFact.objects.filter(day__gte=start_day, day__lte=end_day).delete()
        RollupFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def rollup_refresh_recent(*, days_back: int, now: dt.datetime | None = None) -> int:
    """The scheduled refresh: the last ``days_back`` local days up to yesterday, and
    today (which the page reads live, but an early start tomorrow finds it)."""
    today = local_today(now)
    return rollup_refresh(today - dt.timedelta(days=max(days_back, 1)), today, now=now)
