"""The administrator's navigation (issue 10): every page reachable from the admin
home opens for the administrator role (not a superuser) without a 403 or a 500;
the review queue and the supervisor board are there read-only."""

from __future__ import annotations

import io
import re
from collections import deque
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from reviews.models import ReviewTask, TaskState
from tests.invoices.submitter.helpers import make_invoice, to_review

pytestmark = pytest.mark.django_db

# Links that are not pages to open: signing out, the API, the Django admin (for
# superusers only, not in the administrator's navigation), downloads.
SKIP = ("/accounts/logout/", "/api/", "/django-admin/", "/static/", "/media/")


@pytest.fixture
def demo(db: Any) -> User:
    call_command("seed_demo", stdout=io.StringIO())
    # An invoice in review: a task on the queue and the board.
    submitter = User.objects.get(username="submitter")
    to_review(make_invoice(submitter.organization, submitter))
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and not admin.is_superuser
    return admin


def links(html: str) -> list[str]:
    found = []
    for href in re.findall(r'<a\b[^>]*\bhref="([^"]+)"', html):
        href = urldefrag(href.replace("&amp;", "&"))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue
        if href.startswith(SKIP):
            continue
        found.append(href)
    return found


def test_every_page_reachable_from_the_admin_home_opens(
    client: Any, demo: User
) -> None:
    client.force_login(demo)
    start = reverse("home")
    seen: dict[str, int] = {}
    todo = deque([(start, 0)])
    while todo:
        url, depth = todo.popleft()
        if url in seen:
            continue
        response = client.get(url, follow=True)
        seen[url] = response.status_code
        assert response.status_code not in (403, 500), (url, response.status_code)
        if depth < 2 and "text/html" in response.get("Content-Type", ""):
            for href in links(response.content.decode()):
                # A page of an entry or object is opened once per kind of link.
                todo.append((href, depth + 1))
    opened = set(seen)
    for name in (
        "accounts:admin_home",
        "audit:log",
        "reviews:rules",
        "reviews:board",
        "reviews:queue",
        "reviews:admin_sla",
        "reviews:admin_calendar",
        "reviews:admin_reasons",
        "accounts:manage_users",
        "accounts:manage_organizations",
    ):
        assert reverse(name) in opened, name
    assert all(status == 200 for status in seen.values()), seen


def test_the_admin_reads_the_queue_and_board_without_acting(
    client: Any, demo: User
) -> None:
    task = ReviewTask.objects.filter(
        state__in=[TaskState.QUEUED, TaskState.CLAIMED]
    ).first()
    assert task is not None, "the demo data has open tasks"
    client.force_login(demo)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert f'data-task="{task.pk}"' in queue
    assert 'id="claim-next"' not in queue
    assert reverse("reviews:task", args=[task.pk]) not in queue
    board = client.get(reverse("reviews:board")).content.decode()
    assert 'id="bulk-form"' not in board and 'id="board-read-only"' in board
    assert reverse("reviews:task", args=[task.pk]) not in board
    # Acting stays refused.
    assert client.post(reverse("reviews:claim_next")).status_code == 403
    assert client.get(reverse("reviews:task", args=[task.pk])).status_code == 403


def test_reviewers_and_supervisors_keep_their_controls(client: Any, demo: User) -> None:
    task = ReviewTask.objects.filter(
        state__in=[TaskState.QUEUED, TaskState.CLAIMED]
    ).first()
    client.force_login(User.objects.get(username="supervisor"))
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert 'id="claim-next"' in queue
    assert reverse("reviews:task", args=[task.pk]) in queue
    board = client.get(reverse("reviews:board")).content.decode()
    assert 'id="bulk-form"' in board
