"""Rejection reasons and canned replies managed by administrators, and the comment a
reason requires when a reviewer rejects with it."""

from __future__ import annotations

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ApplicationError, PermissionDeniedError
from reviews.adminpages.services import (
    canned_reply_create,
    rejection_reason_create,
    rejection_reason_update,
)
from reviews.models import RejectionReason
from reviews.queue.services import review_task_claim_next, review_task_decide


def test_other_requires_a_comment_when_rejecting(make_task, reviewer) -> None:
    assert RejectionReason.objects.get(code="other").comment_required
    task = make_task()
    review_task_claim_next(user=reviewer)
    with pytest.raises(ApplicationError) as caught:
        review_task_decide(
            user=reviewer, task_id=task.pk, decision="reject", reason_code="other"
        )
    assert caught.value.code == "comment_required"
    decided = review_task_decide(
        user=reviewer,
        task_id=task.pk,
        decision="reject",
        reason_code="other",
        comment="发票抬头错误",
    )
    assert decided.reason_code == "other"


def test_a_reason_that_needs_no_comment_rejects_without_one(
    make_task, reviewer
) -> None:
    task = make_task()
    review_task_claim_next(user=reviewer)
    decided = review_task_decide(
        user=reviewer, task_id=task.pk, decision="reject", reason_code="duplicate"
    )
    assert decided.decision == "reject"


def test_a_retired_reason_cannot_be_picked(make_task, reviewer, admin_user) -> None:
    rejection_reason_update(actor=admin_user, code="duplicate", is_active=False)
    task = make_task()
    review_task_claim_next(user=reviewer)
    with pytest.raises(ApplicationError) as caught:
        review_task_decide(
            user=reviewer, task_id=task.pk, decision="reject", reason_code="duplicate"
        )
    assert caught.value.code == "reason_required"


def test_the_last_active_reason_cannot_be_retired(admin_user) -> None:
    RejectionReason.objects.exclude(code="other").update(is_active=False)
    with pytest.raises(ApplicationError) as caught:
        rejection_reason_update(actor=admin_user, code="other", is_active=False)
    assert caught.value.code == "last_active_reason"
    assert RejectionReason.objects.get(code="other").is_active


@pytest.mark.parametrize(
    ("code", "error"),
    [("Bad Code", "invalid_code"), ("", "invalid_code"), ("other", "duplicate_code")],
)
def test_bad_or_taken_codes_are_refused(admin_user, code, error) -> None:
    with pytest.raises(ApplicationError) as caught:
        rejection_reason_create(
            actor=admin_user, code=code, label_zh="标签", label_en="Label"
        )
    assert caught.value.code == error
    assert "code" in caught.value.details


def test_a_reason_is_created_with_both_texts_and_audited(admin_user) -> None:
    reason = rejection_reason_create(
        actor=admin_user,
        code="no_contract",
        label_zh="缺少合同",
        label_en="No contract",
        comment_required=True,
    )
    assert reason.label("en") == "No contract"
    assert reason.label("zh-hans") == "缺少合同"
    entry = AuditEntry.objects.get(action="rejection_reason.created")
    assert entry.data["code"] == "no_contract"
    assert entry.data["comment_required"] is True


def test_only_administrators_manage_texts(supervisor) -> None:
    with pytest.raises(PermissionDeniedError):
        canned_reply_create(
            actor=supervisor,
            code="x",
            title_zh="标题",
            title_en="Title",
            body_zh="正文",
            body_en="Text",
        )
    with pytest.raises(PermissionDeniedError):
        rejection_reason_update(actor=supervisor, code="other", is_active=False)
