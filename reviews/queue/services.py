"""The review queue's services: open, claim, release, reassign, decide, resume, and
the SLA sweep (DESIGN.md sections 4 and 6).

Locking (style.md): every service that changes a task locks the invoice row first,
then the task row, and re-checks state and ownership once both are held. Claiming the
next task is the exception that proves the rule: it takes no other lock, and it skips
rows somebody else holds (``skip_locked``), so it never waits and never deadlocks.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.roles import Perm, user_can
from invoiceportal.common.compiled import CompiledQuery
from invoiceportal.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.invoices.lifecycle import invoice_transition, timeline_note
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.notify import notify_about_invoice
from invoiceportal.invoices.separation import require_staff_separation
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus, Priority
from invoiceportal.notifications.models import Kind
from reviews.models import (
    OPEN_STATES,
    RejectionReason,
    ReviewTask,
    ReviewTaskPause,
    SecondReviewRule,
    SecondReviewRuleCode,
    SLAPolicy,
    TaskDecision,
    TaskStage,
    TaskState,
)
from webhooks.services import webhook_event_record

from .calendar import business_calendar
from .notify import notify_supervisors
from .selectors import second_review_labels
from .sla import pause_intervals, schedule
from .transitions import (
    TaskMove,
    check_move,
    record_move,
    sources_of,
    target_of,
    task_move,
)

logger = logging.getLogger(__name__)

PRIORITY_NAMES = {
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.URGENT: "urgent",
}


def lease_minutes() -> int:
    """How long a claim lasts untouched (``REVIEW_LEASE_MINUTES``)."""
    return settings.REVIEW_LEASE_MINUTES


def max_open_claims() -> int:
    """How many claimed tasks one reviewer may hold (``REVIEW_MAX_OPEN_CLAIMS``)."""
    return settings.REVIEW_MAX_OPEN_CLAIMS


def _lease_until(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(minutes=lease_minutes())


def _local(t: dt.datetime | None) -> str:
    return "" if t is None else timezone.localtime(t).strftime("%Y-%m-%d %H:%M")


def _require(user: Any, perm: Perm) -> None:
    if not user_can(user, perm):
        raise PermissionDeniedError(
            _("You do not have the permission to do this."), code="permission_denied"
        )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Call this inside the transaction that locks the invoice.")


# ----------------------------------------------------------------- separation


def _require_task_separation(*, user: Any, task: ReviewTask) -> None:
    require_staff_separation(
        user=user,
        organization_id=task.organization_id,
        submitted_by_id=task.submitted_by_id,
    )


def separation_problem(*, user: Any, task: ReviewTask) -> str | None:
    """Why ``user`` may not review ``task``, or None (checked under the lock)."""
    if task.submitted_by_id == user.pk:
        return str(_("You cannot review an invoice you submitted."))
    if user.organization_id and task.organization_id == user.organization_id:
        return str(_("You cannot review an invoice of your own organization."))
    if task.stage == TaskStage.SECOND and task.first_reviewer_id == user.pk:
        return str(
            _("The second review must be done by another reviewer than the first.")
        )
    return None


def _check_separation(*, user: Any, task: ReviewTask) -> None:
    problem = separation_problem(user=user, task=task)
    if problem:
        raise PermissionDeniedError(problem, code="separation_of_duties")


# ----------------------------------------------------------------------- open


def _policies() -> dict[int, SLAPolicy]:
    """The SLA policies (seeded by migration 0002; never created here)."""
    policies = {p.priority: p for p in SLAPolicy.objects.all()}
    for priority in Priority:
        if priority.value not in policies:
            raise ApplicationError(
                _("No SLA policy for priority %(priority)s: an admin must add one.")
                % {"priority": priority.label},
                code="sla_policy_missing",
            )
    return policies


def initial_priority(invoice: Invoice, policies: dict[int, SLAPolicy]) -> int:
    """The invoice's own priority, raised by an expedite request (urgent) and by its
    amount (the highest policy whose ``min_amount`` it reaches)."""
    priority = int(invoice.priority or Priority.NORMAL)
    if invoice.expedite_reason:
        priority = max(priority, Priority.URGENT)
    amount = abs(invoice.total_amount or Decimal(0))
    for policy in policies.values():
        if policy.min_amount is not None and amount >= policy.min_amount:
            priority = max(priority, policy.priority)
    return priority


def second_review_reasons(invoice: Invoice) -> list[str]:
    """The enabled four-eyes rules this invoice meets (codes)."""
    reasons = []
    for rule in SecondReviewRule.objects.filter(enabled=True):
        if rule.code == SecondReviewRuleCode.AMOUNT_OVER:
            amount = abs(invoice.total_amount or Decimal(0))
            if rule.amount_threshold is not None and amount >= rule.amount_threshold:
                reasons.append(rule.code)
        elif rule.code == SecondReviewRuleCode.FIRST_FROM_SELLER:
            if not invoice.seller_tax_id:
                continue
            known = (
                Invoice.objects.filter(
                    organization_id=invoice.organization_id,
                    seller_tax_id=invoice.seller_tax_id,
                    status=InvoiceStatus.APPROVED,
                )
                .exclude(pk=invoice.pk)
                .exists()
            )
            if not known:
                reasons.append(rule.code)
    return reasons


def review_task_open(
    *,
    invoice: Invoice,
    stage: str = TaskStage.FIRST,
    first_reviewer: Any = None,
    priority: int | None = None,
    reasons: list[str] | None = None,
    now: dt.datetime | None = None,
    clock_of: ReviewTask | None = None,
) -> ReviewTask:
    """Put an invoice that has just entered ``in_review`` in the queue.

    ``clock_of``: the first-stage task whose SLA a second stage (four eyes) keeps:
    one invoice has one deadline across stages (its queue time, target and pauses).

    Runs in the caller's transaction with the invoice locked (screening's routing).
    Idempotent: an invoice that already has an open task keeps it; a task waiting on
    the submitter is resumed (the answer was screened again and still needs review).
    """
    _require_transaction()
    now = now or timezone.now()
    existing = (
        ReviewTask.objects.select_for_update(of=("self",))
        .filter(invoice=invoice, state__in=OPEN_STATES)
        .select_related("sla_policy")
        .first()
    )
    if existing is not None:
        if existing.state == TaskState.WAITING:
            _resume_task(existing, invoice, now=now)
        return existing
    policies = _policies()
    if priority is None:
        priority = initial_priority(invoice, policies)
    task = ReviewTask(
        invoice=invoice,
        organization_id=invoice.organization_id,
        submitted_by_id=invoice.submitted_by_id,
        stage=stage,
        state=TaskState.QUEUED,
        priority=priority,
        first_reviewer=first_reviewer,
        second_review_reasons=(
            second_review_reasons(invoice) if reasons is None else reasons
        ),
        sla_policy=policies[priority],
        enqueued_at=now,
        created_at=now,
    )
    if clock_of is None:
        schedule(task, cal=business_calendar(), pauses=())
        task.save()
        return task
    for name in (
        "sla_policy",
        "enqueued_at",
        "sla_target_minutes",
        "sla_warn_percent",
        "due_at",
        "warn_at",
        "paused_seconds",
        "warned_at",
        "breached_at",
    ):
        setattr(task, name, getattr(clock_of, name))
    task.save()
    ReviewTaskPause.objects.bulk_create(
        ReviewTaskPause(
            task=task, paused_at=p.paused_at, resumed_at=p.resumed_at, reason=p.reason
        )
        for p in clock_of.pauses.all()
    )
    return task


# ---------------------------------------------------------------------- claim


def _claimable(user: Any):
    return (
        ReviewTask.objects.filter(state__in=sources_of(TaskMove.CLAIM))
        .filter(invoice__status=InvoiceStatus.IN_REVIEW)
        .claimable_by(user)
        .in_claim_order()
        .select_for_update(skip_locked=True, of=("self",))
    )


_TASK_FIELDS = [f.attname for f in ReviewTask._meta.concrete_fields]


@functools.lru_cache(maxsize=4096)
def _claim_statement(user_pk: int, organization_id: int | None) -> tuple[str, tuple]:
    """The claim statement for one reviewer, compiled once per process (the query
    depends only on who claims; the clock goes in as parameters).

    It respects the transition table: the picked row must still be in one of the
    states ``TaskMove.CLAIM`` starts from (re-checked by the outer ``WHERE``) and
    gets the move's target state; ``record_move`` then writes the same timeline event
    and audit entry as ``task_move`` in the same transaction."""
    connection = connections[ReviewTask.objects.db]
    qn = connection.ops.quote_name
    who = SimpleNamespace(pk=user_pk, organization_id=organization_id)
    columns = ", ".join(qn(f.column) for f in ReviewTask._meta.concrete_fields)
    with transaction.atomic():
        # Django compiles FOR UPDATE only inside a transaction; nothing runs here.
        pick_sql, pick_params = _claimable(who).values("pk")[:1].query.sql_with_params()
    sources = sources_of(TaskMove.CLAIM)
    # Only quoted identifiers and the ORM's compiled SQL; values are parameters.
    sql = (
        f"UPDATE {qn(ReviewTask._meta.db_table)} AS claimed "  # noqa: S608
        f"SET {qn('state')} = %s, {qn('assigned_to_id')} = %s, "
        f"{qn('claimed_at')} = %s, {qn('lease_expires_at')} = %s "
        f"WHERE claimed.{qn('id')} = ({pick_sql}) "
        f"AND claimed.{qn('state')} IN ({', '.join(['%s'] * len(sources))}) "
        f"RETURNING {columns}"
    )
    return sql, (*pick_params, *sources)


def _claim_in_one_statement(user: Any, now: dt.datetime) -> ReviewTask | None:
    """PostgreSQL: pick, lock and claim the task in one statement,
    ``UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``; the
    SELECT is the ORM's own query of ``_claimable``. Runs in the caller's
    transaction (which also records the move: timeline and audit)."""
    sql, tail_params = _claim_statement(user.pk, user.organization_id)
    params: list[Any] = [
        target_of(TaskMove.CLAIM),
        user.pk,
        now,
        _lease_until(now),
        *tail_params,
    ]
    db = ReviewTask.objects.db
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = [
        f.from_db_value(v, None, connections[db]) if hasattr(f, "from_db_value") else v
        for f, v in zip(ReviewTask._meta.concrete_fields, row, strict=True)
    ]
    return ReviewTask.from_db(db, _TASK_FIELDS, values)


# The claim-room query: lock the reviewer's row and count the tasks they hold.
_HELD_CLAIMS = CompiledQuery(
    lambda user_id: (
        User.objects.select_for_update(of=("self",))
        .filter(pk=user_id)
        .annotate(
            held=Subquery(
                ReviewTask.objects.filter(
                    assigned_to_id=OuterRef("pk"), state=TaskState.CLAIMED
                )
                .order_by()
                .values("assigned_to_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
        )
        .values_list("held", flat=True)[:1]
    ),
    "user_id",
)


def _require_claim_room(user: Any) -> None:
    """At most ``REVIEW_MAX_OPEN_CLAIMS`` claimed tasks per reviewer. Locks the
    reviewer's row so that two claims of the same reviewer (a double click) are
    counted one after the other."""
    rows = _HELD_CLAIMS.rows(using=ReviewTask.objects.db, user_id=user.pk)
    held = (rows[0][0] if rows else 0) or 0
    limit = max_open_claims()
    if held >= limit:
        raise ConflictError(
            ngettext(
                "You already hold %(count)s claimed task: decide or release it "
                "before claiming another.",
                "You already hold %(count)s claimed tasks: decide or release one "
                "before claiming another.",
                held,
            )
            % {"count": held},
            code="too_many_claims",
            details={"held": held, "limit": limit},
        )


def _require_in_review(invoice: Invoice) -> None:
    """Claim and decide only while the invoice is in review (checked under the lock)."""
    if invoice.status != InvoiceStatus.IN_REVIEW:
        raise ConflictError(
            _("The invoice is no longer in review (%(status)s).")
            % {"status": InvoiceStatus(invoice.status).label},
            code="invoice_not_in_review",
        )


def _claim_fields(user: Any, now: dt.datetime) -> dict[str, Any]:
    return {
        "assigned_to": user,
        "claimed_at": now,
        "lease_expires_at": _lease_until(now),
    }


def review_task_claim_next(
    *, user: Any, now: dt.datetime | None = None
) -> ReviewTask | None:
    """Claim the most urgent queued task this reviewer may take; None when there is
    none. Rows other reviewers are claiming are skipped, not waited for. A reviewer
    who already holds ``REVIEW_MAX_OPEN_CLAIMS`` tasks is refused (``too_many_claims``).

    On PostgreSQL the pick and the claim are one statement; elsewhere (SQLite,
    which serialises writers) the same query is run, then the move applied. Either
    way the claim, its timeline event and its audit entry commit together.
    """
    _require(user, Perm.REVIEW)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        _require_claim_room(user)
        if connections[ReviewTask.objects.db].vendor == "postgresql":
            task = _claim_in_one_statement(user, now)
            if task is None:
                return None
            record_move(
                task,
                TaskMove.CLAIM,
                invoice=_in_review_ref(task),
                actor=user,
                params={"by": user.username},
                audit_data={"stage": task.stage},
            )
            return task
        task = _claimable(user).first()
        if task is None:
            return None
        task_move(
            task,
            TaskMove.CLAIM,
            invoice=_in_review_ref(task),
            actor=user,
            changes=_claim_fields(user, now),
            params={"by": user.username},
            audit_data={"stage": task.stage},
        )
    return task


def _in_review_ref(task: ReviewTask) -> Invoice:
    """A reference to the task's invoice, known to be in review (the claim query
    filters on it): no extra query for the timeline and the audit entry."""
    return Invoice(pk=task.invoice_id, status=InvoiceStatus.IN_REVIEW)


def review_task_claim(
    *, user: Any, task_id: int, now: dt.datetime | None = None
) -> ReviewTask:
    """Claim this task (the reviewer opened it): the rules of claim-next, for one
    task. Idempotent for the reviewer who already holds it.

    Refuses with a clear error: a task not visible to the user (404), one held by
    another reviewer, one not queued (waiting, decided), one the separation of duties
    forbids (own organization, own submission, second review of one's own first
    review), an invoice no longer in review, and a reviewer at their claim limit.
    """
    _require(user, Perm.REVIEW)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        invoice, task = _lock(task_id=task_id, user=user)
        if task.state == TaskState.CLAIMED:
            if task.assigned_to_id == user.pk:
                return task
            raise ConflictError(
                _("Another reviewer holds this task."), code="claimed_by_other"
            )
        check_move(task, TaskMove.CLAIM)
        _check_separation(user=user, task=task)
        _require_in_review(invoice)
        _require_claim_room(user)
        task_move(
            task,
            TaskMove.CLAIM,
            invoice=invoice,
            actor=user,
            changes=_claim_fields(user, now),
            params={"by": user.username},
            audit_data={"stage": task.stage},
        )
    return task


def review_task_touch(
    *, user: Any, task_id: int, now: dt.datetime | None = None
) -> bool:
    """Renew the claimant's lease (the task page is open). One UPDATE, no lock.

    False when the user holds no claim on it; NotFoundError when the task is not
    theirs to see (no existence oracle for task ids)."""
    now = now or timezone.now()
    renewed = ReviewTask.objects.filter(
        pk=task_id, state=TaskState.CLAIMED, assigned_to_id=user.pk
    ).update(lease_expires_at=_lease_until(now))
    if (
        not renewed
        and not ReviewTask.objects.visible_to(user).filter(pk=task_id).exists()
    ):
        raise NotFoundError(_("This review task does not exist."))
    return bool(renewed)


def _lock(
    *, task_id: int, user: Any = None, skip_locked: bool = False
) -> tuple[Invoice, ReviewTask] | None:
    """Lock the task's invoice, then the task. 404 when ``user`` may not see it."""
    tasks = ReviewTask.objects.all()
    if user is not None:
        tasks = tasks.visible_to(user)
    invoice_id = tasks.filter(pk=task_id).values_list("invoice_id", flat=True).first()
    if invoice_id is None:
        raise NotFoundError(_("This review task does not exist."))
    invoice = (
        Invoice.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        return None
    task = (
        ReviewTask.objects.select_for_update(of=("self",))
        .select_related("sla_policy")
        .get(pk=task_id)
    )
    return invoice, task


def review_task_release(
    *, user: Any, task_id: int, now: dt.datetime | None = None
) -> ReviewTask:
    """Give a claimed task back to the queue (its claimant, or a supervisor)."""
    _require(user, Perm.REVIEW)
    with transaction.atomic(durable=True):
        invoice, task = _lock(task_id=task_id, user=user)
        if task.state != TaskState.CLAIMED:
            raise ConflictError(
                _("This task is not claimed; there is nothing to release."),
                code="not_claimed",
            )
        if task.assigned_to_id != user.pk and not user_can(user, Perm.SUPERVISE):
            raise ConflictError(
                _("Another reviewer holds this task."), code="claimed_by_other"
            )
        _require_task_separation(user=user, task=task)
        holder = task.assigned_to
        task_move(
            task,
            TaskMove.RELEASE,
            invoice=invoice,
            actor=user,
            changes=_UNCLAIMED,
            params={"by": user.username, "holder": holder.username},
            audit_data={"holder": holder.pk},
        )
    return task


_UNCLAIMED: dict[str, Any] = {
    "assigned_to": None,
    "claimed_at": None,
    "lease_expires_at": None,
}


def review_task_reassign(
    *, actor: Any, task_id: int, to_user: Any, now: dt.datetime | None = None
) -> ReviewTask:
    """A supervisor hands a queued or claimed task to a reviewer, who holds it
    (with a fresh lease) from then on."""
    _require(actor, Perm.SUPERVISE)
    if not user_can(to_user, Perm.REVIEW) or not to_user.is_active:
        raise ApplicationError(
            _("%(user)s is not a reviewer.") % {"user": to_user.username},
            code="not_a_reviewer",
        )
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        invoice, task = _lock(task_id=task_id, user=actor)
        if task.state not in sources_of(TaskMove.REASSIGN):
            raise ConflictError(
                _("Only queued or claimed tasks can be reassigned."),
                code="not_reassignable",
            )
        _require_task_separation(user=actor, task=task)
        _check_separation(user=to_user, task=task)
        previous = task.assigned_to_id
        task_move(
            task,
            TaskMove.REASSIGN,
            invoice=invoice,
            actor=actor,
            changes=_claim_fields(to_user, now),
            params={"by": actor.username, "to": to_user.username},
            audit_data={"to": to_user.pk, "from": previous},
        )
        if to_user.pk != actor.pk:
            _notify_assignee(task, invoice, to_user=to_user, actor=actor)
    return task


def _notify_assignee(
    task: ReviewTask, invoice: Invoice, *, to_user: Any, actor: Any
) -> None:
    """Tell the reviewer a supervisor handed them a task (in the same transaction;
    the link opens the task page)."""
    notify_about_invoice(
        users=[to_user],
        invoice=invoice,
        kind=Kind.TASK_ASSIGNED,
        context={"task": task.pk, "by": actor.username, "due": _local(task.due_at)},
    )


def _change_priority(
    task: ReviewTask,
    invoice: Invoice,
    priority: int,
    *,
    now: dt.datetime,
    actor: Any = None,
    cause: str,
) -> None:
    """New priority, new policy, new due time; paused time is kept. A deadline that
    has passed never moves (a breach raises the priority, it does not rewrite the
    deadline into the past). Audited, with its ``cause`` (supervisor, sla_breached,
    expedite)."""
    check_move(task, TaskMove.PRIORITY)
    before = task.priority
    task.priority = priority
    task.sla_policy = SLAPolicy.objects.get(priority=priority)
    fields: list[str] = []
    if task.breached_at is None and not (task.due_at and task.due_at <= now):
        task.sla_target_minutes = task.sla_warn_percent = None  # the new policy's
        fields = schedule(task, cal=business_calendar(), pauses=pause_intervals(task))
    if invoice.priority != priority:
        invoice.priority = priority
        invoice.save(update_fields=["priority", "updated_at"])
    task_move(
        task,
        TaskMove.PRIORITY,
        invoice=invoice,
        actor=actor,
        extra_fields=["priority", "sla_policy", *fields],
        params={
            "priority": PRIORITY_NAMES[Priority(priority)],
            "due": _local(task.due_at),
        },
        audit_data={
            "from": PRIORITY_NAMES[Priority(before)],
            "to": PRIORITY_NAMES[Priority(priority)],
            "cause": cause,
        },
    )


def review_task_reprioritize(
    *, invoice: Invoice, priority: int, now: dt.datetime | None = None
) -> ReviewTask | None:
    """Raise the invoice's open task to ``priority`` (never lowers it): new policy,
    new due time, paused time kept. Inside the transaction holding the invoice
    lock (invoice before task)."""
    _require_transaction()
    task = (
        ReviewTask.objects.open()
        .select_for_update(of=("self",))
        .select_related("sla_policy")
        .filter(invoice=invoice)
        .first()
    )
    if task is not None and task.priority < priority:
        _change_priority(
            task, invoice, priority, now=now or timezone.now(), cause="expedite"
        )
    return task


def review_task_set_priority(
    *, actor: Any, task_id: int, priority: int, now: dt.datetime | None = None
) -> ReviewTask:
    """A supervisor changes a task's priority; its due time is recomputed."""
    _require(actor, Perm.SUPERVISE)
    priority = Priority(int(priority))
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        invoice, task = _lock(task_id=task_id, user=actor)
        if task.state == TaskState.DONE:
            raise ConflictError(_("This task is already decided."), code="decided")
        _require_task_separation(user=actor, task=task)
        if task.priority == priority:
            return task
        _change_priority(
            task, invoice, priority, now=now, actor=actor, cause="supervisor"
        )
    return task


# --------------------------------------------------------------------- decide


@dataclass(frozen=True)
class DecisionInput:
    decision: str
    reason: RejectionReason | None = None
    comment: str = ""


def _validate_decision(decision: str, reason_code: str, comment: str) -> DecisionInput:
    comment = (comment or "").strip()
    if decision not in (
        TaskDecision.APPROVE,
        TaskDecision.REJECT,
        TaskDecision.REQUEST_INFO,
    ):
        raise ApplicationError(
            _("Choose approve, reject or request information."),
            code="invalid_decision",
            details={"decision": decision},
        )
    reason = None
    if decision == TaskDecision.REJECT:
        reason = RejectionReason.objects.filter(
            code=reason_code or "", is_active=True
        ).first()
        if reason is None:
            raise ApplicationError(
                _("A rejection needs a reason from the list."),
                code="reason_required",
                details={"reason_code": reason_code},
            )
        if reason.comment_required and not comment:
            raise ApplicationError(
                _("This reason needs a comment: explain what is wrong."),
                code="comment_required",
                details={"reason_code": reason.code},
            )
    if decision == TaskDecision.REQUEST_INFO and not comment:
        raise ApplicationError(
            _("Write the question the submitter should answer."),
            code="question_required",
        )
    return DecisionInput(decision, reason, comment)


def review_task_decide(
    *,
    user: Any,
    task_id: int,
    decision: str,
    reason_code: str = "",
    comment: str = "",
    now: dt.datetime | None = None,
) -> ReviewTask:
    """Approve, reject or ask the submitter, as the task's claimant.

    Locks the invoice then the task and re-checks everything under the locks: a
    second call for the same task (a double click, a retry, a rival) finds it done
    and changes nothing. An approval that a four-eyes rule covers opens the second
    review instead of approving the invoice.
    """
    _require(user, Perm.REVIEW)
    data = _validate_decision(decision, reason_code, comment)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        invoice, task = _lock(task_id=task_id, user=user)
        if task.state == TaskState.DONE:
            raise ConflictError(
                _("This task has already been decided."), code="already_decided"
            )
        if task.state != TaskState.CLAIMED or task.assigned_to_id != user.pk:
            raise ConflictError(
                _("Claim this task before deciding it."), code="not_your_task"
            )
        _check_separation(user=user, task=task)
        _require_in_review(invoice)
        decided = {
            "decision": data.decision,
            "comment": data.comment,
            "decided_by": user,
            "decided_at": now,
            "lease_expires_at": None,
        }
        if data.decision == TaskDecision.REQUEST_INFO:
            _pause(task, invoice, user=user, question=data.comment, decided=decided)
            return task
        if data.decision == TaskDecision.REJECT:
            assert data.reason is not None
            task_move(
                task,
                TaskMove.REJECT,
                invoice=invoice,
                actor=user,
                changes={**decided, "reason_code": data.reason.code},
                audit_data={"decision": data.decision, "reason": data.reason.code},
            )
            invoice_transition(
                invoice=invoice,
                to=InvoiceStatus.REJECTED,
                actor=user,
                code="rejected",
                params={
                    "reason_code": data.reason.code,
                    "reason": data.reason.label_zh,
                    "reason_en": data.reason.label_en,
                },
                note=data.comment,
                extra_fields={
                    "decision_source": DecisionSource.REVIEWER,
                    "decision_reason": "：".join(
                        p for p in (data.reason.label_zh, data.comment) if p
                    ),
                },
                task_closed=True,
            )
            return task
        if task.stage == TaskStage.FIRST and task.second_review_reasons:
            task_move(
                task,
                TaskMove.FIRST_APPROVAL,
                invoice=invoice,
                actor=user,
                changes=decided,
                params=_second_review_params(task),
                note=data.comment,
                audit_data={"reasons": task.second_review_reasons},
            )
            review_task_open(
                invoice=invoice,
                stage=TaskStage.SECOND,
                first_reviewer=user,
                priority=task.priority,
                reasons=task.second_review_reasons,
                now=now,
                clock_of=task,
            )
            return task
        task_move(
            task,
            TaskMove.APPROVE,
            invoice=invoice,
            actor=user,
            changes=decided,
            audit_data={"decision": data.decision},
        )
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.APPROVED,
            actor=user,
            code="approved",
            note=data.comment,
            extra_fields={
                "decision_source": DecisionSource.REVIEWER,
                "decision_reason": data.comment,
            },
            task_closed=True,
        )
    return task


