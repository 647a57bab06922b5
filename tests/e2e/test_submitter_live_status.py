"""The submitter's open invoice page turns into the decision by itself, without a
reload, when a reviewer decides."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.invoices.submitter.helpers import make_invoice, reviewer_decides, to_review

from .conftest import sign_in


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def queue_defaults(transactional_db):
    """SLA policies and rejection reasons, as the migration seeds them (a flushed
    transactional database may have lost them)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("reviews.migrations.0002_review_queue")
    migration.seed_defaults(apps, None)


def test_open_invoice_page_shows_the_decision_without_reload(
    page, queue_defaults, submitter, reviewer
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    sign_in(page, submitter.username, PASSWORD)
    page.goto(f"{page.base_url}/invoices/{invoice.id}/")
    expect(page.locator("#invoice-status [data-status]")).to_have_attribute(
        "data-status", "in_review"
    )
    expect(page.locator("#sla-due")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")
    decided_at = time.monotonic()

    expect(page.locator("#invoice-status [data-status]")).to_have_attribute(
        "data-status", "rejected", timeout=5_000
    )
    assert time.monotonic() - decided_at < 5.0
    assert page.evaluate("window.__sameDocument") is True  # no reload
    expect(page.locator("#receipt-link")).to_be_visible()
    expect(page.locator("#resubmit-card")).to_be_visible()
    expect(page.locator("#timeline li")).to_have_count(3)
    expect(page.locator("#status-card")).to_contain_text("购买方信息与贵单位不符")
