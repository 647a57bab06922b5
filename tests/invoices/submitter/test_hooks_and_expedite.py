"""The invoices layer's hooks as the reviews layer uses them, and urgent-handling
requests moved only through their transition table."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ConflictError
from invoiceportal.invoices import hooks
from invoiceportal.invoices.actions import (
    CorrectedFile,
    invoice_expedite_approve,
    invoice_expedite_decline,
    invoice_expedite_request,
    invoice_respond,
    invoice_withdraw,
)
from invoiceportal.invoices.expedite import (
    EXPEDITE_TRANSITIONS,
    ExpediteStateError,
    expedite_transition,
)
from invoiceportal.invoices.models import ExpediteRequest, ExpediteState, Invoice
from invoiceportal.invoices.status import InvoiceStatus, Priority
from invoiceportal.invoices.tasks import process_invoice
from portal.submitter.selectors import invoice_page
from reviews.models import RegistryRecord, ReviewTask, TaskDecision, TaskState
from reviews.rules import rule_update
from tests.docgen.registry import clean_digital_invoice, registry_row
from tests.docgen.xml_doc import make_xml

from .helpers import ask_for_info, make_invoice, to_review

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


# -------------------------------------------------------------- issue 11 defect


def test_a_corrected_file_that_screening_decides_leaves_no_open_task(
    submitter, reviewer, admin_user, django_capture_on_commit_callbacks
):
    """Issue 11: the waiting task stayed ``waiting`` until a sweep. Now the
    decision closes it in the same transaction."""
    org = submitter.organization
    rule_update(
        actor=admin_user,
        code="audit.sample",
        params={"rate": "0"},
        change_note="no random sample in this test",
    )
    # the corrected file is clean and in the registry: screening approves it
    truth = clean_digital_invoice(11, buyer_name=org.name, buyer_tax_id=org.tax_id)
    RegistryRecord.objects.create(**registry_row(truth))
    invoice = ask_for_info(
        make_invoice(org, submitter, number=truth.number, identity=truth.identity),
        reviewer,
    )
    assert ReviewTask.objects.get(invoice=invoice).state == TaskState.WAITING
    with django_capture_on_commit_callbacks(execute=False):
        invoice_respond(
            user=submitter,
            invoice_id=invoice.id,
            message="已附更正后的发票",
            file=CorrectedFile(make_xml(truth), "fixed.xml", "application/xml"),
        )

    process_invoice(str(invoice.pk))  # the worker's task; no sweep runs

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert invoice.decision_source == "automatic"
    task = ReviewTask.objects.get(invoice=invoice)
    assert task.state == TaskState.DONE
    assert task.decision == TaskDecision.CLOSED
    assert not ReviewTask.objects.open().filter(invoice=invoice).exists()
    assert invoice.timeline.filter(code="review_closed").exists()


def test_an_answer_without_a_file_goes_back_to_the_queue_through_the_hook(
    submitter, reviewer
):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    invoice_respond(user=submitter, invoice_id=invoice.id, message="合同号 HT-9")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert ReviewTask.objects.open().get(invoice=invoice).state == TaskState.QUEUED


def test_an_unknown_event_class_cannot_be_registered():
    with pytest.raises(TypeError):
        hooks.register_event_hook(dict, lambda event: None)  # type: ignore[arg-type]


def test_without_a_screener_the_worker_task_says_so(monkeypatch):
    monkeypatch.setattr(hooks, "_screener", [])
    with pytest.raises(hooks.NoScreenerError):
        process_invoice("00000000-0000-0000-0000-000000000000")


def test_the_invoices_layer_imports_no_higher_layer_inside_functions():
    """Issue 14: no function-local import of reviews or the portal pages."""
    offenders = []
    for path in (ROOT / "invoiceportal").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.lstrip()
            if line != stripped and stripped.startswith(
                ("from reviews", "import reviews", "from portal", "import portal")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []


# -------------------------------------------------------------- urgent handling


def test_the_expedite_table_has_one_open_state():
    assert {s for s, targets in EXPEDITE_TRANSITIONS.items() if targets} == {
        ExpediteState.PENDING
    }


def test_an_answered_request_cannot_move_again(submitter, supervisor):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="月底结账，急需报销"
    )
    invoice_expedite_decline(actor=supervisor, request_id=request.pk, note="不急")
    request.refresh_from_db()
    assert request.state == ExpediteState.DECLINED

    with transaction.atomic(), pytest.raises(ExpediteStateError) as caught:
        expedite_transition(
            request,
            invoice=invoice,
            to=ExpediteState.APPROVED,
            actor=supervisor,
            code="expedite_approved",
        )
    assert caught.value.status_code == 409
    assert caught.value.code == "invalid_expedite_transition"
    assert caught.value.details == {"from": "declined", "to": "approved"}
    # in the default language, naming both states
    assert str(caught.value.message) == "该加急申请当前为“已拒绝”，不能变为“已通过”。"
    request.refresh_from_db()
    assert request.state == ExpediteState.DECLINED

    # the service refuses a second answer with its own words
    with pytest.raises(ConflictError) as again:
        invoice_expedite_decline(actor=supervisor, request_id=request.pk)
    assert again.value.code == "already_answered"


def test_back_to_pending_is_not_a_move(submitter, supervisor):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="月底结账，急需报销"
    )
    with transaction.atomic(), pytest.raises(ExpediteStateError):
        expedite_transition(
            request,
            invoice=invoice,
            to=ExpediteState.PENDING,
            actor=supervisor,
            code="expedite_declined",
        )


def test_withdrawing_closes_a_pending_request_with_timeline_and_audit(submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="月底结账，急需报销"
    )
    page = invoice_page(invoice, user=submitter)
    assert page.expedite_pending and not page.can_expedite and page.can_withdraw

    invoice_withdraw(user=submitter, invoice_id=invoice.id)

    request.refresh_from_db()
    assert request.state == ExpediteState.DECLINED
    assert request.decided_by is None and request.decided_at is not None
    assert invoice.timeline.filter(code="expedite_closed").exists()
    assert AuditEntry.objects.filter(
        action="invoice.expedite_declined", data__code="expedite_closed"
    ).exists()
    invoice.refresh_from_db()
    page = invoice_page(invoice, user=submitter)
    assert not (page.can_expedite or page.can_withdraw or page.expedite_pending)
    assert page.is_terminal


def test_an_approved_request_raises_the_open_task_through_the_hook(
    submitter, supervisor
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    request = invoice_expedite_request(
        user=submitter, invoice_id=invoice.id, reason="月底结账，急需报销"
    )
    invoice_expedite_approve(actor=supervisor, request_id=request.pk)
    assert ReviewTask.objects.open().get(invoice=invoice).priority == Priority.URGENT
    assert Invoice.objects.get(pk=invoice.pk).priority == Priority.URGENT
    assert ExpediteRequest.objects.get(pk=request.pk).decided_by == supervisor
    assert invoice.timeline.filter(code="expedite_approved").exists()
