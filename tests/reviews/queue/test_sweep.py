"""The SLA sweep with the clock moved by time-machine: warnings, breaches, escalation,
holidays and make-up workdays, and the submitter's SLA summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from invoiceportal.invoices.models import TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus, Priority
from portal.submitter.selectors import invoice_eta
from reviews.models import Holiday, MakeupWorkday, SLAPolicy
from reviews.queue.calendar import calendar_changed
from reviews.queue.services import (
    review_sla_sweep,
    review_task_claim_next,
    review_task_decide,
    review_task_resume,
)
from reviews.queue.tasks import lease_expiry_task, sla_sweep_task
from reviews.sla.eta import EtaBasis

from .conftest import at

pytestmark = pytest.mark.usefixtures("no_four_eyes")


def events(task, code: str) -> list[TimelineEvent]:
    return list(task.invoice.timeline.filter(code=code))


def test_sweep_warns_at_the_policy_percentage_once(
    make_task, supervisor, time_machine
) -> None:
    task = make_task()  # normal: due Wed 10:00, warning at 75 % = Tue 15:00
    time_machine.move_to(at(3, 14, 59), tick=False)
    assert sla_sweep_task()["warned"] == 0

    time_machine.move_to(at(3, 15), tick=False)
    report = review_sla_sweep()
    assert report.warned == [task.pk]
    assert review_sla_sweep().warned == []  # once

    task.refresh_from_db()
    assert task.warned_at == at(3, 15)
    assert task.breached_at is None
    (warning,) = events(task, "sla_warning")
    assert warning.visible_to_submitter is False
    assert warning.params["percent"] == 75
    (notice,) = events(task, "supervisors_notified")
    assert notice.params["kind"] == "sla_warning"
    assert notice.params["users"] == [supervisor.username]


def test_breach_is_marked_escalated_and_raises_the_priority(
    make_task, supervisor, time_machine
) -> None:
    task = make_task()
    missed, warn = task.due_at, task.warn_at
    assert missed == at(4, 10)
    time_machine.move_to(at(4, 10), tick=False)

    report = review_sla_sweep()

    assert report.breached == [task.pk]
    task.refresh_from_db()
    task.invoice.refresh_from_db()
    assert task.breached_at == at(4, 10)
    assert task.warned_at == at(4, 10)
    assert task.priority == Priority.HIGH
    assert task.invoice.priority == Priority.HIGH
    assert task.sla_policy.priority == Priority.HIGH
    # The deadline it missed stays (it moved back to 3 March 10:00, the higher
    # priority's 8 business hours from the queue time, before the fix).
    assert (task.due_at, task.warn_at) == (missed, warn)
    codes = list(task.invoice.timeline.values_list("code", flat=True))
    assert codes[-3:] == [
        "sla_breached",
        "supervisors_notified",
        "review_priority_changed",
    ]
    assert codes[:-3] == ["screening_started", "sent_to_review"]  # the routing
    # A breach stays a breach, and is reported once.
    time_machine.move_to(at(5, 10), tick=False)
    assert review_sla_sweep().breached == []
    assert lease_expiry_task() == 0


def test_claimed_tasks_breach_too_and_paused_ones_never(
    make_task, reviewer, time_machine, two_claims
) -> None:
    claimed = make_task()
    waiting = make_task()
    review_task_claim_next(user=reviewer)
    review_task_claim_next(user=reviewer)
    review_task_decide(
        user=reviewer, task_id=waiting.pk, decision="request_info", comment="?"
    )
    time_machine.move_to(at(4, 10, 1), tick=False)
    report = review_sla_sweep()
    assert report.breached == [claimed.pk]
    assert report.expired == [claimed.pk]  # the 30-minute lease ran out long ago


def test_holidays_and_makeup_workdays_move_the_due_time(
    make_task, time_machine
) -> None:
    # Friday 2026-04-03 16:00, urgent (4 business hours): 2 h on Friday, then
    # Qingming (Sat 4 - Mon 6 April), then 2 h on Tuesday: due Tuesday 11:00.
    time_machine.move_to(at(3, 16, month=4), tick=False)
    task = make_task(expedite_reason="加急")
    assert task.due_at == at(7, 11, month=4)
    time_machine.move_to(at(6, 17, month=4), tick=False)
    assert review_sla_sweep().breached == []
    time_machine.move_to(at(7, 11, month=4), tick=False)
    assert review_sla_sweep().breached == [task.pk]

    # Saturday 9 May 2026 is a make-up workday: a Friday-evening task is due then.
    time_machine.move_to(at(8, 18, month=5), tick=False)
    assert make_task(expedite_reason="加急").due_at == at(9, 14, month=5)


def test_admins_edit_the_calendar(make_task, time_machine) -> None:
    Holiday.objects.create(date=dt.date(2026, 3, 3), name="公司年会")
    calendar_changed()
    task = make_task()  # Monday 10:00 + 16 h, Tuesday off: due Thursday 10:00
    assert task.due_at == at(5, 10)
    MakeupWorkday.objects.create(date=dt.date(2026, 3, 7), name="补班")
    calendar_changed()
    assert make_task().due_at == at(5, 10)


def test_policy_target_changes_apply_to_new_tasks(make_task) -> None:
    SLAPolicy.objects.filter(priority=Priority.NORMAL).update(
        target_business_minutes=60, warn_at_percent=50
    )
    task = make_task()
    assert (task.due_at, task.warn_at) == (at(2, 11), at(2, 10, 30))


def test_submitter_summary_shows_position_due_time_and_pause(
    make_task, reviewer, time_machine
) -> None:
    first = make_task()
    time_machine.move_to(at(2, 10, 5), tick=False)
    second = make_task()

    summary = invoice_eta(second.invoice)
    assert summary["queue_position"] == 2
    assert summary["due_at"] == second.due_at
    assert summary["paused"] is False
    assert summary["eta"].basis == EtaBasis.SLA_DUE  # no decisions yet

    review_task_claim_next(user=reviewer)  # takes the first
    review_task_decide(user=reviewer, task_id=first.pk, decision="approve")
    summary = invoice_eta(second.invoice)
    assert summary["queue_position"] == 1
    # The queue's throughput is shared for QUEUE_STATS_CACHE_SECONDS: the first
    # decision counts once that interval has passed.
    assert summary["eta"].basis == EtaBasis.SLA_DUE
    time_machine.move_to(at(2, 10, 7), tick=False)
    summary = invoice_eta(second.invoice)
    assert summary["eta"].basis == EtaBasis.THROUGHPUT

    review_task_claim_next(user=reviewer)
    assert invoice_eta(second.invoice)["queue_position"] == 0
    review_task_decide(
        user=reviewer, task_id=second.pk, decision="request_info", comment="?"
    )
    summary = invoice_eta(second.invoice)
    assert summary["paused"] is True
    assert summary["pause_reason"]
    assert summary["eta"].basis == EtaBasis.PAUSED

    with transaction.atomic():
        review_task_resume(invoice=second.invoice)
    assert second.invoice.status == InvoiceStatus.IN_REVIEW
    assert invoice_eta(second.invoice)["queue_position"] == 1
    assert invoice_eta(first.invoice)["due_at"] is None  # decided


def test_queue_figures_are_read_once_per_interval(
    make_task, reviewer, time_machine, settings, django_assert_num_queries
) -> None:
    from reviews.queue.calendar import business_calendar
    from reviews.queue.selectors import recent_throughput_and_handle

    settings.QUEUE_STATS_CACHE_SECONDS = 60
    first = make_task()
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=first.pk, decision="approve")
    time_machine.move_to(at(2, 11), tick=False)
    cal = business_calendar()
    figures = recent_throughput_and_handle(cal, timezone.now())
    assert figures[0] > 0
    with django_assert_num_queries(0):  # shared: no query within the interval
        assert recent_throughput_and_handle(cal, timezone.now()) == figures
    settings.QUEUE_STATS_CACHE_SECONDS = 0  # 0: computed every time
    with django_assert_num_queries(2):
        assert recent_throughput_and_handle(cal, timezone.now()) == figures