def _second_review_params(task: ReviewTask) -> dict[str, str]:
    """The second-review reasons in both languages (the timeline shows the
    reader's: ``reasons`` / ``reasons_en``)."""
    params = {}
    for key, language in (("reasons", "zh-hans"), ("reasons_en", "en")):
        with translation.override(language):
            params[key] = "; ".join(second_review_labels(task))
    return params


def _pause(
    task: ReviewTask,
    invoice: Invoice,
    *,
    user: Any,
    question: str,
    decided: dict[str, Any],
) -> None:
    """Ask the submitter: the SLA clock stops (the remaining time is kept)."""
    check_move(task, TaskMove.REQUEST_INFO)
    ReviewTaskPause.objects.create(
        task=task, paused_at=decided["decided_at"], reason="info_requested"
    )
    fields = schedule(task, cal=business_calendar(), pauses=pause_intervals(task))
    task_move(
        task,
        TaskMove.REQUEST_INFO,
        invoice=invoice,
        actor=user,
        changes=decided,
        extra_fields=fields,
        audit_data={"decision": TaskDecision.REQUEST_INFO},
    )
    invoice_transition(
        invoice=invoice,
        to=InvoiceStatus.NEEDS_INFO,
        actor=user,
        code="info_requested",
        params={"question": question},
        note=question,
    )


