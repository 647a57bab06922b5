"""Issue 16: claims, releases, lease expiries and priority changes are audited in
the transaction of the change (finding 7), and reassigning from a page goes back
only to a path on this site (no open redirect through ``back``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_verify_chain
from invoiceportal.invoices.status import Priority
from reviews.models import TaskState
from reviews.queue.services import (
    review_sla_sweep,
    review_task_claim_next,
    review_task_release,
    review_task_reprioritize,
    review_task_set_priority,
)

pytestmark = pytest.mark.usefixtures("no_four_eyes")


def audit_of(task) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(
            object_id=str(task.invoice_id), action__startswith="review_task."
        )
        .order_by("seq")
        .values_list("action", "actor_id", "data")
    )


def test_a_claim_and_a_release_are_audited(make_task, reviewer) -> None:
    task = make_task()

    review_task_claim_next(user=reviewer)
    review_task_release(user=reviewer, task_id=task.pk)

    assert audit_of(task) == [
        ("review_task.claimed", reviewer.pk, {"task": task.pk, "stage": "first"}),
        ("review_task.released", reviewer.pk, {"task": task.pk, "holder": reviewer.pk}),
    ]
    assert audit_verify_chain().ok


def test_an_empty_queue_writes_no_audit_entry(reviewer) -> None:
    assert review_task_claim_next(user=reviewer) is None
    assert not AuditEntry.objects.exists()


def test_every_priority_change_is_audited_with_its_cause(
    make_task, supervisor, time_machine
) -> None:
    task = make_task()

    review_task_set_priority(actor=supervisor, task_id=task.pk, priority=Priority.HIGH)
    with transaction.atomic():
        review_task_reprioritize(invoice=task.invoice, priority=Priority.URGENT)

    assert audit_of(task) == [
        (
            "review_task.priority_changed",
            supervisor.pk,
            {"task": task.pk, "from": "normal", "to": "high", "cause": "supervisor"},
        ),
        (
            "review_task.priority_changed",
            None,
            {"task": task.pk, "from": "high", "to": "urgent", "cause": "expedite"},
        ),
    ]


def test_a_breach_raising_the_priority_and_an_expired_lease_are_audited(
    make_task, reviewer, time_machine
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)

    time_machine.move_to(task.due_at + dt.timedelta(minutes=1), tick=False)
    review_sla_sweep()

    actions = [(action, data.get("cause")) for action, _actor, data in audit_of(task)]
    assert actions == [
        ("review_task.claimed", None),
        ("review_task.lease_expired", None),
        ("review_task.priority_changed", "sla_breached"),
    ]
    assert task.__class__.objects.get(pk=task.pk).state == TaskState.QUEUED


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_reassign_never_redirects_off_the_site(
    client, make_task, supervisor, reviewer, back
) -> None:
    task = make_task()
    client.force_login(supervisor)

    response = client.post(
        f"/reviews/tasks/{task.pk}/reassign/", {"to_user": reviewer.pk, "back": back}
    )

    assert response.status_code == 302
    assert response["Location"] == "/reviews/board/"


def test_reassign_goes_back_to_the_page_it_came_from(
    client, make_task, supervisor, reviewer
) -> None:
    task = make_task()
    client.force_login(supervisor)
    back = f"/reviews/tasks/{task.pk}/"

    response = client.post(
        f"/reviews/tasks/{task.pk}/reassign/", {"to_user": reviewer.pk, "back": back}
    )

    assert response["Location"] == back
    assert task.__class__.objects.get(pk=task.pk).assigned_to_id == reviewer.pk
