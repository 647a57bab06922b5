"""Reads of the review queue: the list, its counts, a task with everything needed to
decide it, the supervisors' board, and the SLA summary shown to submitters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Perm
from invoiceportal.common.errors import NotFoundError
from invoiceportal.common.language import is_english
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from reviews.checks.explain import CheckExplanation, explain_checks
from reviews.models import (
    CannedReply,
    CheckResult,
    RejectionReason,
    ReviewTask,
    SecondReviewRuleCode,
    TaskStage,
    TaskState,
    at_risk_q,
    breaching_q,
    task_is_at_risk,
    task_is_breaching,
)
from reviews.sla.calendar import business_minutes_between
from reviews.sla.eta import throughput_from_history

from .sla import remaining_seconds

THROUGHPUT_WINDOW_BUSINESS_HOURS = 8.0
HANDLE_HISTORY = 50
DEFAULT_HANDLE_MINUTES = 20.0


def review_task_list(*, user: Any):
    """Open tasks this user may see, in claim order (time to breach first)."""
    return (
        ReviewTask.objects.visible_to(user)
        .open()
        .select_related(
            "invoice", "organization", "assigned_to", "first_reviewer", "sla_policy"
        )
        .in_claim_order()
    )


def review_task_counts(*, tasks, now: dt.datetime, user: Any = None) -> dict[str, int]:
    """Counts of a (filtered) task queryset in one query ("breaching" and "at risk"
    as ``reviews.models`` defines them); with ``user``, also every saved view's
    count under the view's code (:data:`QUEUE_VIEWS`)."""
    extra: dict[str, Count] = {}
    if user is not None:
        extra = {
            "mine": Count("pk", filter=queue_view_q("mine", user=user, now=now)),
            "second": Count("pk", filter=queue_view_q("second", user=user, now=now)),
        }
    return tasks.order_by().aggregate(
        total=Count("pk"),
        queued=Count("pk", filter=Q(state=TaskState.QUEUED)),
        claimed=Count("pk", filter=Q(state=TaskState.CLAIMED)),
        waiting=Count("pk", filter=Q(state=TaskState.WAITING)),
        breaching=Count("pk", filter=breaching_q(now)),
        at_risk=Count("pk", filter=at_risk_q(now)),
        **extra,
    )


# The queue's saved views (``?view=<code>``; "" is every open task), in tab order.
QUEUE_VIEWS: tuple[tuple[str, Any], ...] = (
    ("", gettext_lazy("All open")),
    ("mine", gettext_lazy("Mine")),
    ("breaching", gettext_lazy("Breaching")),
    ("at_risk", gettext_lazy("At risk")),
    ("waiting", gettext_lazy("Waiting for the submitter")),
    ("second", gettext_lazy("Second review")),
)
QUEUE_VIEW_CODES = frozenset(code for code, _label in QUEUE_VIEWS)


def queue_view(value: str | None) -> str:
    """The saved view a ``?view=`` value names; anything else is "" (all open)."""
    return value if value in QUEUE_VIEW_CODES else ""


def queue_view_q(view: str, *, user: Any, now: dt.datetime) -> Q:
    """The condition of a saved view: "mine" is claimed by ``user``; "breaching"
    and "at_risk" are the definitions of ``reviews.models``; "waiting" has its clock
    paused on the submitter; "second" is the four-eyes stage."""
    if view == "mine":
        return Q(state=TaskState.CLAIMED, assigned_to_id=user.pk)
    if view == "breaching":
        return breaching_q(now)
    if view == "at_risk":
        return at_risk_q(now)
    if view == "waiting":
        return Q(state=TaskState.WAITING)
    if view == "second":
        return Q(stage=TaskStage.SECOND)
    return Q()


