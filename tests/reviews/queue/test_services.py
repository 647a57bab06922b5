"""Review tasks through their services on the real database: open, claim, lease,
release, decide, pause and resume, four-eyes and separation of duties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus, Priority
from reviews.models import (
    ReviewTask,
    SecondReviewRule,
    TaskStage,
    TaskState,
)
from reviews.queue.services import (
    review_sla_sweep,
    review_task_claim_next,
    review_task_close_for_invoice,
    review_task_decide,
    review_task_expire_leases,
    review_task_open,
    review_task_reassign,
    review_task_release,
    review_task_resume,
    review_task_set_priority,
    review_task_touch,
)
from tests.factories import UserFactory

from .conftest import MONDAY, at, make_invoice

pytestmark = pytest.mark.usefixtures("no_four_eyes")


def codes(invoice) -> list[str]:
    """The timeline's codes since the invoice entered review (the factory brings it
    there through the lifecycle), without the claims."""
    events = list(invoice.timeline.order_by("id").values_list("code", "status"))
    entered = next(i for i, (_c, status) in enumerate(events) if status == "in_review")
    return [code for code, _s in events[entered + 1 :] if code != "review_claimed"]


# ----------------------------------------------------------------------- open


def test_opening_counts_the_sla_in_business_hours(make_task) -> None:
    task = make_task()

    assert (task.stage, task.state, task.priority) == ("first", "queued", 0)
    assert task.enqueued_at == MONDAY
    # 16 business hours from Monday 10:00 = Wednesday 10:00; warned at 75 % = 12 h,
    # Tuesday 15:00 (09-12, 13-18 working hours).
    assert task.due_at == at(4, 10)
    assert task.warn_at == at(3, 15)
    assert task.organization_id == task.invoice.organization_id


def test_amount_and_expedite_raise_the_priority(make_task) -> None:
    assert make_task(total_amount=Decimal("150000.00")).priority == Priority.HIGH
    urgent = make_task(expedite_reason="月底结账")
    assert urgent.priority == Priority.URGENT
    assert urgent.due_at == at(2, 15)  # 4 business hours, lunch skipped


def test_opening_twice_keeps_one_open_task(make_task) -> None:
    task = make_task()
    with transaction.atomic():
        again = review_task_open(invoice=task.invoice)
    assert again.pk == task.pk
    assert ReviewTask.objects.filter(invoice=task.invoice).count() == 1


def test_database_allows_one_open_task_per_invoice(make_task) -> None:
    task = make_task()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewTask.objects.create(
            invoice=task.invoice,
            organization=task.organization,
            submitted_by=task.submitted_by,
            sla_policy=task.sla_policy,
        )


def test_screening_that_routes_to_review_opens_the_task(organization, submitter):
    from reviews.screening import screen_invoice

    # Nothing in the registry: registry.match sends it to review.
    invoice = make_invoice(organization, submitter, status=InvoiceStatus.RECEIVED)
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    task = ReviewTask.objects.get(invoice=invoice)
    assert task.state == TaskState.QUEUED
    assert task.due_at == at(4, 10)


# ---------------------------------------------------------------------- claim


def test_claim_next_takes_the_most_urgent_by_time_to_breach(
    make_task, reviewer, time_machine, settings
) -> None:
    settings.REVIEW_MAX_OPEN_CLAIMS = 3
    later = make_task()
    time_machine.move_to(MONDAY + dt.timedelta(minutes=5), tick=False)
    urgent = make_task(expedite_reason="加急")

    first = review_task_claim_next(user=reviewer)
    second = review_task_claim_next(user=reviewer)

    assert [first.pk, second.pk] == [urgent.pk, later.pk]
    assert review_task_claim_next(user=reviewer) is None
    first.refresh_from_db()
    assert first.state == TaskState.CLAIMED
    assert first.assigned_to == reviewer
    assert first.lease_expires_at == MONDAY + dt.timedelta(minutes=5 + 30)


def test_claim_next_never_offers_own_organization_or_own_submission(
    make_task, organization, submitter
) -> None:
    make_task()
    colleague = UserFactory(role=Role.REVIEWER, organization=organization)
    assert review_task_claim_next(user=colleague) is None
    # A submitter who is also a reviewer elsewhere (no organization) still cannot
    # take their own invoice.
    submitter.role = Role.SUPERVISOR
    submitter.organization = None
    submitter.save()
    from accounts.services import user_sync_groups

    user_sync_groups(submitter)
    assert review_task_claim_next(user=submitter) is None


def test_submitters_cannot_claim(make_task, submitter) -> None:
    make_task()
    with pytest.raises(PermissionDeniedError):
        review_task_claim_next(user=submitter)


# ---------------------------------------------------------------------- lease


def test_untouched_claim_returns_to_the_queue_when_the_lease_expires(
    make_task, reviewer, second_reviewer, time_machine, settings
) -> None:
    settings.REVIEW_LEASE_MINUTES = 20
    task = make_task()
    review_task_claim_next(user=reviewer)

    time_machine.move_to(MONDAY + dt.timedelta(minutes=19), tick=False)
    assert review_task_expire_leases() == []
    time_machine.move_to(MONDAY + dt.timedelta(minutes=20), tick=False)
    assert review_task_expire_leases() == [task.pk]

    task.refresh_from_db()
    assert (task.state, task.assigned_to, task.lease_expires_at) == (
        "queued",
        None,
        None,
    )
    assert codes(task.invoice)[-1] == "review_lease_expired"
    assert review_task_claim_next(user=second_reviewer).pk == task.pk


def test_touching_a_claim_renews_its_lease(make_task, reviewer, time_machine):
    task = make_task()
    review_task_claim_next(user=reviewer)
    time_machine.move_to(MONDAY + dt.timedelta(minutes=25), tick=False)
    assert review_task_touch(user=reviewer, task_id=task.pk)
    time_machine.move_to(MONDAY + dt.timedelta(minutes=40), tick=False)
    assert review_task_expire_leases() == []
    time_machine.move_to(MONDAY + dt.timedelta(minutes=55), tick=False)
    assert review_task_expire_leases() == [task.pk]


def test_release_by_claimant_or_supervisor_only(
    make_task, reviewer, second_reviewer, supervisor
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)
    with pytest.raises(ConflictError) as caught:
        review_task_release(user=second_reviewer, task_id=task.pk)
    assert caught.value.code == "claimed_by_other"

    review_task_release(user=reviewer, task_id=task.pk)
    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    review_task_claim_next(user=second_reviewer)
    review_task_release(user=supervisor, task_id=task.pk)
    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    assert codes(task.invoice)[-2:] == ["review_released", "review_released"]


# --------------------------------------------------------------------- decide


def test_approval_approves_the_invoice_once(make_task, reviewer) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)

    review_task_decide(
        user=reviewer, task_id=task.pk, decision="approve", comment="票面清晰"
    )

    task.refresh_from_db()
    invoice = task.invoice
    invoice.refresh_from_db()
    assert (task.state, task.decision, task.decided_by) == ("done", "approve", reviewer)
    assert invoice.status == InvoiceStatus.APPROVED
    assert invoice.decision_source == DecisionSource.REVIEWER
    assert codes(invoice) == ["approved"]
    assert AuditEntry.objects.filter(action="invoice.approved").count() == 1
    with pytest.raises(ConflictError) as caught:
        review_task_decide(user=reviewer, task_id=task.pk, decision="approve")
    assert caught.value.code == "already_decided"
    assert codes(invoice) == ["approved"]


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_reads_its_task_once_and_looks_for_no_other(
    make_task, reviewer, decision
) -> None:
    """The decision closes the task itself: the invoice's "decided closes its open
    task" hook is told so and does not query for an open task again (bench_claims)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    task = make_task()
    review_task_claim_next(user=reviewer)
    reason = (
        {"reason_code": "other", "comment": "票面模糊"} if decision == "reject" else {}
    )
    with CaptureQueriesContext(connection) as queries:
        review_task_decide(user=reviewer, task_id=task.pk, decision=decision, **reason)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "reviews_reviewtask"' in q["sql"]
    ]
    assert len(reads) == 2, reads  # visible to the reviewer, then locked
    task.refresh_from_db()
    assert task.state == "done"
    assert not ReviewTask.objects.filter(invoice=task.invoice).exclude(state="done")


