"""The submitter's actions, as services and as page forms."""

from __future__ import annotations

import random

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ApplicationError, ConflictError, NotFoundError
from invoiceportal.invoices.actions import (
    CorrectedFile,
    invoice_expedite_approve,
    invoice_expedite_request,
    invoice_feedback_give,
    invoice_respond,
    invoice_withdraw,
)
from invoiceportal.invoices.extraction.types import InvoiceKind
from invoiceportal.invoices.models import (
    ExpediteAutoApproval,
    ExpediteState,
    Feedback,
    Invoice,
)
from invoiceportal.invoices.status import InvoiceStatus, Priority
from reviews.models import ReviewTask, ReviewTaskPause, TaskState
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml
from tests.factories import UserFactory

from .helpers import (
    ask_for_info,
    auto_reject,
    make_invoice,
    reviewer_decides,
    to_review,
)

pytestmark = pytest.mark.django_db


def detail(invoice):
    return reverse("invoices:detail", args=[invoice.id])


# ------------------------------------------------------------------ withdraw


def test_withdrawing_an_invoice_in_review_closes_its_task(client, submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)

    response = client.post(
        reverse("invoices:withdraw", args=[invoice.id]), {"reason": "重复报销"}
    )

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.WITHDRAWN
    assert not ReviewTask.objects.open().filter(invoice=invoice).exists()
    assert invoice.timeline.filter(code="withdrawn", note="重复报销").exists()
    assert AuditEntry.objects.filter(action="invoice.withdrawn").exists()
    page = client.get(detail(invoice)).content.decode()
    assert "已撤回" in page