def review_task_get_for_user(*, user: Any, task_id: int) -> ReviewTask:
    """The task if this user may see it; 404 for missing and for someone else's."""
    task = (
        ReviewTask.objects.visible_to(user)
        .select_related(
            "invoice",
            "invoice__organization",
            "invoice__submitted_by",
            "assigned_to",
            "first_reviewer",
            "decided_by",
            "sla_policy",
        )
        .prefetch_related("pauses")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFoundError(_("This review task does not exist."))
    return task


def timers(task: ReviewTask, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Every clock of a task, not only the nearest."""
    rows: list[dict[str, Any]] = [
        {"code": "enqueued", "label": _("Queued"), "at": task.enqueued_at},
        {
            "code": "warn",
            "label": _("SLA warning (%(percent)s%%)")
            % {"percent": task.sla_warn_percent or task.sla_policy.warn_at_percent},
            "at": task.warn_at,
            "done_at": task.warned_at,
        },
        {
            "code": "due",
            "label": _("SLA due"),
            "at": task.due_at,
            "done_at": task.breached_at,
        },
    ]
    if task.state == TaskState.CLAIMED:
        rows.append(
            {
                "code": "lease",
                "label": _("Claim expires"),
                "at": task.lease_expires_at,
            }
        )
    for row in rows:
        at = row.get("at")
        row["passed"] = bool(at and at <= now)
    return rows


# Titles of the catalog written for submitters ("your organization"), as a reviewer
# reads them: (Chinese, English).
REVIEWER_TITLES = {
    "parties.buyer_tax_id": (
        "购买方税号为提交单位的税号",
        "Buyer tax ID is the submitting organization's",
    ),
    "parties.buyer_name": (
        "购买方名称为提交单位的名称",
        "Buyer name is the submitting organization's",
    ),
}


@dataclass(frozen=True)
class TaskChecks:
    """The latest screening round as the workbench shows it: what needs the
    reviewer's attention (failures, the most severe first), then the checks that
    passed (collapsed under their count) and those skipped."""

    attention: list[CheckExplanation]
    passed: list[CheckExplanation]
    skipped: list[CheckExplanation]

    @property
    def all(self) -> list[CheckExplanation]:
        return [*self.attention, *self.passed, *self.skipped]

    @property
    def total(self) -> int:
        return len(self.all)


def _for_reviewer(check: CheckExplanation, *, en: bool) -> CheckExplanation:
    titles = REVIEWER_TITLES.get(check.rule)
    if titles is None:
        return check
    return replace(check, title=titles[1] if en else titles[0])


def task_checks(invoice: Invoice) -> TaskChecks:
    """The latest screening round explained (``reviews.checks.explain``, its one
    order), titled for reviewers, split for the workbench."""
    en = is_english()
    checks = [
        _for_reviewer(c, en=en)
        for c in explain_checks(
            CheckResult.objects.latest_round(invoice.pk), english=en
        )
    ]
    return TaskChecks(
        attention=[c for c in checks if c.failed],
        passed=[c for c in checks if c.outcome == "pass"],
        skipped=[c for c in checks if not c.failed and c.outcome != "pass"],
    )


def seller_history(invoice: Invoice, *, limit: int = 10) -> dict[str, Any]:
    """This seller's other invoices to this organization: counts and the latest."""
    if not invoice.seller_tax_id:
        return {"counts": {}, "recent": [], "total": 0}
    others = Invoice.objects.filter(
        organization_id=invoice.organization_id,
        seller_tax_id=invoice.seller_tax_id,
    ).exclude(pk=invoice.pk)
    counts = dict(others.order_by().values_list("status").annotate(n=Count("pk")))
    recent = list(
        others.only(
            "id", "reference", "status", "total_amount", "issue_date", "submitted_at"
        ).order_by("-submitted_at")[:limit]
    )
    return {
        "counts": {InvoiceStatus(k).label: v for k, v in counts.items()},
        "recent": recent,
        "total": sum(counts.values()),
    }


def earlier_submissions(invoice: Invoice) -> list[Invoice]:
    """Other submissions of the same invoice: same identity, or the resubmission
    chain."""
    q = Q(pk=invoice.resubmission_of_id) | Q(resubmission_of_id=invoice.pk)
    if invoice.identity:
        q |= Q(identity=invoice.identity)
    return list(
        Invoice.objects.filter(q)
        .exclude(pk=invoice.pk)
        .select_related("organization")
        .only(
            "id",
            "reference",
            "status",
            "decision_reason",
            "submitted_at",
            "organization__name",
        )
        .order_by("-submitted_at")[:20]
    )


def second_review_labels(task: ReviewTask) -> list[str]:
    return [
        str(SecondReviewRuleCode(c).label)
        for c in task.second_review_reasons
        if c in SecondReviewRuleCode.values
    ]


def rejection_reasons() -> list[RejectionReason]:
    """The active reasons (seeded by migration; never created by reading)."""
    return list(RejectionReason.objects.filter(is_active=True))


def canned_replies() -> list[CannedReply]:
    """The admin-managed texts a reviewer can start a question from."""
    return list(CannedReply.objects.filter(is_active=True))


def previous_tasks(task: ReviewTask) -> list[ReviewTask]:
    return list(
        ReviewTask.objects.filter(invoice_id=task.invoice_id, state=TaskState.DONE)
        .exclude(pk=task.pk)
        .select_related("decided_by")
        .order_by("created_at")
    )


# ------------------------------------------------------------------ the board


def supervisor_board(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Who holds what, workload per reviewer, tasks breached, at risk and waiting
    for the submitter (each list at most 100 or 200 rows; ``counts`` has them all)."""
    now = now or timezone.now()
    open_tasks = ReviewTask.objects.open()
    held = list(
        open_tasks.filter(state=TaskState.CLAIMED)
        .select_related("invoice", "assigned_to", "sla_policy")
        .in_claim_order()[:200]
    )
    day_start = timezone.localtime(now).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    reviewers = list(
        User.objects.filter(
            Q(groups__permissions__codename=Perm.REVIEW.value) | Q(is_superuser=True),
            is_active=True,
        )
        .distinct()
        .annotate(
            holding=Count(
                "review_tasks",
                filter=Q(review_tasks__state=TaskState.CLAIMED),
                distinct=True,
            ),
        )
        .order_by("username")
    )
    decided = dict(
        ReviewTask.objects.filter(decided_at__gte=day_start, decided_by__isnull=False)
        .values_list("decided_by")
        .annotate(n=Count("pk"))
        .order_by()
    )
    last = dict(
        ReviewTask.objects.filter(decided_by__isnull=False)
        .values_list("decided_by")
        .annotate(last=Max("decided_at"))
        .order_by()
    )
    for reviewer in reviewers:
        reviewer.decided_today = decided.get(reviewer.pk, 0)
        reviewer.last_decision = last.get(reviewer.pk)
    related = ("invoice", "assigned_to", "sla_policy")
    breached = list(
        open_tasks.breaching_sla(now=now)
        .select_related(*related)
        .in_claim_order()[:100]
    )
    at_risk = list(
        open_tasks.at_risk(now=now).select_related(*related).in_claim_order()[:100]
    )
    waiting = list(
        open_tasks.filter(state=TaskState.WAITING)
        .select_related(*related)
        .in_claim_order()[:100]
    )
    return {
        "held": held,
        "waiting": waiting,
        "reviewers": reviewers,
        "breached": breached,
        "at_risk": at_risk,
        "counts": review_task_counts(tasks=open_tasks, now=now),
    }


# ------------------------------------------------ recent pace (ETA, forecast)


def recent_throughput_and_handle(cal: Any, now: dt.datetime) -> tuple[float, float]:
    """Reviewer decisions per business hour over the recent window, and the mean
    business minutes from claim to decision (the ETA's two figures). Read by every
    ETA and slow to change: computed at most once per ``QUEUE_STATS_CACHE_SECONDS``
    (per time bucket of ``now``) and shared through the cache, because a busy queue's
    fourteen days of decisions are many rows to read for each page."""
    ttl = settings.QUEUE_STATS_CACHE_SECONDS
    if ttl <= 0:
        return _throughput_and_handle(cal, now)
    key = f"queue-stats:{int(now.timestamp()) // ttl}"
    found = cache.get(key)
    if found is None:
        found = _throughput_and_handle(cal, now)
        cache.set(key, found, ttl)
    return tuple(found)  # type: ignore[return-value]


def _throughput_and_handle(cal: Any, now: dt.datetime) -> tuple[float, float]:
    window_start = now - dt.timedelta(days=14)
    times = list(
        ReviewTask.objects.filter(
            decided_at__gt=window_start,
            decided_at__lte=now,
            decided_by__isnull=False,
        ).values_list("decided_at", flat=True)
    )
    throughput = (
        throughput_from_history(times, cal, now, THROUGHPUT_WINDOW_BUSINESS_HOURS)
        if times
        else 0.0
    )
    recent = ReviewTask.objects.filter(
        decided_at__isnull=False,
        claimed_at__isnull=False,
        decided_by__isnull=False,
    ).order_by("-decided_at")[:HANDLE_HISTORY]
    spans = [
        business_minutes_between(cal, claimed, decided)
        for claimed, decided in recent.values_list("claimed_at", "decided_at")
        if decided >= claimed
    ]
    handle = (sum(spans) / len(spans)) if spans else DEFAULT_HANDLE_MINUTES
    return throughput, max(handle, 1.0)


def row_remaining(task: ReviewTask, *, cal: Any, now: dt.datetime) -> dict[str, Any]:
    """The countdown data of one queue row; ``level`` is "breach" when the task is
    breaching, "warn" when at risk (the definitions of ``reviews.models``)."""
    seconds = remaining_seconds(task, cal=cal, now=now)
    target = (task.sla_target_minutes or task.sla_policy.target_business_minutes) * 60
    warn_percent = task.sla_warn_percent or task.sla_policy.warn_at_percent
    level = "ok"
    if task_is_breaching(task, now):
        level = "breach"
    elif task_is_at_risk(task, now):
        level = "warn"
    return {
        "seconds": None if seconds is None else int(seconds),
        "target": target,
        "warn_percent": warn_percent,
        "level": level,
    }