def test_only_the_claimant_decides(make_task, reviewer, second_reviewer) -> None:
    task = make_task()
    with pytest.raises(ConflictError):
        review_task_decide(user=reviewer, task_id=task.pk, decision="approve")
    review_task_claim_next(user=reviewer)
    with pytest.raises(ConflictError) as caught:
        review_task_decide(user=second_reviewer, task_id=task.pk, decision="approve")
    assert caught.value.code == "not_your_task"


def test_tasks_of_ones_own_organization_are_not_found(make_task, organization) -> None:
    task = make_task()
    colleague = UserFactory(role=Role.REVIEWER, organization=organization)
    with pytest.raises(NotFoundError):
        review_task_decide(user=colleague, task_id=task.pk, decision="approve")


def test_rejection_needs_a_listed_reason_and_shows_the_comment(
    make_task, reviewer
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)
    with pytest.raises(ApplicationError) as caught:
        review_task_decide(user=reviewer, task_id=task.pk, decision="reject")
    assert caught.value.code == "reason_required"

    review_task_decide(
        user=reviewer,
        task_id=task.pk,
        decision="reject",
        reason_code="wrong_buyer",
        comment="购买方名称与贵公司不一致，请让销售方重开。",
    )

    invoice = task.invoice
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED
    assert invoice.decision_source == DecisionSource.REVIEWER
    assert "购买方信息与贵单位不符" in invoice.decision_reason
    event = invoice.timeline.last()
    assert (event.code, event.visible_to_submitter) == ("rejected", True)
    assert event.note.startswith("购买方名称")
    assert event.params["reason_code"] == "wrong_buyer"


