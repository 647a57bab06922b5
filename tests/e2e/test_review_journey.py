"""A reviewer works the queue in the browser: claims the most urgent task, decides it
with the keyboard, goes straight on to the next one, until the queue is empty."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import expect

from accounts.models import User
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from portal.management.commands.seed_demo import DEMO_PASSWORD
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_open

from .conftest import sign_in

_numbers = itertools.count(31_000_000)


def _invoice_in_review(submitter: User, n: int, **changes) -> Invoice:
    number = f"{next(_numbers):020d}"
    org = submitter.organization
    invoice = Invoice.objects.create(
        reference=f"INV-2026-9{n:05d}",
        organization=org,
        submitted_by=submitter,
        status=InvoiceStatus.IN_REVIEW,
        kind="digital_special",
        number=number,
        identity=number,
        issue_date=dt.date(2026, 11, 20),
        seller_name="北京某软件有限公司",
        seller_tax_id="91110108690017781B",
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        amount=Decimal("1000.00"),
        tax_amount=Decimal("60.00"),
        total_amount=Decimal("1060.00"),
        **changes,
    )
    with transaction.atomic():
        review_task_open(invoice=invoice)
    return invoice


@pytest.fixture
def review_queue(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    seed_defaults()  # an earlier transactional test may have flushed migration data
    SecondReviewRule.objects.update(enabled=False)
    submitter = User.objects.get(username="submitter")
    urgent = _invoice_in_review(submitter, 1, expedite_reason="月底结账")
    others = [_invoice_in_review(submitter, n) for n in (2, 3)]
    return urgent, others


def test_reviewer_claims_decides_and_moves_to_the_next_task(page, review_queue):
    urgent, _others = review_queue
    reviewer = User.objects.get(username="reviewer")
    claimable = (
        ReviewTask.objects.queued().claimable_by(reviewer).count()
    )  # ours plus whatever the demo screening sent to review
    assert claimable >= 3

    sign_in(page, "reviewer", DEMO_PASSWORD)
    page.goto(f"{page.base_url}/reviews/queue/")
    expect(page.locator("h1").first).to_have_text("审核队列")
    rows = page.locator("#queue-rows tbody tr")
    expect(rows).to_have_count(claimable)
    # Ordered by time to breach: the urgent one first, its countdown ticking.
    expect(rows.first).to_contain_text(urgent.reference)
    countdown = rows.first.locator(".sla-countdown")
    expect(countdown).to_have_text(re.compile(r"^-?\d+:\d\d:\d\d$"))

    # One click claims the most urgent task and opens it.
    with page.expect_navigation():
        page.click("#claim-next")
    expect(page.locator("h1")).to_have_text(urgent.reference)
    expect(page.locator("#decision-form")).to_be_visible()
    expect(page.locator("#timers [data-timer=lease]")).to_be_visible()

    # Keyboard: A picks approve, Ctrl+Enter records it, the next task opens.
    page.locator("body").click()
    page.keyboard.press("a")
    expect(page.locator("#decision-approve")).to_be_checked()
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    second_ref = page.locator("h1").inner_text()
    assert second_ref != urgent.reference
    urgent.refresh_from_db()
    assert urgent.status == InvoiceStatus.APPROVED
    assert urgent.decision_source == "reviewer"

    # Reject the second with a listed reason and a comment for the submitter.
    page.locator("body").click()
    page.keyboard.press("r")
    expect(page.locator("#reason-row")).to_be_visible()
    page.select_option("#id_reason_code", "wrong_buyer")
    page.fill("#id_comment", "购买方信息有误，请让销售方重新开具。")
    with page.expect_navigation():
        page.click("#decide")
    rejected = Invoice.objects.get(reference=second_ref)
    assert rejected.status == InvoiceStatus.REJECTED
    assert "购买方信息有误" in rejected.decision_reason

    # Approve the rest the same way until nothing is left to claim.
    for _ in range(claimable - 2):
        expect(page.locator("#decision-form")).to_be_visible()
        page.locator("body").click()
        page.keyboard.press("a")
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
    assert page.url.endswith("/reviews/queue/")
    assert ReviewTask.objects.queued().claimable_by(reviewer).count() == 0
