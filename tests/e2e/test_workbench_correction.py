"""A reviewer sees the document beside its fields, points at a field to find it on
the page, corrects a misread buyer name inline, and sees the checks change; the
decision form stays on the first screen at 1366x768."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from invoiceportal.invoices.intake import invoice_submit_file
from invoiceportal.invoices.models import Invoice
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_claim_next
from tests.docgen.pdf_doc import make_pdf
from tests.docgen.registry import clean_digital_invoice
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

from .conftest import ARTIFACTS, sign_in


@pytest.fixture
def misread_task(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    seed_defaults()
    SecondReviewRule.objects.update(enabled=False)
    org = OrganizationFactory(name="上海甲乙丙贸易有限公司")
    submitter = UserFactory(role=Role.SUBMITTER, organization=org)
    reviewer = UserFactory(
        role=Role.REVIEWER, organization=OrganizationFactory(name="审核中心")
    )
    truth = clean_digital_invoice(5, buyer_name=org.name, buyer_tax_id=org.tax_id)
    truth.buyer_name = org.name[:-1] + "词"  # read with one character wrong
    result = invoice_submit_file(
        user=submitter, data=make_pdf(truth), filename="invoice.pdf"
    )
    invoice = Invoice.objects.get(pk=result.invoice.pk)
    assert invoice.status == "in_review"
    task = review_task_claim_next(user=reviewer)
    assert task is not None and task.invoice_id == invoice.pk
    return org, reviewer, task


def test_reviewer_corrects_a_field_and_sees_the_checks_change(page, misread_task):
    ARTIFACTS.mkdir(exist_ok=True)
    org, reviewer, task = misread_task
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, reviewer.username, PASSWORD)
    page.goto(f"{page.base_url}/reviews/tasks/{task.pk}/")

    # The decision form, its record button included, is on the first screen.
    button = page.locator("#decide").bounding_box()
    assert button is not None
    assert button["y"] + button["height"] <= 768 and button["x"] < 1366
    # The page is drawn by the server and shown as an image.
    image = page.locator(".wb-page-img").first
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('.wb-page-img').naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "workbench-1366x768.png"))
    failing = page.locator('#checks [data-rule="parties.buyer_name"]')
    expect(failing).to_have_count(1)

    # Pointing at the field highlights where it was read.
    row = page.locator('.wb-field[data-field="buyer_name"]')
    row.hover()
    expect(page.locator('.wb-box[data-field="buyer_name"]')).to_have_class(
        "wb-box wb-hl"
    )
    # Zoom in and back to fit width.
    page.click('[data-wb-zoom="1"]')
    expect(page.locator("#wb-zoom-level")).to_have_text("125%")
    page.click('[data-wb-zoom="0"]')
    expect(page.locator("#wb-zoom-level")).to_have_text("100%")

    # Correct it inline: the pencil fills the form, the reason is required.
    row.locator(".wb-edit").click()
    expect(page.locator("#wb-correct-field")).to_have_value("buyer_name")
    page.fill("#wb-correct-value", org.name)
    page.fill("#wb-correct-reason", "原件上的购买方名称清晰，识别错一个字")
    with page.expect_navigation():
        page.click("#wb-correct-submit")

    expect(page.locator('#checks [data-rule="parties.buyer_name"]')).to_have_count(0)
    expect(row.locator(".wb-corrected")).to_be_visible()
    expect(row.locator(".wb-value")).to_have_text(org.name)
    expect(page.locator("#timeline")).to_contain_text("原件上的购买方名称清晰")
    assert ReviewTask.objects.get(pk=task.pk).state == "claimed"


def test_a_bad_value_is_refused_in_place(page, misread_task):
    _org, reviewer, task = misread_task
    sign_in(page, reviewer.username, PASSWORD)
    page.goto(f"{page.base_url}/reviews/tasks/{task.pk}/")
    page.select_option("#wb-correct-field", "total_amount")
    page.fill("#wb-correct-value", "12.345")
    page.fill("#wb-correct-reason", "typo")
    page.click("#wb-correct-submit")
    expect(page.locator("#correction-error")).to_be_visible()
    expect(page.locator("#wb-correct-value")).to_have_value("12.345")