def test_request_info_pauses_and_the_answer_resumes_keeping_paused_time(
    make_task, reviewer, submitter, time_machine
) -> None:
    task = make_task()  # due Wednesday 10:00
    review_task_claim_next(user=reviewer)
    with pytest.raises(ApplicationError):
        review_task_decide(user=reviewer, task_id=task.pk, decision="request_info")

    time_machine.move_to(at(2, 11), tick=False)
    review_task_decide(
        user=reviewer,
        task_id=task.pk,
        decision="request_info",
        comment="请上传发票原件。",
    )
    task.refresh_from_db()
    assert task.state == TaskState.WAITING
    assert (task.due_at, task.warn_at) == (None, None)
    assert task.invoice.status == InvoiceStatus.NEEDS_INFO
    assert review_sla_sweep(now=at(9, 11)).breached == []  # paused: never breached

    # Answered Monday 14:00 (2 business hours paused, lunch excluded).
    time_machine.move_to(at(2, 14), tick=False)
    with transaction.atomic():
        invoice = task.invoice.__class__.objects.select_for_update().get(
            pk=task.invoice_id
        )
        resumed = review_task_resume(invoice=invoice, actor=submitter)

    assert resumed.pk == task.pk
    task.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert (task.state, task.assigned_to) == ("queued", None)
    assert task.paused_seconds == 2 * 3600
    assert task.due_at == at(4, 12)
    assert codes(invoice)[-3:] == ["info_requested", "info_provided", "review_resumed"]

    # A new priority changes the target, not the paused time.
    supervisor = UserFactory(role=Role.SUPERVISOR, organization=None)
    review_task_set_priority(
        actor=supervisor, task_id=task.pk, priority=Priority.URGENT
    )
    task.refresh_from_db()
    # 4 business hours from Monday 10:00 plus the 2 paused hours: Monday 17:00.
    assert task.due_at == at(2, 17)
    assert task.paused_seconds == 2 * 3600


def test_screening_again_after_the_answer_resumes_the_waiting_task(
    make_task, reviewer, time_machine
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)
    review_task_decide(
        user=reviewer, task_id=task.pk, decision="request_info", comment="?"
    )
    with transaction.atomic():
        invoice = task.invoice
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.NEEDS_INFO
        invoice_transition(
            invoice=invoice, to=InvoiceStatus.SCREENING, actor=None, code="x"
        )
        invoice_transition(
            invoice=invoice, to=InvoiceStatus.IN_REVIEW, actor=None, code="y"
        )
        again = review_task_open(invoice=invoice)
    assert again.pk == task.pk
    again.refresh_from_db()
    assert again.state == TaskState.QUEUED


def test_withdrawn_invoice_closes_its_task(make_task, submitter) -> None:
    task = make_task()
    with transaction.atomic():
        invoice_transition(
            invoice=task.invoice,
            to=InvoiceStatus.WITHDRAWN,
            actor=submitter,
            code="withdrawn",
        )
        review_task_close_for_invoice(invoice=task.invoice, actor=submitter)
    task.refresh_from_db()
    assert (task.state, task.decision) == ("done", "closed")


def test_an_invoice_leaving_review_closes_its_task_in_the_same_transaction(
    make_task, submitter
):
    task = make_task()
    with transaction.atomic():
        invoice_transition(
            invoice=task.invoice,
            to=InvoiceStatus.WITHDRAWN,
            actor=submitter,
            code="withdrawn",
        )
    task.refresh_from_db()
    assert (task.state, task.decision) == (TaskState.DONE, "closed")
    assert review_sla_sweep().closed == []  # nothing left for the sweep


# ---------------------------------------------------------------- four eyes


@pytest.fixture
def four_eyes(db):
    SecondReviewRule.objects.filter(code="amount_over").update(
        enabled=True, amount_threshold=Decimal("50000.00")
    )


