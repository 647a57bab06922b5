"""The review-task API of DESIGN.md section 7: fields, filters, claim-next, release,
decide, errors as {code, message, details}; reassign and the board for supervisors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import TaskState
from reviews.queue.services import review_task_claim_next
from tests.conftest import api_as

from .conftest import at

pytestmark = pytest.mark.usefixtures("no_four_eyes")
BASE = "/api/v1/review-tasks/"
FIELDS = {"id", "invoice", "stage", "state", "priority", "assigned_to", "due_at"}


def test_list_has_the_contract_fields_in_claim_order(make_task, reviewer) -> None:
    normal = make_task()
    urgent = make_task(expedite_reason="加急")

    response = api_as(reviewer).get(BASE)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [r["id"] for r in body["results"]] == [urgent.pk, normal.pk]
    row = body["results"][0]
    assert set(row) == FIELDS | {"breached"}
    assert row["invoice"] == str(urgent.invoice_id)
    assert (row["stage"], row["state"], row["priority"]) == (
        "first",
        "queued",
        "urgent",
    )
    assert row["breached"] is False


def test_list_filters(make_task, reviewer, time_machine) -> None:
    a = make_task()
    b = make_task(total_amount=Decimal("200000.00"))
    review_task_claim_next(user=reviewer)  # b: high priority, due earlier
    client = api_as(reviewer)

    def ids(query: str) -> list[int]:
        return [r["id"] for r in client.get(BASE + query).json()["results"]]

    assert ids("?state=claimed") == [b.pk]
    assert ids("?state=queued") == [a.pk]
    assert ids("?priority=normal") == [a.pk]
    assert ids("?priority=high&priority=urgent") == [b.pk]
    assert ids("?stage=second") == []
    assert ids("?breaching=true") == []
    time_machine.move_to(at(3, 10), tick=False)  # b (8 h) is due, a is not
    assert ids("?breaching=true") == [b.pk]
    assert ids("?breaching=false") == [a.pk]
    assert client.get(BASE + "?state=nope").json()["code"] == "invalid"


def test_claim_next_200_then_204(make_task, reviewer, two_claims) -> None:
    task = make_task()
    client = api_as(reviewer)
    response = client.post(BASE + "claim-next/")
    assert response.status_code == 200
    assert response.json()["id"] == task.pk
    assert response.json()["assigned_to"] == reviewer.pk
    assert response.json()["state"] == "claimed"
    assert client.post(BASE + "claim-next/").status_code == 204


def test_release_and_decide(make_task, reviewer) -> None:
    task = make_task()
    client = api_as(reviewer)
    client.post(BASE + "claim-next/")
    assert client.post(f"{BASE}{task.pk}/release/").json()["state"] == "queued"
    client.post(BASE + "claim-next/")

    response = client.post(
        f"{BASE}{task.pk}/decide/",
        {"decision": "reject", "reason_code": "duplicate", "comment": "重复提交"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "done"
    task.invoice.refresh_from_db()
    assert task.invoice.status == InvoiceStatus.REJECTED
    again = client.post(
        f"{BASE}{task.pk}/decide/", {"decision": "approve"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    assert set(again.json()) == {"code", "message", "details"}


def test_decide_errors_say_what_to_do(make_task, reviewer) -> None:
    task = make_task()
    client = api_as(reviewer)
    client.post(BASE + "claim-next/")
    bad = client.post(f"{BASE}{task.pk}/decide/", {"decision": "maybe"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    no_reason = client.post(
        f"{BASE}{task.pk}/decide/", {"decision": "reject"}, format="json"
    )
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
    missing = client.post(f"{BASE}999999/decide/", {"decision": "approve"})
    assert missing.status_code == 404


def test_submitters_and_own_organization_get_nothing(
    make_task, submitter, organization
) -> None:
    task = make_task()
    assert api_as(submitter).get(BASE).status_code == 403
    assert api_as(submitter).post(BASE + "claim-next/").status_code == 403
    from accounts.roles import Role
    from tests.factories import UserFactory

    insider = UserFactory(role=Role.REVIEWER, organization=organization)
    assert api_as(insider).get(BASE).json()["results"] == []
    assert api_as(insider).get(f"{BASE}{task.pk}/").status_code == 404


def test_supervisor_reassigns_and_reads_the_board(
    make_task, reviewer, second_reviewer, supervisor
) -> None:
    task = make_task()
    response = api_as(supervisor).post(
        f"{BASE}{task.pk}/reassign/", {"assigned_to": second_reviewer.pk}
    )
    assert response.status_code == 200
    assert response.json()["assigned_to"] == second_reviewer.pk
    assert (
        api_as(reviewer)
        .post(f"{BASE}{task.pk}/reassign/", {"assigned_to": reviewer.pk})
        .status_code
        == 403
    )
    board = api_as(supervisor).get(BASE + "board/").json()
    assert board["counts"]["claimed"] == 1
    assert [t["id"] for t in board["held"]] == [task.pk]
    holding = {r["username"]: r["holding"] for r in board["reviewers"]}
    assert holding[second_reviewer.username] == 1
    assert api_as(reviewer).get(BASE + "board/").status_code == 403
    assert task.__class__.objects.get(pk=task.pk).state == TaskState.CLAIMED
