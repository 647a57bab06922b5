"""Issue 10, done means: an administrator who is not a superuser runs the portal from
its own pages. Signed in in a real browser, the administrator walks every page the
navigation reaches (none answers 403 or 500), creates an organization and a user,
the user chooses a password through the emailed link and signs in, the administrator
changes the user's role and deactivates them (their API token then answers 401),
restores a rule version, and finds all of it in the audit log, whose chain verifies.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from playwright.sync_api import expect

from accounts.models import Organization, User
from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from portal.management.commands.seed_demo import DEMO_PASSWORD
from reviews.models import Rule
from reviews.queue.services import review_task_open
from reviews.rules import rule_update
from tests.factories import make_uscc
from tests.invoices.submitter.helpers import make_invoice, to_review

from .conftest import sign_in

# Not pages to walk: signing out, the API (its own test), the Django admin (for
# superusers only; the administrator's navigation does not link to it), files.
SKIP = ("/accounts/logout/", "/api/", "/django-admin/", "/static/", "/media/")
NEW_PASSWORD = "Kiwi-Lantern-7741-south"
RULE = "amount.threshold"


SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YEAR_QUEUED = dt.datetime(2026, 12, 31, 10, tzinfo=SHANGHAI)
NEW_YEAR_DUE_BEFORE = dt.datetime(2027, 1, 4, 10, tzinfo=SHANGHAI)
NEW_YEAR_DUE_AFTER = dt.datetime(2027, 1, 5, 10, tzinfo=SHANGHAI)
CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n"


@pytest.fixture
def world(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    submitter = User.objects.get(username="submitter")
    to_review(make_invoice(submitter.organization, submitter))
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and not admin.is_superuser
    # A rule changed once, so its history has a version to restore.
    rule_update(
        actor=admin,
        code=RULE,
        params={"threshold": "20000"},
        change_note="Lower threshold for the year-end close.",
    )
    return admin


def _shape(path: str) -> str:
    """One visit per kind of page: /x/12/ and /x/13/ are the same page."""
    return re.sub(r"\d+", "N", path)


def internal_links(page) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]", "els => els.map(e => e.getAttribute('href'))"
    )
    found = []
    for href in hrefs:
        href = urldefrag(href or "")[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if href.startswith(SKIP) or parts.path.endswith(("/csv/", ".csv", ".pdf")):
            continue  # sign-out, and downloads (a browser saves them, no page opens)
        found.append(href)
    return found


def walk_navigation(page, *, depth: int = 2) -> dict[str, int]:
    """Every page reachable from the admin home and the navigation bar, ``depth``
    clicks deep; returns each page's status."""
    seen: dict[str, int] = {}
    shapes: set[str] = set()
    todo = deque([("/", 0)])
    while todo:
        path, level = todo.popleft()
        shape = _shape(urlsplit(path).path) + ("?" if urlsplit(path).query else "")
        if shape in shapes:
            continue
        shapes.add(shape)
        response = page.goto(page.base_url + path)
        status = response.status if response is not None else 0
        seen[path] = status
        assert status not in (403, 500), f"{path} answered {status}"
        if level < depth:
            for href in internal_links(page):
                todo.append((href, level + 1))
    return seen


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def test_administrator_runs_the_portal_from_its_pages(page, browser, world):
    admin = world
    # A task queued Thursday 2026-12-31 10:00 (16 business hours): with no 2027
    # holidays loaded, 1 January counts as a working day and it is due 4 January.
    submitter = User.objects.get(username="submitter")
    with time_machine.travel(NEW_YEAR_QUEUED, tick=False), transaction.atomic():
        new_year_task = review_task_open(
            invoice=make_invoice(submitter.organization, submitter)
        )
    assert new_year_task.due_at == NEW_YEAR_DUE_BEFORE, new_year_task.due_at
    sign_in(page, admin.username, DEMO_PASSWORD)
    assert page.url.endswith("/accounts/administration/")
    expect(page.locator("h1").first).to_have_text("系统管理")

    # 1. Every page the navigation reaches opens.
    seen = walk_navigation(page)
    for path in (
        "/accounts/administration/",
        "/audit/",
        "/reviews/rules/",
        "/reviews/board/",
        "/reviews/queue/",
        "/accounts/administration/users/",
        "/accounts/administration/organizations/",
        "/reviews/admin/sla/",
        "/reviews/admin/calendar/",
        "/reviews/admin/reasons/",
    ):
        assert path in seen, f"{path} is not reachable from the navigation"
    assert all(status == 200 for status in seen.values()), seen

    # 2. A new organization.
    tax_id = make_uscc(4242)
    page.goto(f"{page.base_url}/accounts/administration/organizations/new/")
    page.fill("#id_name", "江苏新航物流有限公司")
    page.fill("#id_tax_id", tax_id)
    submit(page, "#organization-form")
    expect(page.locator("main")).to_contain_text("江苏新航物流有限公司")
    org = Organization.objects.get(tax_id=tax_id)

    # 3. A new user of it: no password typed, a one-time link by email.
    mail.outbox.clear()
    page.goto(f"{page.base_url}/accounts/administration/users/new/")
    page.fill("#id_username", "xu.ming")
    page.fill("#id_email", "xu.ming@example.com")
    page.select_option("#id_organization", str(org.pk))
    page.select_option("#id_role", Role.SUBMITTER.value)
    assert page.locator("input[type=password]").count() == 0
    submit(page, "#user-form")
    user = User.objects.get(username="xu.ming")
    assert user.organization_id == org.pk and not user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["xu.ming@example.com"]]
    link = re.search(r"/accounts/password/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body

    # 4. The user chooses a password through the link and signs in.
    visitor = browser.new_context(locale="zh-CN")
    visitor.set_default_timeout(10_000)
    them = visitor.new_page()
    them.base_url = page.base_url
    them.goto(page.base_url + link.group(0))
    them.fill("input[name=new_password1]", NEW_PASSWORD)
    them.fill("input[name=new_password2]", NEW_PASSWORD)
    with them.expect_navigation():
        them.click("main form button[type=submit]")
    assert them.url.endswith("/accounts/password/reset/complete/")
    sign_in(them, "xu.ming", NEW_PASSWORD)
    assert them.url.endswith("/invoices/"), them.url

    # An API token of the user's, working.
    api = visitor.request
    issued = api.post(
        f"{page.base_url}/api/v1/auth/token/",
        data={"username": "xu.ming", "password": NEW_PASSWORD},
    )
    assert issued.status == 200, issued.text()
    token = {"Authorization": f"Token {issued.json()['token']}"}
    assert api.get(f"{page.base_url}/api/v1/invoices/", headers=token).status == 200

    # 5. The administrator changes the user's role.
    page.goto(f"{page.base_url}/accounts/administration/users/{user.pk}/")
    page.select_option("#id_role", Role.REVIEWER.value)
    submit(page, "#user-form")
    user.refresh_from_db()
    assert user.role == Role.REVIEWER

    # 6. ... and deactivates them: the token stops working at once.
    with page.expect_navigation():
        page.click(
            f"form[action='/accounts/administration/users/{user.pk}/deactivate/'] "
            "button[type=submit]"
        )
    user.refresh_from_db()
    assert not user.is_active
    assert api.get(f"{page.base_url}/api/v1/invoices/", headers=token).status == 401
    visitor.close()

    # 7. A rule version restored from its history, with a note (refused without).
    page.goto(f"{page.base_url}/reviews/rules/{RULE}/history/")
    row = page.locator("#history-table tr[data-version='1']")
    row.locator("summary").click()
    row.locator("textarea[name=change_note]").fill("Back to the catalog threshold.")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已将第 1 版恢复为第 3 版")
    rule = Rule.objects.get(code=RULE)
    assert rule.version == 3 and rule.change_note == "Back to the catalog threshold."

    # 7b. The 2027 calendar imported from CSV (preview, then import): the banner on
    # the admin home goes away, and a deadline that crosses New Year moves.
    page.goto(f"{page.base_url}/accounts/administration/")
    expect(page.locator("#calendar-banner")).to_have_attribute(
        "data-missing-year", "2027"
    )
    page.goto(f"{page.base_url}/reviews/admin/calendar/import-csv/")
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "2027.csv",
                "mimeType": "text/csv",
                "buffer": CSV_2027.encode(),
            }
        ],
    )
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator("main")).to_contain_text("2027-01-01")
    with page.expect_navigation():
        page.click("#confirm-form button[type=submit]")
    new_year_task.refresh_from_db()
    assert new_year_task.due_at == NEW_YEAR_DUE_AFTER, new_year_task.due_at
    page.goto(f"{page.base_url}/accounts/administration/")
    expect(page.locator("#calendar-banner")).to_have_count(0)

    # 8. All of it in the audit log, by filter; the entry opens; the chain verifies.
    def logged(**query: str) -> list[str]:
        search = "&".join(f"{k}={v}" for k, v in query.items())
        response = page.goto(f"{page.base_url}/audit/?{search}")
        assert response.status == 200
        return page.eval_on_selector_all(
            "#audit-table tr[data-action]", "els => els.map(e => e.dataset.action)"
        )

    assert "organization.create" in logged(
        object_type="accounts.organization", object_id=str(org.pk)
    )
    user_actions = logged(object_type="accounts.user", object_id=str(user.pk))
    # Newest first: created, chose a password, signed in, took a token; the role
    # changed, then deactivated.
    assert user_actions == [
        "user.update",
        "user.update",
        "auth.token_issue",
        "auth.sign_in",
        "user.password_reset",
        "user.create",
    ], user_actions
    changes = [
        e.data
        for e in AuditEntry.objects.filter(
            action="user.update", object_id=str(user.pk)
        ).order_by("seq")
    ]
    assert changes[0]["before"]["role"] == Role.SUBMITTER.value, changes
    assert changes[0]["after"]["role"] == Role.REVIEWER.value, changes
    assert changes[1]["after"] == {"is_active": False}, changes
    assert changes[1]["tokens_revoked"] == 1, changes
    assert logged(actor=admin.username, action="rule.restored") == ["rule.restored"]
    restore = AuditEntry.objects.get(action="rule.restored")
    with page.expect_navigation():
        page.click(f"#audit-table tr[data-seq='{restore.seq}'] a")
    expect(page.locator("#entry-data")).to_contain_text(
        "Back to the catalog threshold."
    )
    expect(page.locator("#entry-hash")).to_have_text(restore.hash)

    with page.expect_navigation():
        page.click("#verify-form button[type=submit]")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-ok", "true")
    expect(verdict).to_contain_text("审计日志完好")
