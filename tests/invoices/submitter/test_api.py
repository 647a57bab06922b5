"""The submitter's API: list and detail fields, withdraw/, respond/, expedite/."""

from __future__ import annotations

import pytest

from invoiceportal.invoices.models import ExpediteState
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import ReviewTask, TaskState
from tests.conftest import api_as

from .helpers import ask_for_info, make_invoice, reviewer_decides, to_review

pytestmark = pytest.mark.django_db


def url(invoice, action=""):
    return f"/api/v1/invoices/{invoice.id}/" + (f"{action}/" if action else "")


def test_detail_carries_status_timeline_checks_eta_and_sla(submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    body = api_as(submitter).get(url(invoice)).json()
    assert body["status"] == "in_review"
    assert body["sla_due_at"] is not None
    assert "eta" in body
    assert {"at", "status", "message"} == set(body["timeline"][0])
    assert [c["rule"] for c in body["checks"]] == [
        "arithmetic.line_sums",
        "identity.format",
    ]
    assert set(body["checks"][0]) == {"rule", "outcome", "severity", "message"}
    assert body["checks"][0]["severity"] == "review"


def test_list_carries_status(submitter):
    to_review(make_invoice(submitter.organization, submitter))
    body = api_as(submitter).get("/api/v1/invoices/", {"status": "in_review"}).json()
    assert body["count"] == 1 and body["results"][0]["status"] == "in_review"


def test_withdraw(submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    client = api_as(submitter)
    response = client.post(url(invoice, "withdraw"), {"reason": "重复"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    again = client.post(url(invoice, "withdraw"), {}, format="json")
    assert again.status_code == 409
    assert set(again.json()) == {"code", "message", "details"}
    assert again.json()["code"] == "invalid_state"


def test_respond(submitter, reviewer):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    client = api_as(submitter)
    missing = client.post(url(invoice, "respond"), {}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    response = client.post(
        url(invoice, "respond"), {"message": "合同编号 HT-1"}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "in_review"
    assert ReviewTask.objects.open().get(invoice=invoice).state == TaskState.QUEUED
    messages = [e["message"] for e in response.json()["timeline"]]
    assert messages[-1] == "您已答复审核员的问题。"
    assert invoice.timeline.filter(code="info_provided", note="合同编号 HT-1").exists()


def test_expedite(submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    client = api_as(submitter)
    response = client.post(
        url(invoice, "expedite"), {"reason": "月底结账急需"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["expedite"]["state"] == ExpediteState.PENDING
    again = client.post(
        url(invoice, "expedite"), {"reason": "再次申请加急"}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_requested"


def test_reviewers_cannot_act_for_the_submitter(submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    response = api_as(reviewer).post(url(invoice, "withdraw"), {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_feedback_and_receipt(submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "approve")
    client = api_as(submitter)
    response = client.post(url(invoice, "feedback"), {"rating": 4}, format="json")
    assert response.status_code == 200 and response.json()["rating"] == 4
    receipt = client.get(url(invoice, "receipt"))
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert invoice.status == InvoiceStatus.APPROVED