# --------------------------------------------------------------------- resume


def _resume_task(
    task: ReviewTask, invoice: Invoice, *, now: dt.datetime, actor: Any = None
) -> None:
    """Back to the queue with the time that was left: the pause is closed, and the
    due time moves on by the business time it lasted."""
    check_move(task, TaskMove.RESUME)
    ReviewTaskPause.objects.filter(task=task, resumed_at__isnull=True).update(
        resumed_at=now
    )
    task.assigned_to = None
    task.claimed_at = None
    task.lease_expires_at = None
    task.decision = ""
    task.decided_by = None
    task.decided_at = None
    fields = schedule(task, cal=business_calendar(), pauses=pause_intervals(task))
    task_move(
        task,
        TaskMove.RESUME,
        invoice=invoice,
        actor=actor,
        extra_fields=[
            "assigned_to",
            "claimed_at",
            "lease_expires_at",
            "decision",
            "decided_by",
            "decided_at",
            *fields,
        ],
        audit_data={"due": _local(task.due_at)},
    )


def review_task_resume(
    *, invoice: Invoice, actor: Any = None, now: dt.datetime | None = None
) -> ReviewTask | None:
    """The submitter answered the reviewer's question: back to the review queue.

    Contract for the caller (the submitter's "respond" service):
    - call it inside your ``transaction.atomic`` with the invoice row locked
      (``select_for_update``), after storing the answer;
    - the invoice is ``needs_info`` (this moves it ``needs_info -> screening`` with
      the timeline code ``info_provided``) or already ``screening`` (you moved it);
      it then goes ``screening -> in_review``;
    - the waiting task's pause is closed (the paused business time is kept for
      good), its due and warning times are recomputed, and it returns to the queue
      unassigned, ordered by its due time like any other;
    - returns the task, or None when the invoice had no waiting task.
    If the answer brings a new file that must be screened again, do not call this:
    move the invoice to ``screening`` and queue screening; its routing calls
    ``review_task_open``, which resumes the waiting task when review is still needed.
    """
    _require_transaction()
    now = now or timezone.now()
    task = (
        ReviewTask.objects.select_for_update(of=("self",))
        .select_related("sla_policy")
        .filter(invoice=invoice, state=TaskState.WAITING)
        .first()
    )
    if invoice.status == InvoiceStatus.NEEDS_INFO:
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.SCREENING,
            actor=actor,
            code="info_provided",
        )
    if invoice.status == InvoiceStatus.SCREENING:
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.IN_REVIEW,
            actor=actor,
            code="review_resumed",
            visible_to_submitter=False,
        )
    if task is None:
        return None
    _resume_task(task, invoice, now=now, actor=actor)
    return task


