"""Every submitter page, on a phone (390x844) and a desk (1366x768), in Chinese and
English: no sideways overflow, no interface text left untranslated on English pages,
and no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.invoices.submitter.helpers import (
    ask_for_info,
    auto_reject,
    make_invoice,
    reviewer_decides,
    to_review,
)

from .a11y import (
    axe_violations,
    horizontal_overflow,
    overflow_culprits,
    untranslated_texts,
)
from .conftest import CHROMIUM_FLAGS, sign_in  # noqa: F401

VIEWPORTS = {"phone": (390, 844), "desk": (1366, 768)}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(transactional_db, submitter, reviewer):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("reviews.migrations.0002_review_queue")
    migration.seed_defaults(apps, None)
    org = submitter.organization
    invoices = [make_invoice(org, submitter) for _ in range(19)]
    in_review = to_review(invoices[0])
    needs_info = ask_for_info(invoices[1], reviewer)
    rejected = auto_reject(invoices[2])
    turned_down = to_review(invoices[8])
    reviewer_decides(
        turned_down, reviewer, "reject", reason_code="wrong_buyer", comment="抬头有误"
    )
    for invoice in invoices[3:8]:
        to_review(invoice)
    return {
        "upload": "/invoices/upload/",
        "list": "/invoices/",
        "invoice": f"/invoices/{in_review.id}/",
        "respond": f"/invoices/{needs_info.id}/",
        "decided": f"/invoices/{rejected.id}/",
        "rejected by a reviewer": f"/invoices/{turned_down.id}/",
        "manual": "/invoices/manual/",
        "notifications": "/notifications/",
        "help": "/invoices/help/",
        "profile": "/accounts/profile/",
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_submitter_page_fits_speaks_and_passes_axe(
    browser, live_server, world, submitter, viewport, language
):
    submitter.language = language
    submitter.save(update_fields=["language"])
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(
        locale="en-US" if language == "en" else "zh-CN",
        viewport={"width": width, "height": height},
        bypass_csp=True,  # only so that axe-core can be injected
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    problems: list[str] = []
    try:
        sign_in(page, submitter.username, PASSWORD)
        for name, path in world.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            wider = horizontal_overflow(page)
            if wider:
                problems.append(
                    f"{name}: {wider}px wider than the {width}px viewport: "
                    f"{overflow_culprits(page)}"
                )
            if language == "en":
                for text in untranslated_texts(page):
                    problems.append(f"{name}: untranslated {text}")
            for v in axe_violations(page):
                problems.append(f"{name}: axe {v['impact']} {v['id']} {v['targets']}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def staff_world(transactional_db, submitter, reviewer, admin_user):
    import importlib

    from django.apps import apps

    from reviews.models import ReviewTask
    from reviews.queue.services import review_task_claim

    migration = importlib.import_module("reviews.migrations.0002_review_queue")
    migration.seed_defaults(apps, None)
    invoice = to_review(make_invoice(submitter.organization, submitter))
    task = ReviewTask.objects.open().get(invoice=invoice)
    review_task_claim(user=reviewer, task_id=task.pk)
    return {
        reviewer: {"task": f"/reviews/tasks/{task.pk}/"},
        admin_user: {
            "rules": "/reviews/rules/",
            "rule edit": "/reviews/rules/arithmetic.line_sums/",
            "rule history": "/reviews/rules/arithmetic.line_sums/history/",
            "registry": "/reviews/rules/registry/",
            "sellers": "/reviews/rules/sellers/",
        },
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_reviewer_task_and_rules_pages_fit_a_phone(
    browser, live_server, staff_world, language
):
    problems: list[str] = []
    for user, pages in staff_world.items():
        user.language = language
        user.save(update_fields=["language"])
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.base_url = live_server.url
        try:
            sign_in(page, user.username, PASSWORD)
            for name, path in pages.items():
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, (name, response.status)
                page.wait_for_load_state("networkidle")
                wider = horizontal_overflow(page)
                if wider:
                    problems.append(
                        f"{name}: {wider}px too wide: {overflow_culprits(page)}"
                    )
        finally:
            context.close()
    assert not problems, "\n".join(problems)
