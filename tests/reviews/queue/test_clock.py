"""Issue 11, "an SLA clock that never lies", on a controlled clock (time-machine):
a breached task keeps its deadline and the pages say how late it is; a four-eyes
invoice has one deadline across both stages; a paused task resumes with the time it
had left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import translation

from invoiceportal.invoices.models import Invoice
from reviews.models import ReviewTask, SecondReviewRule, TaskStage, TaskState
from reviews.queue.services import (
    review_sla_sweep,
    review_task_claim_next,
    review_task_decide,
    review_task_resume,
)
from reviews.templatetags.sla_display import duration_text, overdue_text

from .conftest import MONDAY, at

pytestmark = pytest.mark.usefixtures("no_four_eyes")


def test_a_breached_task_keeps_its_deadline_and_pages_say_overdue(
    client, make_task, reviewer, supervisor, time_machine
) -> None:
    task = make_task()
    due = task.due_at
    assert due == at(4, 10)  # 16 business hours from Monday 10:00
    time_machine.move_to(at(4, 10, 1), tick=False)
    assert review_sla_sweep().breached == [task.pk]
    task.refresh_from_db()
    assert task.due_at == due  # raised a priority step, deadline unchanged

    time_machine.move_to(at(4, 18, 1), tick=False)
    client.force_login(supervisor)
    for url in ("/reviews/queue/", "/reviews/board/", f"/reviews/tasks/{task.pk}/"):
        html = client.get(url).content.decode()
        assert "已超期 8 小时 01 分" in html, url
    client.force_login(reviewer)
    with translation.override("en"):
        assert overdue_text(due) == "overdue by 8 h 01 min"


def test_overdue_is_empty_before_the_deadline_and_counts_days() -> None:
    assert overdue_text(MONDAY, now=MONDAY - dt.timedelta(seconds=1)) == ""
    assert overdue_text(None) == ""
    with translation.override("en"):
        assert duration_text(26 * 3600 + 5 * 60) == "1 d 2 h 05 min"
        assert duration_text(59) == "0 min"
        assert (
            overdue_text(MONDAY, now=MONDAY + dt.timedelta(minutes=7))
            == "overdue by 7 min"
        )


def test_a_four_eyes_invoice_has_one_deadline_across_both_stages(
    make_task, reviewer, second_reviewer, time_machine
) -> None:
    SecondReviewRule.objects.filter(code="amount_over").update(
        enabled=True, amount_threshold=Decimal("50000.00")
    )
    first = make_task(total_amount=Decimal("88000.00"))
    time_machine.move_to(at(3, 15), tick=False)  # a day and more of the first review
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=first.pk, decision="approve")

    second = ReviewTask.objects.get(invoice=first.invoice, stage=TaskStage.SECOND)
    first.refresh_from_db()
    assert second.state == TaskState.QUEUED
    assert (second.enqueued_at, second.due_at, second.warn_at) == (
        first.enqueued_at,
        first.due_at,
        first.warn_at,
    )
    assert second.due_at == at(4, 10)  # not a fresh 16 hours from Tuesday 15:00
    assert second.sla_target_minutes == first.sla_target_minutes


def test_a_paused_task_resumes_with_the_time_it_had_left(
    make_task, reviewer, submitter, time_machine
) -> None:
    task = make_task()
    assert task.due_at == at(4, 10)
    time_machine.move_to(at(2, 12), tick=False)  # 2 of 16 business hours used
    review_task_claim_next(user=reviewer)
    review_task_decide(
        user=reviewer, task_id=task.pk, decision="request_info", comment="合同？"
    )
    task.refresh_from_db()
    assert (task.state, task.due_at) == (TaskState.WAITING, None)

    time_machine.move_to(at(3, 10), tick=False)  # the submitter answers a day later
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=task.invoice_id)
        review_task_resume(invoice=invoice, actor=submitter)

    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    # 14 business hours left: Tuesday 10-12 and 13-18 (7 h), Wednesday 9-12 and
    # 13-17 (7 h).
    assert task.due_at == at(4, 17)
    assert task.paused_seconds == 6 * 3600  # Monday 13-18 and Tuesday 9-10


def test_a_breach_writes_task_breached_to_the_webhook_outbox(
    make_task, admin_user, settings, time_machine
) -> None:
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_endpoint_create

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    task = make_task()
    webhook_endpoint_create(
        actor=admin_user,
        organization=task.invoice.organization,
        url="http://127.0.0.1:9/hook",
        events=["task.breached"],
    )
    time_machine.move_to(at(4, 10, 1), tick=False)
    assert review_sla_sweep().breached == [task.pk]
    event = WebhookEvent.objects.get(type="task.breached")
    assert event.data["task"]["id"] == task.pk