def review_task_close_for_invoice(
    *, invoice: Invoice, actor: Any = None, now: dt.datetime | None = None
) -> ReviewTask | None:
    """Close the invoice's open task without a decision (the invoice was withdrawn
    or decided elsewhere). Call inside the transaction that locks the invoice."""
    _require_transaction()
    now = now or timezone.now()
    task = (
        ReviewTask.objects.select_for_update(of=("self",))
        .filter(invoice=invoice, state__in=OPEN_STATES)
        .first()
    )
    if task is None:
        return None
    ReviewTaskPause.objects.filter(task=task, resumed_at__isnull=True).update(
        resumed_at=now
    )
    task_move(
        task,
        TaskMove.CLOSE,
        invoice=invoice,
        actor=actor,
        changes={
            "decision": TaskDecision.CLOSED,
            "decided_at": now,
            "lease_expires_at": None,
        },
        params={"status": str(InvoiceStatus(invoice.status).label)},
        audit_data={"status": invoice.status},
    )
    return task


# ---------------------------------------------------------------------- sweep


@dataclass
class SweepReport:
    expired: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    breached: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


def _sweep_limit() -> int:
    return settings.REVIEW_SWEEP_LIMIT


def review_task_expire_leases(*, now: dt.datetime | None = None) -> list[int]:
    """Claims left untouched past their lease go back to the queue."""
    now = now or timezone.now()
    ids = list(
        ReviewTask.objects.filter(
            state=TaskState.CLAIMED, lease_expires_at__lte=now
        ).values_list("pk", flat=True)[: _sweep_limit()]
    )
    expired = []
    for task_id in ids:
        with transaction.atomic(durable=True):
            locked = _lock(task_id=task_id, skip_locked=True)
            if locked is None:
                continue  # someone is deciding it right now
            invoice, task = locked
            if task.state != TaskState.CLAIMED or not (
                task.lease_expires_at and task.lease_expires_at <= now
            ):
                continue
            holder = task.assigned_to
            task_move(
                task,
                TaskMove.EXPIRE,
                invoice=invoice,
                changes=_UNCLAIMED,
                params={"by": holder.username},
                audit_data={"holder": holder.pk},
            )
            expired.append(task_id)
    if expired:
        logger.info("Review queue: %s expired claims returned.", len(expired))
    return expired


