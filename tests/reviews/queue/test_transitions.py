"""Issue 14: the review task's transition table. Every move goes through one helper;
illegal moves are refused with a clear error; each move writes exactly one audit
entry (and the claim's one statement obeys the same table); page capabilities come
from the table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_verify_chain
from invoiceportal.common.errors import ConflictError
from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus, Priority
from invoiceportal.notifications.models import Notification
from reviews.models import ReviewTask, SecondReviewRule, TaskState
from reviews.queue.services import (
    review_sla_sweep,
    review_task_claim,
    review_task_claim_next,
    review_task_decide,
    review_task_reassign,
    review_task_release,
    review_task_resume,
    review_task_set_priority,
)
from reviews.queue.transitions import (
    TRANSITIONS,
    IllegalTaskMove,
    TaskMove,
    check_move,
    task_capabilities,
    task_move,
)

pytestmark = pytest.mark.usefixtures("no_four_eyes")


def review_audit() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="review_task.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def one_more(before: list[str], action: str) -> None:
    after = review_audit()
    assert after[: len(before)] == before
    assert after[len(before) :] == [action]


def test_every_move_not_in_the_table_is_refused_with_a_clear_error(make_task):
    task = make_task()
    for move, transition in TRANSITIONS.items():
        for state in TaskState.values:
            task.state = state
            if state in transition.sources:
                assert check_move(task, move) is transition
                continue
            with pytest.raises(IllegalTaskMove) as caught:
                check_move(task, move)
            assert caught.value.code == "illegal_task_move"
            assert caught.value.status_code == 409
            assert caught.value.details == {"state": state, "move": str(move)}


def test_the_helper_refuses_an_illegal_move_and_changes_nothing(make_task):
    task = make_task()  # queued
    with transaction.atomic(), pytest.raises(IllegalTaskMove) as caught:
        task_move(task, TaskMove.RELEASE, invoice=task.invoice)
    assert str(caught.value.message) == "处于“排队中”状态的任务不能退回队列。"
    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    assert review_audit() == []


def test_services_refuse_illegal_moves(make_task, reviewer, submitter):
    task = make_task()
    review_task_claim_next(user=reviewer)
    review_task_decide(
        user=reviewer, task_id=task.pk, decision="request_info", comment="合同？"
    )
    # Waiting: it cannot be claimed, released or reassigned.
    with pytest.raises(IllegalTaskMove) as caught:
        review_task_claim(user=reviewer, task_id=task.pk)
    assert "等待提交人" in str(caught.value.message)
    with pytest.raises(ConflictError) as caught:
        review_task_release(user=reviewer, task_id=task.pk)
    assert caught.value.code == "not_claimed"


def test_each_move_writes_exactly_one_audit_entry(
    make_task, reviewer, second_reviewer, supervisor, submitter, time_machine
):
    task = make_task()
    before = review_audit()
    review_task_claim_next(user=reviewer)
    one_more(before, "review_task.claimed")

    before = review_audit()
    review_task_release(user=reviewer, task_id=task.pk)
    one_more(before, "review_task.released")

    before = review_audit()
    review_task_claim(user=reviewer, task_id=task.pk)
    one_more(before, "review_task.claimed")

    before = review_audit()
    review_task_reassign(actor=supervisor, task_id=task.pk, to_user=second_reviewer)
    one_more(before, "review_task.reassigned")

    before = review_audit()
    review_task_set_priority(actor=supervisor, task_id=task.pk, priority=Priority.HIGH)
    one_more(before, "review_task.priority_changed")

    before = review_audit()
    review_task_decide(
        user=second_reviewer, task_id=task.pk, decision="request_info", comment="?"
    )
    one_more(before, "review_task.info_requested")

    before = review_audit()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=task.invoice_id)
        review_task_resume(invoice=invoice, actor=submitter)
    one_more(before, "review_task.resumed")

    before = review_audit()
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=task.pk, decision="approve")
    one_more([*before, "review_task.claimed"], "review_task.decided")

    rejected = make_task()
    review_task_claim_next(user=reviewer)
    before = review_audit()
    review_task_decide(
        user=reviewer, task_id=rejected.pk, decision="reject", reason_code="duplicate"
    )
    one_more(before, "review_task.decided")

    closed = make_task()
    before = review_audit()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=closed.invoice_id)
        invoice_transition(
            invoice=invoice, to=InvoiceStatus.WITHDRAWN, actor=submitter, code="w"
        )
    one_more(before, "review_task.closed")

    expired = make_task()
    review_task_claim_next(user=reviewer)
    time_machine.shift(60 * 60)
    before = review_audit()
    assert review_sla_sweep().expired == [expired.pk]
    one_more(before, "review_task.lease_expired")
    assert audit_verify_chain().ok


def test_a_first_approval_writes_one_entry_and_the_second_stage_none(
    make_task, reviewer
):
    SecondReviewRule.objects.filter(code="amount_over").update(
        enabled=True, amount_threshold=Decimal("50000.00")
    )
    task = make_task(total_amount=Decimal("88000.00"))
    review_task_claim_next(user=reviewer)
    before = review_audit()
    review_task_decide(user=reviewer, task_id=task.pk, decision="approve")
    one_more(before, "review_task.first_approval")


def test_every_move_is_on_the_timeline_for_staff_only(make_task, reviewer):
    task = make_task()
    review_task_claim_next(user=reviewer)
    review_task_release(user=reviewer, task_id=task.pk)
    events = task.invoice.timeline.filter(
        code__in=["review_claimed", "review_released"]
    )
    assert [e.code for e in events.order_by("id")] == [
        "review_claimed",
        "review_released",
    ]
    assert not any(e.visible_to_submitter for e in events)


def test_page_capabilities_come_from_the_table(
    make_task, reviewer, second_reviewer, supervisor, admin_user
):
    task = make_task()
    queued = task_capabilities(task, reviewer)
    assert (queued.can_claim, queued.can_release, queued.can_decide) == (
        True,
        False,
        False,
    )
    assert not task_capabilities(task, admin_user).can_claim  # not a reviewer
    assert not task_capabilities(
        task, reviewer, separation_problem="own organization"
    ).can_claim

    review_task_claim_next(user=reviewer)
    task.refresh_from_db()
    mine = task_capabilities(task, reviewer)
    assert (mine.can_claim, mine.can_release, mine.can_decide, mine.mine) == (
        False,
        True,
        True,
        True,
    )
    other = task_capabilities(task, second_reviewer)
    assert (other.can_release, other.can_decide) == (False, False)
    boss = task_capabilities(task, supervisor)
    assert (boss.can_release, boss.can_reassign, boss.can_set_priority) == (
        True,
        True,
        True,
    )

    review_task_decide(
        user=reviewer, task_id=task.pk, decision="request_info", comment="?"
    )
    task.refresh_from_db()
    waiting = task_capabilities(task, supervisor)
    assert (waiting.can_claim, waiting.can_reassign, waiting.can_set_priority) == (
        False,
        False,
        True,
    )
    task.state = TaskState.DONE
    done = task_capabilities(task, supervisor)
    assert not any(
        (done.can_claim, done.can_release, done.can_reassign, done.can_set_priority)
    )


def test_a_reassigned_reviewer_is_notified_with_a_link_to_the_task(
    make_task, second_reviewer, supervisor
):
    task = make_task()
    review_task_reassign(actor=supervisor, task_id=task.pk, to_user=second_reviewer)
    note = Notification.objects.get(user=second_reviewer, channel="in_app")
    assert note.kind == "task_assigned"
    assert note.context["by"] == supervisor.username
    assert ReviewTask.objects.get(pk=task.pk).assigned_to == second_reviewer
