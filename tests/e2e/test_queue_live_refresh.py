"""The review queue and the supervisor board refresh themselves (htmx): a task queued
while the page is open appears without a reload, with its badges; the keyboard
shortcut still claims after a refresh."""

from __future__ import annotations

import re
import time

import pytest
from django.db import transaction
from playwright.sync_api import expect

from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_open
from tests.factories import PASSWORD, make_invoice

from .conftest import sign_in


@pytest.fixture
def live_queue(transactional_db, settings):
    seed_defaults()  # an earlier transactional test may have flushed migration data
    SecondReviewRule.objects.update(enabled=False)
    settings.QUEUE_REFRESH_SECONDS = 1


def _queue_one(organization, submitter) -> ReviewTask:
    invoice = make_invoice(
        organization, submitter, status=InvoiceStatus.IN_REVIEW, document=False
    )
    with transaction.atomic():
        return review_task_open(invoice=invoice)


def test_a_new_task_appears_in_the_open_queue_without_reload(
    page, live_queue, organization, submitter, reviewer
):
    first = _queue_one(organization, submitter)
    sign_in(page, reviewer.username, PASSWORD)
    page.goto(f"{page.base_url}/reviews/queue/")
    expect(page.locator(f'tr[data-task="{first.pk}"]')).to_be_visible()
    expect(page.locator('[data-view-count="open"]')).to_have_text("1")
    page.evaluate("window.__sameDocument = true")

    second = _queue_one(organization, submitter)
    queued_at = time.monotonic()
    expect(page.locator(f'tr[data-task="{second.pk}"]')).to_be_visible(timeout=5_000)
    assert time.monotonic() - queued_at < 5.0
    assert page.evaluate("window.__sameDocument") is True  # no reload
    expect(page.locator('[data-view-count="open"]')).to_have_text("2")
    expect(page.locator('[data-count="queued"]')).to_have_text("2")
    # The countdowns restarted in the new rows (the server sends seconds; the
    # script shows h:mm:ss).
    expect(page.locator(f'tr[data-task="{second.pk}"] .sla-countdown')).to_have_text(
        re.compile(r"^\d+:\d{2}:\d{2}$"), timeout=3_000
    )

    # The shortcut still works after refreshes: N claims the most urgent task.
    page.keyboard.press("n")
    page.wait_for_url(f"**/reviews/tasks/{first.pk}/")


def test_refresh_waits_while_the_reader_uses_the_filters(
    page, live_queue, organization, submitter, reviewer
):
    _queue_one(organization, submitter)
    sign_in(page, reviewer.username, PASSWORD)
    page.goto(f"{page.base_url}/reviews/queue/")
    page.focus("#id_stage")
    second = _queue_one(organization, submitter)
    page.wait_for_timeout(2_500)  # two refresh periods
    expect(page.locator(f'tr[data-task="{second.pk}"]')).to_have_count(0)
    page.focus("h1")
    page.evaluate("document.activeElement.blur()")
    expect(page.locator(f'tr[data-task="{second.pk}"]')).to_be_visible(timeout=5_000)


def test_the_board_refreshes_itself(
    page, live_queue, organization, submitter, supervisor, reviewer
):
    from reviews.queue.services import review_task_claim

    task = _queue_one(organization, submitter)
    sign_in(page, supervisor.username, PASSWORD)
    page.goto(f"{page.base_url}/reviews/board/")
    expect(page.locator('[data-column-count="held"]')).to_have_text("0")
    page.evaluate("window.__sameDocument = true")
    review_task_claim(user=reviewer, task_id=task.pk)
    expect(page.locator(f'#held tr[data-task="{task.pk}"]')).to_be_visible(
        timeout=5_000
    )
    expect(page.locator('[data-column-count="held"]')).to_have_text("1")
    expect(page.locator("#board-counts [data-count='claimed']")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True


def test_queue_and_board_pass_axe_in_english_and_refresh_under_the_policy(
    browser, live_server, live_queue, settings, organization, submitter, supervisor
):
    from .a11y import axe_violations, untranslated_texts

    settings.QUEUE_REFRESH_SECONDS = 1
    _queue_one(organization, submitter)
    supervisor.language = "en"
    supervisor.save(update_fields=["language"])
    context = browser.new_context(
        locale="en-US",
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,  # only so that axe-core can be injected
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        sign_in(page, supervisor.username, PASSWORD)
        for path in ("/reviews/queue/", "/reviews/board/"):
            with page.expect_response(lambda r: "/live/" in r.url):
                page.goto(f"{live_server.url}{path}")  # and one refresh
            page.wait_for_timeout(300)
            for text in untranslated_texts(page):
                problems.append(f"{path}: untranslated {text}")
            for v in axe_violations(page):
                problems.append(f"{path}: axe {v['impact']} {v['id']} {v['targets']}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
