"""One scoping rule: another organization's invoice is "not found" everywhere, and
never listed, exported or notified."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoiceportal.invoices.notify import notify_about_invoice
from tests.conftest import api_as
from tests.factories import UserFactory

from .helpers import auto_approve, make_invoice, to_review

pytestmark = pytest.mark.django_db

PAGE_GETS = ["detail", "status", "document", "document_preview", "receipt"]
PAGE_POSTS = ["withdraw", "respond", "expedite", "resubmit", "feedback"]
API_GETS = ["", "document/", "receipt/"]
API_POSTS = ["withdraw/", "respond/", "expedite/", "feedback/"]


@pytest.fixture
def theirs(other_organization):
    owner = UserFactory(organization=other_organization)
    invoice = to_review(make_invoice(other_organization, owner, file_format="pdf"))
    decided = auto_approve(make_invoice(other_organization, owner))
    return invoice, decided


@pytest.mark.parametrize("name", PAGE_GETS)
def test_pages_answer_404(client, submitter, theirs, name):
    client.force_login(submitter)
    for invoice in theirs:
        assert (
            client.get(reverse(f"invoices:{name}", args=[invoice.id])).status_code
            == 404
        )


@pytest.mark.parametrize("name", PAGE_POSTS)
def test_page_actions_answer_404(client, submitter, theirs, name):
    client.force_login(submitter)
    data = {"message": "x", "reason": "urgent please", "rating": "3"}
    for invoice in theirs:
        response = client.post(reverse(f"invoices:{name}", args=[invoice.id]), data)
        assert response.status_code == 404
    theirs[0].refresh_from_db()
    assert theirs[0].status == "in_review"


@pytest.mark.parametrize("suffix", API_GETS)
def test_api_reads_answer_404(submitter, theirs, suffix):
    client = api_as(submitter)
    for invoice in theirs:
        response = client.get(f"/api/v1/invoices/{invoice.id}/{suffix}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("suffix", API_POSTS)
def test_api_actions_answer_404(submitter, theirs, suffix):
    client = api_as(submitter)
    data = {"message": "x", "reason": "urgent please", "rating": 3}
    for invoice in theirs:
        response = client.post(
            f"/api/v1/invoices/{invoice.id}/{suffix}", data, format="json"
        )
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"


def test_lists_exports_and_api_lists_leave_them_out(client, submitter, theirs):
    mine = make_invoice(submitter.organization, submitter)
    client.force_login(submitter)
    page = client.get(reverse("invoices:list")).content.decode()
    export = b"".join(client.get(reverse("invoices:export")).streaming_content).decode(
        "utf-8-sig"
    )
    api = api_as(submitter).get("/api/v1/invoices/").json()
    for invoice in theirs:
        assert invoice.reference not in page
        assert invoice.reference not in export
    assert mine.reference in page and mine.reference in export
    assert [r["id"] for r in api["results"]] == [str(mine.id)]


def test_notifications_about_invoices_one_cannot_see_are_not_shown(
    client, submitter, theirs
):
    from django.db import transaction

    with transaction.atomic():
        notify_about_invoice(
            users=[submitter], invoice=theirs[0], kind="decided", context={}
        )
    client.force_login(submitter)
    page = client.get(reverse("notifications:centre")).content.decode()
    assert theirs[0].reference not in page
