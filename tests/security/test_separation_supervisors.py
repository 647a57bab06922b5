"""Issue 16, finding 11: a supervisor (or admin) who belongs to a submitting
organization acts on none of its invoices: no reassigning, releasing or
re-prioritising its review tasks, no answering its urgent-handling requests. One
guard in the services, so pages and the API refuse alike, in both languages."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.roles import Role
from invoiceportal.common.errors import PermissionDeniedError
from invoiceportal.invoices.actions import (
    invoice_expedite_approve,
    invoice_expedite_decline,
    invoice_expedite_request,
)
from invoiceportal.invoices.models import ExpediteRequest, ExpediteState
from invoiceportal.invoices.separation import staff_action_problem
from invoiceportal.invoices.status import Priority
from reviews.models import ReviewTask, TaskState
from reviews.queue.services import (
    review_task_claim_next,
    review_task_reassign,
    review_task_release,
    review_task_set_priority,
)
from tests.conftest import api_as
from tests.factories import UserFactory
from tests.reviews.queue.conftest import open_task

pytestmark = pytest.mark.django_db

OWN_ORG_ZH = "您不能处理本组织的发票：须由其他主管处理。"
OWN_ORG_EN = (
    "You cannot act on an invoice of your own organization: another supervisor "
    "must do this."
)


@pytest.fixture
def insider(organization):
    """A supervisor employed by the organization that submits the invoices."""
    return UserFactory(role=Role.SUPERVISOR, organization=organization)


@pytest.fixture
def insider_admin(organization):
    return UserFactory(role=Role.ADMIN, organization=organization)


@pytest.fixture
def second_reviewer(review_centre):
    return UserFactory(role=Role.REVIEWER, organization=review_centre)


@pytest.fixture
def claimed_task(organization, submitter, reviewer):
    task = open_task(organization, submitter)
    assert review_task_claim_next(user=reviewer).pk == task.pk
    return task


def state(task: ReviewTask) -> tuple:
    task = ReviewTask.objects.get(pk=task.pk)
    return (task.state, task.assigned_to_id, task.priority)


def refused(call) -> PermissionDeniedError:
    with pytest.raises(PermissionDeniedError) as refusal:
        call()
    assert refusal.value.code == "separation_of_duties"
    return refusal.value


# ------------------------------------------------------------------ services


@pytest.mark.parametrize("who", ["insider", "insider_admin"])
def test_insiders_cannot_release_reassign_or_reprioritize_their_organizations_tasks(
    request, who, claimed_task, second_reviewer
):
    actor = request.getfixturevalue(who)
    before = state(claimed_task)

    if who == "insider":  # administrators do not release (they do not review)
        refused(lambda: review_task_release(user=actor, task_id=claimed_task.pk))
    refused(
        lambda: review_task_reassign(
            actor=actor, task_id=claimed_task.pk, to_user=second_reviewer
        )
    )
    refused(
        lambda: review_task_set_priority(
            actor=actor, task_id=claimed_task.pk, priority=Priority.URGENT
        )
    )

    assert state(claimed_task) == before


def test_a_supervisor_from_elsewhere_still_may(
    claimed_task, supervisor, second_reviewer
):
    review_task_set_priority(
        actor=supervisor, task_id=claimed_task.pk, priority=Priority.URGENT
    )
    review_task_reassign(
        actor=supervisor, task_id=claimed_task.pk, to_user=second_reviewer
    )
    review_task_release(user=supervisor, task_id=claimed_task.pk)

    assert state(claimed_task) == (TaskState.QUEUED, None, Priority.URGENT)


def test_an_insider_cannot_answer_their_organizations_urgent_request(
    organization, submitter, insider, supervisor
):
    task = open_task(organization, submitter)
    asked = invoice_expedite_request(
        user=submitter, invoice_id=task.invoice_id, reason="月底结账急需处理"
    )

    refused(lambda: invoice_expedite_approve(actor=insider, request_id=asked.pk))
    refused(lambda: invoice_expedite_decline(actor=insider, request_id=asked.pk))
    assert ExpediteRequest.objects.get(pk=asked.pk).state == ExpediteState.PENDING
    assert state(task)[2] == Priority.NORMAL

    invoice_expedite_approve(actor=supervisor, request_id=asked.pk)
    assert ExpediteRequest.objects.get(pk=asked.pk).state == ExpediteState.APPROVED


def test_nobody_acts_on_an_invoice_they_submitted(submitter):
    assert staff_action_problem(
        user=submitter, organization_id=None, submitted_by_id=submitter.pk
    )


def test_the_refusal_says_why_in_both_languages(claimed_task, insider):
    with translation.override("zh-hans"):
        zh = refused(lambda: review_task_release(user=insider, task_id=claimed_task.pk))
        assert str(zh.message) == OWN_ORG_ZH
    with translation.override("en"):
        en = refused(lambda: review_task_release(user=insider, task_id=claimed_task.pk))
        assert str(en.message) == OWN_ORG_EN


# -------------------------------------------------------------- API and pages


def test_the_api_refuses_an_insider_with_the_reason(
    claimed_task, insider, second_reviewer, reviewer
):
    base = f"/api/v1/review-tasks/{claimed_task.pk}/"
    client = api_as(insider)

    reassign = client.post(base + "reassign/", {"assigned_to": second_reviewer.pk})
    release = client.post(base + "release/")

    for response in (reassign, release):
        assert response.status_code == 403
        assert response.json()["code"] == "separation_of_duties"
        assert response.json()["message"] == OWN_ORG_ZH
    assert state(claimed_task)[:2] == (TaskState.CLAIMED, reviewer.pk)


def test_the_board_and_task_pages_refuse_an_insider(
    client, claimed_task, insider, second_reviewer, reviewer
):
    client.force_login(insider)
    for data in (
        {"action": "priority", "priority": Priority.URGENT},
        {"action": "release"},
        {"action": "reassign", "to_user": second_reviewer.pk},
    ):
        response = client.post(
            "/reviews/board/bulk/", {**data, "tasks": [claimed_task.pk]}, follow=True
        )
        assert OWN_ORG_ZH in response.content.decode()
    response = client.post(
        f"/reviews/tasks/{claimed_task.pk}/reassign/",
        {"to_user": second_reviewer.pk},
        follow=True,
    )
    assert OWN_ORG_ZH in response.content.decode()
    assert state(claimed_task) == (TaskState.CLAIMED, reviewer.pk, Priority.NORMAL)


def test_the_urgent_requests_page_refuses_an_insider(
    client, organization, submitter, insider
):
    task = open_task(organization, submitter)
    asked = invoice_expedite_request(
        user=submitter, invoice_id=task.invoice_id, reason="月底结账急需处理"
    )
    client.force_login(insider)

    response = client.post(
        f"/invoices/urgent/{asked.pk}/", {"decision": "approve"}, follow=True
    )

    assert OWN_ORG_ZH in response.content.decode()
    assert ExpediteRequest.objects.get(pk=asked.pk).state == ExpediteState.PENDING
