"""SLA policies changed by an administrator: new tasks take the change, running
tasks keep the deadline they were given; a target of zero or less is refused."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ApplicationError, PermissionDeniedError
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import Priority
from reviews.adminpages.calendar_admin import (
    CalendarDay,
    DayKind,
    calendar_import,
)
from reviews.adminpages.services import sla_policy_update
from reviews.models import ReviewTask, SLAPolicy
from reviews.queue.services import (
    review_task_claim_next,
    review_task_decide,
    review_task_resume,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _monday(_defaults, time_machine) -> None:
    time_machine.move_to(at(2, 10), tick=False)  # a plain working Monday


def test_a_policy_change_applies_to_new_tasks_only(
    make_task, admin_user, time_machine
) -> None:
    running = make_task()  # normal, 16 business hours: due Wednesday 10:00
    assert running.due_at == at(4, 10)

    time_machine.move_to(at(2, 11), tick=False)
    policy = sla_policy_update(
        actor=admin_user, priority=Priority.NORMAL, target_business_minutes=60
    )
    assert policy.effective_from == at(2, 11)
    assert policy.changed_by == admin_user

    running.refresh_from_db()
    assert running.due_at == at(4, 10)  # untouched
    fresh = make_task()
    assert (fresh.due_at, fresh.sla_target_minutes) == (at(2, 12), 60)

    entry = AuditEntry.objects.get(action="sla_policy.changed")
    assert entry.data["before"] == {"target_business_minutes": 16 * 60}
    assert entry.data["after"] == {"target_business_minutes": 60}


def test_a_running_task_rescheduled_after_a_policy_change_keeps_its_target(
    make_task, admin_user, reviewer, time_machine
) -> None:
    """A pause and resume recount the deadline: with the task's own target, not the
    policy's new one (before the fix, the resumed task became due 60 minutes after
    it was queued)."""
    task = make_task()
    sla_policy_update(
        actor=admin_user, priority=Priority.NORMAL, target_business_minutes=60
    )
    time_machine.move_to(at(2, 10, 30), tick=False)
    claimed = review_task_claim_next(user=reviewer)
    assert claimed.pk == task.pk
    review_task_decide(
        user=reviewer,
        task_id=task.pk,
        decision="request_info",
        comment="请补充合同",
    )
    time_machine.move_to(at(2, 11, 30), tick=False)  # an hour waiting
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=task.invoice_id)
        review_task_resume(invoice=invoice)

    task.refresh_from_db()
    assert task.sla_target_minutes == 16 * 60
    assert task.due_at == at(4, 11)  # Wednesday 10:00 plus the hour paused


def test_a_calendar_change_recounts_running_tasks_with_their_own_target(
    make_task, admin_user
) -> None:
    task = make_task()
    sla_policy_update(
        actor=admin_user, priority=Priority.NORMAL, target_business_minutes=60
    )
    calendar_import(
        actor=admin_user,
        days=[CalendarDay(dt.date(2026, 3, 3), DayKind.HOLIDAY, "公司年会")],
        source="csv",
    )
    task.refresh_from_db()
    assert task.due_at == at(5, 10)  # Tuesday off: 16 h from Monday 10:00


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_target_of_zero_or_less_is_refused_and_nothing_changes(
    admin_user, minutes
) -> None:
    with pytest.raises(ApplicationError) as caught:
        sla_policy_update(
            actor=admin_user,
            priority=Priority.URGENT,
            target_business_minutes=minutes,
        )
    assert caught.value.code == "sla_target_not_positive"
    assert "target_business_minutes" in caught.value.details
    assert (
        SLAPolicy.objects.get(priority=Priority.URGENT).target_business_minutes == 240
    )
    assert not AuditEntry.objects.filter(action="sla_policy.changed").exists()


def test_only_administrators_change_policies(supervisor) -> None:
    with pytest.raises(PermissionDeniedError):
        sla_policy_update(
            actor=supervisor, priority=Priority.URGENT, target_business_minutes=30
        )


def test_a_new_priority_takes_the_new_policy_in_force(
    make_task, admin_user, supervisor
) -> None:
    from reviews.queue.services import review_task_set_priority

    task = make_task()
    sla_policy_update(
        actor=admin_user, priority=Priority.URGENT, target_business_minutes=120
    )
    review_task_set_priority(actor=supervisor, task_id=task.pk, priority=2)
    task = ReviewTask.objects.get(pk=task.pk)
    assert (task.sla_target_minutes, task.due_at) == (120, at(2, 12))
