"""Issue 11: a reviewer claims the task they opened ("Claim this task" on the page,
``POST /api/v1/review-tasks/{id}/claim/``) under the rules of claim-next, and holds
at most ``REVIEW_MAX_OPEN_CLAIMS`` claims at once (claim-next and claim-this)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from reviews.models import ReviewTask, SecondReviewRule, TaskStage, TaskState
from reviews.queue.services import review_task_claim_next, review_task_decide
from tests.conftest import api_as
from tests.factories import UserFactory

from .conftest import MONDAY

pytestmark = pytest.mark.usefixtures("no_four_eyes")
BASE = "/api/v1/review-tasks/"


def claim(user, task) -> object:
    return api_as(user).post(f"{BASE}{task.pk}/claim/")


def test_claim_this_task_from_the_page(client, make_task, reviewer) -> None:
    make_task()  # more urgent: claim-next would hand this one out
    task = make_task()
    client.force_login(reviewer)
    page = client.get(f"/reviews/tasks/{task.pk}/").content.decode()
    assert 'id="claim-this"' in page
    assert 'id="decision-form"' not in page

    response = client.post(f"/reviews/tasks/{task.pk}/claim/")

    assert response.status_code == 302
    assert response.url == f"/reviews/tasks/{task.pk}/"
    task.refresh_from_db()
    assert (task.state, task.assigned_to) == (TaskState.CLAIMED, reviewer)
    assert task.lease_expires_at == MONDAY + dt.timedelta(minutes=30)
    page = client.get(f"/reviews/tasks/{task.pk}/").content.decode()
    assert 'id="decision-form"' in page and 'id="claim-this"' not in page
    assert AuditEntry.objects.filter(action="review_task.claimed").count() == 1


def test_claim_this_task_through_the_api(make_task, reviewer, second_reviewer):
    task = make_task()
    response = claim(reviewer, task)
    assert response.status_code == 200
    assert response.json()["state"] == "claimed"
    assert response.json()["assigned_to"] == reviewer.pk
    assert claim(reviewer, task).status_code == 200  # the holder again: no change
    assert AuditEntry.objects.filter(action="review_task.claimed").count() == 1

    taken = claim(second_reviewer, task)
    assert taken.status_code == 409
    assert taken.json()["code"] == "claimed_by_other"
    assert taken.json()["message"] == "该任务已由其他审核员领取。"


def test_claim_this_keeps_separation_of_duties(
    make_task, organization, reviewer, second_reviewer
):
    task = make_task()
    insider = UserFactory(role=Role.REVIEWER, organization=organization)
    assert claim(insider, task).status_code == 404  # no existence oracle

    SecondReviewRule.objects.filter(code="amount_over").update(
        enabled=True, amount_threshold=Decimal("50000.00")
    )
    big = make_task(total_amount=Decimal("88000.00"))
    assert claim(reviewer, big).status_code == 200
    review_task_decide(user=reviewer, task_id=big.pk, decision="approve")
    second = ReviewTask.objects.get(invoice=big.invoice, stage=TaskStage.SECOND)
    refused = claim(reviewer, second)
    assert refused.status_code == 403
    assert refused.json()["code"] == "separation_of_duties"
    assert claim(second_reviewer, second).status_code == 200


def test_a_waiting_task_cannot_be_claimed(make_task, reviewer, second_reviewer):
    task = make_task()
    claim(reviewer, task)
    review_task_decide(
        user=reviewer, task_id=task.pk, decision="request_info", comment="合同？"
    )
    refused = claim(second_reviewer, task)
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_task_move"
    assert "等待提交人" in refused.json()["message"]


def test_at_most_one_open_claim_by_default(make_task, reviewer, settings) -> None:
    first, second = make_task(), make_task()
    assert api_as(reviewer).post(BASE + "claim-next/").json()["id"] == first.pk

    again = api_as(reviewer).post(BASE + "claim-next/")
    assert again.status_code == 409
    assert again.json()["code"] == "too_many_claims"
    assert again.json()["details"] == {"held": 1, "limit": 1}
    this = claim(reviewer, second)
    assert this.status_code == 409
    assert this.json()["code"] == "too_many_claims"
    assert ReviewTask.objects.filter(assigned_to=reviewer).count() == 1

    settings.REVIEW_MAX_OPEN_CLAIMS = 2
    assert claim(reviewer, second).status_code == 200


def test_deciding_frees_the_claim_for_the_next(make_task, reviewer) -> None:
    first, second = make_task(), make_task()
    review_task_claim_next(user=reviewer)
    review_task_decide(user=reviewer, task_id=first.pk, decision="approve")
    assert review_task_claim_next(user=reviewer).pk == second.pk


def test_pressing_claim_next_again_on_the_page_says_why(
    client, make_task, reviewer
) -> None:
    make_task(), make_task()
    client.force_login(reviewer)
    client.post("/reviews/claim-next/")
    response = client.post("/reviews/claim-next/", follow=True)
    assert response.redirect_chain == [("/reviews/queue/", 302)]
    assert "您已领取 1 个任务" in response.content.decode()