def _sla_candidates(now: dt.datetime):
    active = ReviewTask.objects.filter(state__in=[TaskState.QUEUED, TaskState.CLAIMED])
    limit = _sweep_limit()
    warn = active.filter(warned_at__isnull=True, warn_at__lte=now)
    breach = active.filter(breached_at__isnull=True, due_at__lte=now)
    ids = set(warn.values_list("pk", flat=True)[:limit])
    ids |= set(breach.values_list("pk", flat=True)[:limit])
    return sorted(ids)


def review_sla_sweep(*, now: dt.datetime | None = None) -> SweepReport:
    """Scheduled (every minute): expire leases, warn at the policy's percentage,
    mark breaches (notify supervisors, raise the priority one step), close the tasks
    of invoices that left review some other way. Everything on the timeline."""
    now = now or timezone.now()
    report = SweepReport(expired=review_task_expire_leases(now=now))
    for task_id in _sla_candidates(now):
        with transaction.atomic(durable=True):
            locked = _lock(task_id=task_id, skip_locked=True)
            if locked is None:
                continue
            invoice, task = locked
            if task.state not in (TaskState.QUEUED, TaskState.CLAIMED):
                continue
            if task.breached_at is None and task.due_at and task.due_at <= now:
                _breach(task, invoice, now=now)
                report.breached.append(task_id)
            elif task.warned_at is None and task.warn_at and task.warn_at <= now:
                _warn(task, invoice, now=now)
                report.warned.append(task_id)
    orphans = list(
        ReviewTask.objects.open()
        .exclude(
            invoice__status__in=[InvoiceStatus.IN_REVIEW, InvoiceStatus.NEEDS_INFO]
        )
        .values_list("pk", flat=True)[: _sweep_limit()]
    )
    for task_id in orphans:
        with transaction.atomic(durable=True):
            locked = _lock(task_id=task_id, skip_locked=True)
            if locked is None:
                continue
            invoice, task = locked
            if invoice.status in (InvoiceStatus.IN_REVIEW, InvoiceStatus.NEEDS_INFO):
                continue
            if review_task_close_for_invoice(invoice=invoice, now=now):
                report.closed.append(task_id)
    if report.warned or report.breached or report.closed:
        logger.warning(
            "SLA sweep: %s warned, %s breached, %s closed.",
            len(report.warned),
            len(report.breached),
            len(report.closed),
        )
    return report