def test_a_decided_invoice_cannot_be_withdrawn(client, submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "approve")
    with pytest.raises(ConflictError):
        invoice_withdraw(user=submitter, invoice_id=invoice.id)
    client.force_login(submitter)
    response = client.post(reverse("invoices:withdraw", args=[invoice.id]), follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED


# ------------------------------------------------------------------- respond


def test_answering_without_a_file_resumes_the_review_and_its_clock(
    client, submitter, reviewer
):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    task = ReviewTask.objects.open().get(invoice=invoice)
    assert task.state == TaskState.WAITING and task.due_at is None
    client.force_login(submitter)
    page = client.get(detail(invoice)).content.decode()
    assert "请提供合同编号。" in page
    assert 'id="pause-reason"' in page

    response = client.post(
        reverse("invoices:respond", args=[invoice.id]),
        {"message": "合同编号 HT-2026-7"},
    )

    assert response.status_code == 302
    invoice.refresh_from_db()
    task.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert task.state == TaskState.QUEUED and task.due_at is not None
    assert not ReviewTaskPause.objects.filter(
        task=task, resumed_at__isnull=True
    ).exists()
    assert invoice.timeline.filter(
        code="info_provided", note="合同编号 HT-2026-7"
    ).exists()
    # the reviewer who asked hears about the answer
    assert reviewer.notifications.filter(kind="info_provided").exists()


def test_answering_with_a_corrected_file_screens_the_invoice_again(
    submitter, reviewer, django_capture_on_commit_callbacks
):
    org = submitter.organization
    truth = random_invoice(random.Random(5), kind=InvoiceKind.DIGITAL_ORDINARY)
    truth.buyer_tax_id, truth.buyer_name = org.tax_id, org.name
    invoice = ask_for_info(
        make_invoice(org, submitter, number=truth.number, identity=truth.identity),
        reviewer,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice_respond(
            user=submitter,
            invoice_id=invoice.id,
            message="已附更正后的发票文件",
            file=CorrectedFile(make_xml(truth), "fixed.xml", "application/xml"),
        )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.SCREENING
    assert invoice.documents.count() == 2
    assert invoice.total_amount == truth.total_amount
    assert len(callbacks) == 1  # screening is queued after the commit


def test_a_corrected_file_of_another_invoice_is_refused(submitter, reviewer):
    org = submitter.organization
    truth = random_invoice(random.Random(6), kind=InvoiceKind.DIGITAL_ORDINARY)
    invoice = ask_for_info(make_invoice(org, submitter), reviewer)
    with pytest.raises(ApplicationError) as caught:
        invoice_respond(
            user=submitter,
            invoice_id=invoice.id,
            message="附件",
            file=CorrectedFile(make_xml(truth), "other.xml"),
        )
    assert caught.value.code == "different_invoice"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.NEEDS_INFO


def test_answering_when_nobody_asked_is_a_conflict(submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    with pytest.raises(ConflictError):
        invoice_respond(user=submitter, invoice_id=invoice.id, message="hello")
    with pytest.raises(ApplicationError):
        invoice_respond(user=submitter, invoice_id=invoice.id, message="  ")


# ------------------------------------------------------------------ expedite


def test_urgent_handling_waits_for_a_supervisor_then_raises_the_priority(
    client, submitter, supervisor
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    task = ReviewTask.objects.open().get(invoice=invoice)
    normal_due = task.due_at
    client.force_login(submitter)

    client.post(
        reverse("invoices:expedite", args=[invoice.id]),
        {"reason": "月底结账，需要本周入账"},
    )

    invoice.refresh_from_db()
    request = invoice.expedite_requests.get()
    assert request.state == ExpediteState.PENDING
    assert invoice.priority == Priority.NORMAL and invoice.expedite_reason == ""
    assert supervisor.notifications.filter(kind="expedite_requested").exists()
    with pytest.raises(ConflictError):
        invoice_expedite_request(
            user=submitter, invoice_id=invoice.id, reason="再次申请加急处理"
        )

    client.force_login(supervisor)
    assert (
        "月底结账" in client.get(reverse("invoices:expedite_requests")).content.decode()
    )
    client.post(
        reverse("invoices:expedite_decide", args=[request.pk]), {"decision": "approve"}
    )

    invoice.refresh_from_db()
    task.refresh_from_db()
    request.refresh_from_db()
    assert request.state == ExpediteState.APPROVED and request.decided_by == supervisor
    assert invoice.priority == Priority.URGENT
    assert task.priority == Priority.URGENT and task.due_at < normal_due
    assert submitter.notifications.filter(kind="expedite_decided").exists()


def test_an_admin_rule_approves_urgent_handling_at_once(submitter):
    ExpediteAutoApproval.objects.create(organization=submitter.organization)
    invoice = make_invoice(submitter.organization, submitter)

    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="海关清关急需"
    )

    invoice.refresh_from_db()
    assert request.state == ExpediteState.APPROVED and request.automatic
    assert invoice.priority == Priority.URGENT
    # screening routes it later: the new task starts urgent
    task = to_review(invoice).review_tasks.get()
    assert task.priority == Priority.URGENT


def test_only_supervisors_answer_urgent_requests(submitter, reviewer):
    invoice = make_invoice(submitter.organization, submitter)
    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="月底结账急需"
    )
    with pytest.raises(ApplicationError):
        invoice_expedite_approve(actor=reviewer, request_id=request.pk)
    with pytest.raises(ApplicationError):
        invoice_expedite_approve(actor=submitter, request_id=request.pk)


# ------------------------------------------------------------------ resubmit


def _xml_for(org, seed):
    truth = random_invoice(random.Random(seed), kind=InvoiceKind.DIGITAL_ORDINARY)
    truth.buyer_tax_id, truth.buyer_name = org.tax_id, org.name
    return truth, make_xml(truth)


def test_a_rejected_invoice_is_corrected_and_resubmitted_linked_to_the_original(
    client, submitter
):
    org = submitter.organization
    truth, data = _xml_for(org, 11)
    client.force_login(submitter)
    client.post(
        reverse("invoices:upload_file"),
        {"file": SimpleUploadedFile("a.xml", data, content_type="application/xml")},
    )
    original = auto_reject(Invoice.objects.get())
    truth.remarks = "更正"
    _, fixed = truth, make_xml(truth)

    response = client.post(
        reverse("invoices:resubmit", args=[original.id]),
        {
            "file": SimpleUploadedFile(
                "fixed.xml", fixed, content_type="application/xml"
            )
        },
    )

    new = Invoice.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302 and response.url == detail(new)
    assert new.resubmission_of == original
    assert original.timeline.filter(code="resubmitted").exists()
    page = client.get(detail(original)).content.decode()
    assert new.reference in page


def test_resubmitting_the_rejected_file_unchanged_is_refused(client, submitter):
    org = submitter.organization
    _, data = _xml_for(org, 12)
    client.force_login(submitter)
    client.post(
        reverse("invoices:upload_file"),
        {"file": SimpleUploadedFile("a.xml", data, content_type="application/xml")},
    )
    original = auto_reject(Invoice.objects.get())
    response = client.post(
        reverse("invoices:resubmit", args=[original.id]),
        {"file": SimpleUploadedFile("a.xml", data, content_type="application/xml")},
        follow=True,
    )
    assert Invoice.objects.count() == 1
    assert "alert-danger" in response.content.decode()


def test_only_rejected_invoices_are_resubmitted(client, submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    _, data = _xml_for(submitter.organization, 13)
    client.force_login(submitter)
    client.post(
        reverse("invoices:resubmit", args=[invoice.id]),
        {"file": SimpleUploadedFile("a.xml", data, content_type="application/xml")},
    )
    assert Invoice.objects.count() == 1


# ------------------------------------------------------------------ feedback


def test_feedback_after_a_decision_is_shown_to_supervisors(
    client, submitter, reviewer, supervisor
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    with pytest.raises(ConflictError):
        invoice_feedback_give(user=submitter, invoice_id=invoice.id, rating=5)
    reviewer_decides(invoice, reviewer, "approve")
    client.force_login(submitter)
    assert 'id="feedback-card"' in client.get(detail(invoice)).content.decode()

    client.post(
        reverse("invoices:feedback", args=[invoice.id]),
        {"rating": "4", "comment": "很快"},
    )
    client.post(reverse("invoices:feedback", args=[invoice.id]), {"rating": "5"})

    feedback = Feedback.objects.get()
    assert (feedback.rating, feedback.comment) == (5, "")
    client.force_login(supervisor)
    page = client.get(reverse("invoices:feedback_list")).content.decode()
    assert invoice.reference in page and "5/5" in page
    client.force_login(submitter)
    assert client.get(reverse("invoices:feedback_list")).status_code == 403


def test_a_rating_outside_one_to_five_is_refused(submitter, reviewer):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "approve")
    for rating in (0, 6, "x"):
        with pytest.raises(ApplicationError):
            invoice_feedback_give(user=submitter, invoice_id=invoice.id, rating=rating)


# ----------------------------------------------------------------- scoping


def test_services_answer_not_found_for_another_organizations_invoice(
    submitter, other_organization
):
    invoice = make_invoice(submitter.organization, submitter)
    stranger = UserFactory(organization=other_organization)
    for call in (
        lambda: invoice_withdraw(user=stranger, invoice_id=invoice.id),
        lambda: invoice_respond(user=stranger, invoice_id=invoice.id, message="x"),
        lambda: invoice_expedite_request(
            user=stranger, invoice_id=invoice.id, reason="urgent please"
        ),
        lambda: invoice_feedback_give(user=stranger, invoice_id=invoice.id, rating=3),
        lambda: invoice_withdraw(user=stranger, invoice_id="not-a-uuid"),
    ):
        with pytest.raises(NotFoundError):
            call()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.RECEIVED
    assert not mail.outbox
