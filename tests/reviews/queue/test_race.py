"""Concurrency on PostgreSQL: reviewers racing for the queue never hold or decide the
same task, and a decision is never applied twice (style.md: races get a real test)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_verify_chain
from invoiceportal.common.errors import ConflictError
from invoiceportal.invoices.models import TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import ReviewTask, TaskState
from reviews.queue.services import (
    review_task_claim_next,
    review_task_decide,
    review_task_release,
)
from tests.factories import OrganizationFactory, UserFactory

from .conftest import open_task

REVIEWERS = 8
TASKS = 60

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_four_eyes"),
]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: SQLite has no row locks and serialises writers "
            "(run with DATABASE_URL=postgres://...)."
        )


def run_threads(target: Any, args: list[tuple]) -> list[BaseException]:
    start = threading.Barrier(len(args))
    errors: list[BaseException] = []

    def body(*a: Any) -> None:
        try:
            start.wait(timeout=30)
            target(*a)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=a) for a in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a reviewer thread hung"
    return errors


def test_eight_reviewers_claiming_and_deciding_never_share_a_task(
    organization, submitter
) -> None:
    tasks = [open_task(organization, submitter) for _ in range(TASKS)]
    centre = OrganizationFactory()
    reviewers = [
        UserFactory(role=Role.REVIEWER, organization=centre) for _ in range(REVIEWERS)
    ]
    claims: dict[int, list[int]] = {r.pk: [] for r in reviewers}
    decided: dict[int, list[int]] = {r.pk: [] for r in reviewers}

    def work(reviewer: Any) -> None:
        n = 0
        while True:
            task = review_task_claim_next(user=reviewer)
            if task is None:
                return
            claims[reviewer.pk].append(task.pk)
            n += 1
            if n % 7 == 0:  # some give the task back: others must pick it up
                review_task_release(user=reviewer, task_id=task.pk)
                continue
            decision = "approve" if task.pk % 3 else "reject"
            review_task_decide(
                user=reviewer,
                task_id=task.pk,
                decision=decision,
                reason_code="duplicate" if decision == "reject" else "",
            )
            decided[reviewer.pk].append(task.pk)

    errors = run_threads(work, [(r,) for r in reviewers])

    assert errors == []
    all_decided = [pk for pks in decided.values() for pk in pks]
    assert sorted(all_decided) == sorted(t.pk for t in tasks)  # each exactly once
    assert sum(1 for pks in claims.values() if pks) >= 2  # really concurrent
    states = Counter(ReviewTask.objects.values_list("state", flat=True))
    assert states == {TaskState.DONE: TASKS}
    statuses = Counter(
        t.invoice.status for t in ReviewTask.objects.select_related("invoice")
    )
    assert set(statuses) <= {InvoiceStatus.APPROVED, InvoiceStatus.REJECTED}
    decisions = Counter(
        TimelineEvent.objects.filter(code__in=["approved", "rejected"]).values_list(
            "invoice_id", flat=True
        )
    )
    assert set(decisions.values()) == {1} and len(decisions) == TASKS
    # Every claim and release has its audit entry, in one intact chain.
    audited = Counter(
        AuditEntry.objects.filter(action__startswith="review_task.").values_list(
            "action", flat=True
        )
    )
    all_claims = sum(len(pks) for pks in claims.values())
    assert audited["review_task.claimed"] == all_claims
    assert audited["review_task.released"] == all_claims - TASKS
    assert audit_verify_chain().ok
    decided_by = dict(ReviewTask.objects.values_list("pk", "decided_by_id"))
    for reviewer_pk, pks in decided.items():
        assert all(decided_by[pk] == reviewer_pk for pk in pks)


def test_a_decision_raced_by_eight_requests_is_applied_once(
    organization, submitter, reviewer
) -> None:
    task = open_task(organization, submitter)
    review_task_claim_next(user=reviewer)
    outcomes: list[str] = []

    def decide(i: int) -> None:
        try:
            review_task_decide(
                user=reviewer,
                task_id=task.pk,
                decision="approve" if i % 2 else "reject",
                reason_code="duplicate",
            )
            outcomes.append("ok")
        except ConflictError as exc:
            outcomes.append(exc.code)

    errors = run_threads(decide, [(i,) for i in range(REVIEWERS)])

    assert errors == []
    assert Counter(outcomes) == {"ok": 1, "already_decided": REVIEWERS - 1}
    events = TimelineEvent.objects.filter(
        invoice_id=task.invoice_id, code__in=["approved", "rejected"]
    )
    assert events.count() == 1
    decided = Counter(
        AuditEntry.objects.filter(
            object_id=str(task.invoice_id),
            action__in=["invoice.approved", "invoice.rejected", "review_task.decided"],
        ).values_list("action", flat=True)
    )
    assert sum(decided.values()) == 2 and decided["review_task.decided"] == 1


def test_eight_reviewers_claiming_one_task_one_wins(organization, submitter) -> None:
    task = open_task(organization, submitter)
    centre = OrganizationFactory()
    reviewers = [
        UserFactory(role=Role.REVIEWER, organization=centre) for _ in range(REVIEWERS)
    ]
    won: list[int] = []

    def claim(reviewer: Any) -> None:
        got = review_task_claim_next(user=reviewer)
        if got is not None:
            won.append(reviewer.pk)

    assert run_threads(claim, [(r,) for r in reviewers]) == []
    assert len(won) == 1
    task.refresh_from_db()
    assert task.assigned_to_id == won[0]
    claimed = AuditEntry.objects.filter(action="review_task.claimed")
    assert list(claimed.values_list("actor_id", flat=True)) == won