def _warn(task: ReviewTask, invoice: Invoice, *, now: dt.datetime) -> None:
    task.warned_at = now
    task.save(update_fields=["warned_at"])
    context = {
        "task": task.pk,
        "percent": task.sla_warn_percent or task.sla_policy.warn_at_percent,
        "due": _local(task.due_at),
    }
    timeline_note(invoice, "sla_warning", params=context, visible=False)
    notify_supervisors(invoice=invoice, kind="sla_warning", context=context)


def _breach(task: ReviewTask, invoice: Invoice, *, now: dt.datetime) -> None:
    due = task.due_at
    task.breached_at = now
    task.warned_at = task.warned_at or now
    task.save(update_fields=["breached_at", "warned_at"])
    context = {"task": task.pk, "due": _local(due)}
    timeline_note(invoice, "sla_breached", params=context, visible=False)
    notify_supervisors(invoice=invoice, kind="sla_breached", context=context)
    webhook_event_record(
        event_type="task.breached",
        invoice=invoice,
        data={
            "task": {
                "id": task.pk,
                "stage": task.stage,
                "priority": task.priority,
                "due_at": due,
                "breached_at": now,
            }
        },
    )
    if task.priority < Priority.URGENT:
        _change_priority(
            task, invoice, task.priority + 1, now=now, cause="sla_breached"
        )
