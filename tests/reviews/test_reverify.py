"""Invoices sent to review because the verifier was down are verified again later."""

import pytest

from reviews.models import CheckResult, ReviewTask
from reviews.reverify import (
    invoices_awaiting_verification,
    registry_retry,
    registry_retry_sweep,
)
from reviews.rules import rule_update
from reviews.screening import screen_invoice
from tests.reviews.test_screening import _frozen_clock, _media, make_invoice, register  # noqa: F401 - autouse fixtures

pytestmark = pytest.mark.django_db

DOWN = {"url": "http://127.0.0.1:9/verify", "attempts": 1, "timeout": 0.3}


@pytest.fixture
def verifier_down(settings):
    settings.VERIFIER_BACKEND = "reviews.verification.HttpVerifier"
    settings.VERIFIER_OPTIONS = DOWN
    return settings


@pytest.fixture
def no_sample(admin_user):
    rule_update(
        actor=admin_user, code="audit.sample", params={"rate": "0"}, change_note="t"
    )


def in_review_while_verifier_down(organization, submitter, settings):
    invoice = make_invoice(organization, submitter)
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == "in_review"
    settings.VERIFIER_BACKEND = "reviews.verification.LocalRegistryVerifier"
    settings.VERIFIER_OPTIONS = {}
    return invoice


def test_a_registry_match_later_approves_automatically(
    organization, submitter, verifier_down, no_sample
):
    invoice = in_review_while_verifier_down(organization, submitter, verifier_down)
    assert invoices_awaiting_verification() == [invoice.pk]
    register(invoice)
    outcome = registry_retry_sweep()
    fails = list(
        CheckResult.objects.filter(
            invoice=invoice, round=2, outcome="fail"
        ).values_list("rule_code", "message_en")
    )
    assert outcome == {"approved": 1}, fails
    invoice.refresh_from_db()
    assert invoice.status == "approved"
    assert invoice.decision_source == "automatic"
    assert ReviewTask.objects.get(invoice=invoice).state == "done"
    assert invoice.timeline.last().code == "auto_approved_after_verification"
    # the earlier round is kept, the new one is complete
    assert set(
        CheckResult.objects.filter(invoice=invoice).values_list("round", flat=True)
    ) == {1, 2}
    assert invoices_awaiting_verification() == []


def test_a_void_answer_rejects(organization, submitter, verifier_down, no_sample):
    invoice = in_review_while_verifier_down(organization, submitter, verifier_down)
    register(invoice, status="void")
    assert registry_retry(invoice_id=invoice.pk) == "rejected"
    invoice.refresh_from_db()
    assert invoice.status == "rejected"
    assert "作废" in invoice.decision_reason


def test_still_down_changes_nothing(organization, submitter, verifier_down, no_sample):
    invoice = in_review_while_verifier_down(organization, submitter, verifier_down)
    verifier_down.VERIFIER_BACKEND = "reviews.verification.HttpVerifier"
    verifier_down.VERIFIER_OPTIONS = DOWN
    before = CheckResult.objects.filter(invoice=invoice).count()
    assert registry_retry(invoice_id=invoice.pk) == "unavailable"
    invoice.refresh_from_db()
    assert invoice.status == "in_review"
    assert CheckResult.objects.filter(invoice=invoice).count() == before


def test_a_claimed_invoice_stays_with_its_reviewer(
    organization, submitter, reviewer, verifier_down, no_sample
):
    from reviews.queue.services import review_task_claim_next

    invoice = in_review_while_verifier_down(organization, submitter, verifier_down)
    register(invoice)
    assert review_task_claim_next(user=reviewer).invoice_id == invoice.pk
    assert registry_retry(invoice_id=invoice.pk) == "review"
    invoice.refresh_from_db()
    assert invoice.status == "in_review"
    assert invoice.timeline.filter(code="registry_rechecked").exists()
