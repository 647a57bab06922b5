"""Issue 16, Low: under the Content-Security-Policy the pages still work in a real
browser, with no policy violation reported (vendored assets, htmx, the language
switch, the API docs page)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.management.commands.seed_demo import DEMO_PASSWORD

from .conftest import sign_in


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


def _watch(tab) -> list[str]:
    """Policy violations, script errors and failed loads; the browser's own request
    for /favicon.ico (the portal has none) is not the page's."""
    problems: list[str] = []

    def on_console(msg) -> None:
        where = msg.location.get("url", "")
        if "Content Security Policy" in msg.text or (
            msg.type == "error" and not where.endswith("/favicon.ico")
        ):
            problems.append(f"{msg.text} {where}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


@pytest.mark.parametrize(
    ("username", "paths"),
    [
        ("submitter", ["/invoices/", "/invoices/upload/", "/accounts/profile/"]),
        ("reviewer", ["/reviews/queue/"]),
        ("admin", ["/accounts/administration/", "/django-admin/"]),
    ],
)
def test_pages_raise_no_policy_violation(page, demo_data, username, paths):
    problems = _watch(page)
    sign_in(page, username, DEMO_PASSWORD)
    for path in paths:
        response = page.goto(f"{page.base_url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert problems == []


def test_language_switch_and_api_docs_work_under_the_policy(page, demo_data):
    problems = _watch(page)
    sign_in(page, "submitter", DEMO_PASSWORD)
    with page.expect_navigation():
        page.select_option("#language-form select", "en")
    expect(page.locator("h1").first).to_have_text("My invoices")
    page.goto(f"{page.base_url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title").first).to_contain_text(
        "Invoice review portal API"
    )
    assert problems == []
