"""The performance page's data: the rollup for past days plus a live query for
today, shaped as tables (one per chart; the CSV download is the same table)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from invoiceportal.common.language import is_english
from invoiceportal.invoices.status import DecisionSource, InvoiceKindChoice, Priority
from reviews.checks.catalog import RULES_BY_CODE
from reviews.models import OPEN_STATES, RejectionReason, ReviewTask
from reviews.sla.stats import median_and_p90

from .models import Metric, RollupFact
from .rollup import compute_facts, local_today

TOP = 10
# Backlog age buckets: (code, upper bound in hours or None).
AGE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("lt4h", 4),
    ("4-24h", 24),
    ("1-3d", 72),
    ("3-7d", 168),
    ("gt7d", None),
)


@dataclass
class Table:
    """A chart's data: ``columns`` (header labels) and ``rows`` (plain values)."""

    code: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: str = "bar"  # bar, hbar, stacked, line
    series: list[int] = field(default_factory=lambda: [1])  # columns drawn
    unit: str = ""
    note: str = ""


@dataclass
class Aggregates:
    """Summed figures of a day range: ``by_day[(day, metric, key)] = [count, total]``
    and the decision durations per source."""

    by_day: dict[tuple[dt.date, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    durations: dict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )

    def add(self, day: dt.date, metric: str, key: str, count: int, total: int) -> None:
        cell = self.by_day[(day, metric, key)]
        cell[0] += count
        cell[1] += total

    def per_key(self, metric: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (_day, m, key), (count, total) in self.by_day.items():
            if m == metric:
                out[key][0] += count
                out[key][1] += total
        return out

    def per_day(self, metric: str, key: str | None = None) -> dict[dt.date, list[int]]:
        out: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
        for (day, m, k), (count, total) in self.by_day.items():
            if m == metric and (key is None or k == key):
                out[day][0] += count
                out[day][1] += total
        return out


def aggregates(
    start: dt.date,
    end: dt.date,
    *,
    organization_id: int | None = None,
    now: dt.datetime | None = None,
    use_rollup: bool = True,
) -> Aggregates:
    """Past days from the rollup, today live; with ``use_rollup=False`` everything
    live (the benchmark's baseline, and a cross-check in the tests)."""
    today = local_today(now)
    agg = Aggregates()
    live_from = today if use_rollup else start
    if use_rollup and start < today:
        last = min(end, today - dt.timedelta(days=1))
        rows = RollupFact.objects.filter(day__gte=start, day__lte=last)
        if organization_id is not None:
            rows = rows.filter(organization_id=organization_id)
        summed = (
            rows.order_by()
            .values_list("day", "metric", "key")
            .annotate(n=Sum("count"), t=Sum("total"))
        )
        for day, metric, key, n, t in summed:
            agg.add(day, metric, key, n or 0, t or 0)
        for key, durations in rows.filter(metric=Metric.DECIDED).values_list(
            "key", "durations"
        ):
            counter = agg.durations[key]
            for seconds, n in durations.items():
                counter[int(seconds)] += n
    if end >= live_from:
        facts = compute_facts(
            max(start, live_from), end, organization_id=organization_id
        )
        for (day, _org, metric, key), fact in facts.items():
            agg.add(day, metric, key, fact.count, fact.total)
            if metric == Metric.DECIDED:
                agg.durations[key].update(fact.durations)
    return agg


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def _week(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _expand(counter: Counter[int]) -> list[float]:
    values: list[float] = []
    for seconds in sorted(counter):
        values.extend([float(seconds)] * counter[seconds])
    return values


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def backlog(
    *, organization_id: int | None = None, now: dt.datetime | None = None
) -> dict[str, dict[int, int]]:
    """Open tasks now, by age bucket (since queued) and priority: one query."""
    now = now or timezone.now()
    whens = [
        When(enqueued_at__gt=now - dt.timedelta(hours=hours), then=Value(code))
        for code, hours in AGE_BUCKETS
        if hours is not None
    ]
    tasks = ReviewTask.objects.order_by().filter(state__in=OPEN_STATES)
    if organization_id is not None:
        tasks = tasks.filter(organization_id=organization_id)
    counts = (
        tasks.annotate(bucket=Case(*whens, default=Value(AGE_BUCKETS[-1][0])))
        .values_list("bucket", "priority")
        .annotate(n=Count("pk"))
    )
    out: dict[str, dict[int, int]] = {code: {} for code, _h in AGE_BUCKETS}
    for bucket, priority, n in counts:
        out[bucket][priority] = n
    return out


def age_label(code: str) -> str:
    return {
        "lt4h": _("under 4 hours"),
        "4-24h": _("4 to 24 hours"),
        "1-3d": _("1 to 3 days"),
        "3-7d": _("3 to 7 days"),
        "gt7d": _("over 7 days"),
    }[code]


def performance_tables(
    start: dt.date,
    end: dt.date,
    *,
    organization_id: int | None = None,
    now: dt.datetime | None = None,
    use_rollup: bool = True,
) -> list[Table]:
    """Every table of the page, in page order."""
    now = now or timezone.now()
    agg = aggregates(
        start, end, organization_id=organization_id, now=now, use_rollup=use_rollup
    )
    days = _days(start, end)
    tables: list[Table] = []

    # SLA attainment by day and by week.
    met, breached = agg.per_day(Metric.SLA, "met"), agg.per_day(Metric.SLA, "breached")
    tables.append(
        Table(
            "sla_daily",
            _("SLA attainment by day"),
            [_("Day"), _("Attainment (%)"), _("Within SLA"), _("Breached")],
            [
                [
                    d,
                    _percent(met[d][0], met[d][0] + breached[d][0]),
                    met[d][0],
                    breached[d][0],
                ]
                for d in days
            ],
            chart="line",
            unit="%",
        )
    )
    weeks: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for d in days:
        weeks[_week(d)][0] += met[d][0]
        weeks[_week(d)][1] += breached[d][0]
    tables.append(
        Table(
            "sla_weekly",
            _("SLA attainment by week"),
            [_("Week of"), _("Attainment (%)"), _("Within SLA"), _("Breached")],
            [[w, _percent(m, m + b), m, b] for w, (m, b) in sorted(weeks.items())],
            unit="%",
        )
    )

    # Backlog now.
    snapshot = backlog(organization_id=organization_id, now=now)
    priorities = sorted(Priority, key=lambda p: -p.value)
    tables.append(
        Table(
            "backlog",
            _("Open review tasks by age and priority"),
            [_("Age"), *[str(p.label) for p in priorities], _("Total")],
            [
                [
                    age_label(code),
                    *[snapshot[code].get(p.value, 0) for p in priorities],
                    sum(snapshot[code].values()),
                ]
                for code, _h in AGE_BUCKETS
            ],
            chart="stacked",
            series=list(range(1, len(priorities) + 1)),
            note=_("Now, whatever the date range."),
        )
    )

    # Decision time, median and p90, automatic and human.
    rows = []
    sources = [
        (DecisionSource.AUTOMATIC, str(DecisionSource.AUTOMATIC.label)),
        (DecisionSource.REVIEWER, str(DecisionSource.REVIEWER.label)),
    ]
    everything: Counter[int] = Counter()
    for code, label in sources:
        counter = agg.durations.get(code, Counter())
        everything.update(counter)
        median, p90 = median_and_p90(_expand(counter))
        rows.append(
            [
                label,
                sum(counter.values()),
                _minutes(median),
                _minutes(p90),
            ]
        )
    median, p90 = median_and_p90(_expand(everything))
    rows.append(
        [
            _("All"),
            sum(everything.values()),
            _minutes(median),
            _minutes(p90),
        ]
    )
    tables.append(
        Table(
            "decision_time",
            _("Time from upload to decision"),
            [
                _("Decided by"),
                _("Decisions"),
                _("Median (minutes)"),
                _("90th percentile (minutes)"),
            ],
            rows,
            series=[2, 3],
            unit=_("min"),
        )
    )

    # Automation rate by day.
    auto = agg.per_day(Metric.DECIDED, DecisionSource.AUTOMATIC)
    human = agg.per_day(Metric.DECIDED, DecisionSource.REVIEWER)
    tables.append(
        Table(
            "automation",
            _("Automation rate"),
            [_("Day"), _("Automatic (%)"), _("Automatic"), _("By a reviewer")],
            [
                [
                    d,
                    _percent(auto[d][0], auto[d][0] + human[d][0]),
                    auto[d][0],
                    human[d][0],
                ]
                for d in days
            ],
            chart="line",
            unit="%",
        )
    )

    # Top failing rules and rejection reasons.
    en = is_english()
    fails = sorted(
        agg.per_key(Metric.RULE_FAIL).items(), key=lambda kv: (-kv[1][0], kv[0])
    )

    def rule_title(code: str) -> str:
        spec = RULES_BY_CODE.get(code)
        return (spec.title_en if en else spec.title_zh) if spec else code

    tables.append(
        Table(
            "rules",
            _("Top failing rules"),
            [_("Rule"), _("Failures"), _("Code")],
            [[rule_title(code), n, code] for code, (n, _t) in fails[:TOP]],
            chart="hbar",
        )
    )
    labels = {
        r.code: r.label("en" if en else "zh") for r in RejectionReason.objects.all()
    }
    reasons = sorted(
        agg.per_key(Metric.REJECTION).items(), key=lambda kv: (-kv[1][0], kv[0])
    )
    tables.append(
        Table(
            "reasons",
            _("Top rejection reasons"),
            [_("Reason"), _("Rejections"), _("Code")],
            [
                [labels.get(code, code or "—"), n, code]
                for code, (n, _t) in reasons[:TOP]
            ],
            chart="hbar",
        )
    )

    # Per reviewer: decisions, second reviews of their approvals, disagreements.
    decisions = agg.per_key(Metric.REVIEWER)
    seconds = agg.per_key(Metric.SECOND)
    ids = sorted({int(k) for k in [*decisions, *seconds] if k.isdigit()})
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))
    reviewer_rows = []
    for user_id in ids:
        n = decisions.get(str(user_id), [0, 0])[0]
        second, disagreed = seconds.get(str(user_id), [0, 0])
        reviewer_rows.append(
            [
                names.get(user_id, f"#{user_id}"),
                n,
                second,
                disagreed,
                _percent(disagreed, second),
            ]
        )
    reviewer_rows.sort(key=lambda r: (-r[1], r[0]))
    tables.append(
        Table(
            "reviewers",
            _("Reviewer throughput and second-review disagreement"),
            [
                _("Reviewer"),
                _("Decisions"),
                _("Approvals second-reviewed"),
                _("Overturned"),
                _("Disagreement rate (%)"),
            ],
            reviewer_rows,
            chart="hbar",
        )
    )

    # Satisfaction by week.
    feedback = agg.per_day(Metric.FEEDBACK)
    fweeks: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for d in days:
        fweeks[_week(d)][0] += feedback[d][0]
        fweeks[_week(d)][1] += feedback[d][1]
    tables.append(
        Table(
            "satisfaction",
            _("Satisfaction (feedback) by week"),
            [_("Week of"), _("Average rating (1-5)"), _("Ratings")],
            [
                [w, round(t / n, 2) if n else None, n]
                for w, (n, t) in sorted(fweeks.items())
            ],
            chart="line",
        )
    )

    # Volume by invoice kind.
    volume = agg.per_key(Metric.VOLUME)
    tables.append(
        Table(
            "volume",
            _("Invoices submitted by kind"),
            [_("Kind"), _("Invoices"), _("Code")],
            [
                [
                    str(InvoiceKindChoice(k).label)
                    if k in InvoiceKindChoice.values
                    else k,
                    n,
                    k,
                ]
                for k, (n, _t) in sorted(
                    volume.items(), key=lambda kv: (-kv[1][0], kv[0])
                )
            ],
            chart="hbar",
        )
    )
    return tables


TABLE_CODES = (
    "sla_daily",
    "sla_weekly",
    "backlog",
    "decision_time",
    "automation",
    "rules",
    "reasons",
    "reviewers",
    "satisfaction",
    "volume",
)