def test_large_amount_needs_a_second_independent_reviewer(
    four_eyes, make_task, reviewer, second_reviewer, organization, supervisor
) -> None:
    task = make_task(total_amount=Decimal("88000.00"))
    assert task.second_review_reasons == ["amount_over"]
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=task.pk, decision="approve")

    invoice = task.invoice
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW  # not yet
    second = ReviewTask.objects.get(invoice=invoice, state=TaskState.QUEUED)
    assert (second.stage, second.first_reviewer) == (TaskStage.SECOND, reviewer)

    # The first reviewer never gets it, nor anyone of the submitting organization.
    assert review_task_claim_next(user=reviewer) is None
    insider = UserFactory(role=Role.REVIEWER, organization=organization)
    assert review_task_claim_next(user=insider) is None
    with pytest.raises(PermissionDeniedError) as caught:
        review_task_reassign(actor=supervisor, task_id=second.pk, to_user=reviewer)
    assert caught.value.code == "separation_of_duties"

    assert review_task_claim_next(user=second_reviewer).pk == second.pk
    review_task_decide(user=second_reviewer, task_id=second.pk, decision="approve")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert codes(invoice) == ["review_first_approval", "approved"]


def test_second_reviewer_can_disagree_and_reject(
    four_eyes, make_task, reviewer, second_reviewer
) -> None:
    task = make_task(total_amount=Decimal("88000.00"))
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=task.pk, decision="approve")
    second = review_task_claim_next(user=second_reviewer)
    review_task_decide(
        user=second_reviewer,
        task_id=second.pk,
        decision="reject",
        reason_code="amount_mismatch",
    )
    task.invoice.refresh_from_db()
    assert task.invoice.status == InvoiceStatus.REJECTED


def test_first_invoice_from_a_seller_needs_a_second_review(make_task, reviewer) -> None:
    SecondReviewRule.objects.filter(code="first_from_seller").update(enabled=True)
    first = make_task()
    assert first.second_review_reasons == ["first_from_seller"]
    make_task(status=InvoiceStatus.APPROVED, seller_tax_id="91310000MA1FL0XX3R")
    known = make_task(seller_tax_id="91310000MA1FL0XX3R")
    assert known.second_review_reasons == []


def test_reassign_by_supervisor_hands_the_claim_over(
    make_task, reviewer, second_reviewer, supervisor
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)
    with pytest.raises(PermissionDeniedError):
        review_task_reassign(actor=reviewer, task_id=task.pk, to_user=second_reviewer)
    review_task_reassign(actor=supervisor, task_id=task.pk, to_user=second_reviewer)
    task.refresh_from_db()
    assert (task.state, task.assigned_to) == ("claimed", second_reviewer)
    review_task_decide(user=second_reviewer, task_id=task.pk, decision="approve")


def test_reassign_to_a_submitter_is_refused(make_task, supervisor, submitter):
    task = make_task()
    with pytest.raises(ApplicationError) as caught:
        review_task_reassign(actor=supervisor, task_id=task.pk, to_user=submitter)
    assert caught.value.code == "not_a_reviewer"


def test_claimed_task_comes_back_whole(four_eyes, make_task, reviewer) -> None:
    task = make_task(total_amount=Decimal("88000.00"))
    claimed = review_task_claim_next(user=reviewer)
    fresh = ReviewTask.objects.get(pk=task.pk)
    for field in ReviewTask._meta.concrete_fields:
        assert getattr(claimed, field.attname) == getattr(fresh, field.attname)
    assert claimed.second_review_reasons == ["amount_over"]


def test_the_second_review_keeps_the_first_reviews_deadline(
    four_eyes, make_task, reviewer, second_reviewer, time_machine
) -> None:
    """One invoice has one SLA across both stages (issue 11): the second stage was
    queued with a fresh target, so its deadline slipped by the first review's time."""
    time_machine.move_to(at(2, 10), tick=False)
    task = make_task(total_amount=Decimal("88000.00"))
    due, warn = task.due_at, task.warn_at
    # The first reviewer approves a business day later.
    time_machine.move_to(at(3, 10), tick=False)
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=task.pk, decision="approve")

    second = ReviewTask.objects.get(invoice=task.invoice, state=TaskState.QUEUED)
    assert second.stage == TaskStage.SECOND
    assert (second.due_at, second.warn_at) == (due, warn)
    assert second.enqueued_at == task.enqueued_at
    assert second.sla_target_minutes == task.sla_target_minutes

    # Breached on the first stage's clock, not a day later.
    assert review_sla_sweep(now=due).breached == [second.pk]
