"""Fixtures of the workbench tests: real documents (tests/docgen) submitted through
intake and screened inline, so the task, its checks and the stored document are what
production would have."""

from __future__ import annotations

import random
from typing import Any

import pytest

from accounts.roles import Role
from invoiceportal.invoices.extraction.types import ExtractedInvoice, InvoiceKind
from invoiceportal.invoices.intake import invoice_submit_file
from invoiceportal.invoices.models import Invoice
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.services import review_task_claim_next
from tests.docgen.registry import clean_digital_invoice
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _one_stage(db: Any) -> None:
    SecondReviewRule.objects.update(enabled=False)


@pytest.fixture
def truth(organization) -> ExtractedInvoice:
    """A clean 数电专票 to the organization; unknown to the registry, so screening
    sends it to review."""
    return clean_digital_invoice(
        7, buyer_name=organization.name, buyer_tax_id=organization.tax_id
    )


def many_lines(truth: ExtractedInvoice, count: int = 9) -> ExtractedInvoice:
    """``truth`` with ``count`` goods lines (totals and QR recomputed), enough for
    a PDF of three pages."""
    from tests.docgen.truth import _qr_payload
    from tests.docgen.variants_pdf import invoice_with_lines

    rng = random.Random(11)
    longer = invoice_with_lines(rng, InvoiceKind.DIGITAL_SPECIAL, count)
    truth.lines = longer.lines
    truth.amount, truth.tax_amount = longer.amount, longer.tax_amount
    truth.total_amount, truth.total_in_words = (
        longer.total_amount,
        longer.total_in_words,
    )
    truth.qr_payload = _qr_payload(truth, rng)
    return truth


def submit(submitter: Any, data: bytes, name: str) -> Invoice:
    result = invoice_submit_file(user=submitter, data=data, filename=name)
    return Invoice.objects.get(pk=result.invoice.pk)


@pytest.fixture
def submit_doc(submitter, django_capture_on_commit_callbacks):
    def make(data: bytes, name: str) -> tuple[Invoice, ReviewTask]:
        with django_capture_on_commit_callbacks(execute=True):
            invoice = submit(submitter, data, name)
        invoice.refresh_from_db()
        assert invoice.status == "in_review", (invoice.status, invoice.decision_reason)
        task = ReviewTask.objects.get(invoice=invoice)
        return invoice, task

    return make


@pytest.fixture
def claimed(reviewer):
    def claim(task: ReviewTask) -> ReviewTask:
        got = review_task_claim_next(user=reviewer)
        assert got is not None and got.pk == task.pk
        return got

    return claim


@pytest.fixture
def own_org_reviewer(organization):
    return UserFactory(role=Role.REVIEWER, organization=organization)


@pytest.fixture
def own_org_supervisor(organization):
    return UserFactory(role=Role.SUPERVISOR, organization=organization)
