"""Invoices in every state, moved there by the real services."""

from __future__ import annotations

import itertools
from typing import Any

from django.db import transaction

from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus
from reviews.models import CheckResult
from tests import factories

_numbers = itertools.count(1)


def make_invoice(organization: Any, submitter: Any, **changes: Any) -> Invoice:
    """A received invoice with its document (``tests.factories.make_invoice``)."""
    n = next(_numbers)
    fields: dict[str, Any] = {
        "reference": f"INV-2026-{900000 + n:06d}",
        "number": f"2611200000{n:010d}",
    }
    return factories.make_invoice(organization, submitter, **(fields | changes))


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def to_review(
    invoice: Invoice, *, failing_rule: str = "arithmetic.line_sums"
) -> Invoice:
    """received -> screening -> in_review with a failed check and an open task."""
    from reviews.queue.services import review_task_open

    with transaction.atomic():
        locked = _locked(invoice)
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="screening_started",
        )
        CheckResult.objects.create(
            invoice=locked,
            round=1,
            rule_code=failing_rule,
            rule_version=1,
            outcome="fail",
            action="review",
            message_zh="明细金额合计与发票金额不符。",
            message_en="The lines do not add up to the amount.",
        )
        CheckResult.objects.create(
            invoice=locked,
            round=1,
            rule_code="identity.format",
            rule_version=1,
            outcome="pass",
            action="none",
        )
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.IN_REVIEW,
            actor=None,
            code="sent_to_review",
            # As screening writes it (``reviews.screening._reason_params``).
            params={
                "reasons": "明细金额合计与发票金额不符。",
                "reasons_en": "The lines do not add up to the amount.",
                "rules": [failing_rule],
            },
        )
        review_task_open(invoice=locked)
    invoice.refresh_from_db()
    return invoice


def reviewer_decides(
    invoice: Invoice,
    reviewer: Any,
    decision: str,
    *,
    comment: str = "",
    reason_code: str = "",
) -> None:
    from reviews.models import ReviewTask
    from reviews.queue.services import review_task_decide, review_task_reassign

    task = ReviewTask.objects.open().get(invoice=invoice)
    if task.state != "claimed" or task.assigned_to_id != reviewer.pk:
        from tests.factories import UserFactory

        boss = UserFactory(role="supervisor", organization=reviewer.organization)
        review_task_reassign(actor=boss, task_id=task.pk, to_user=reviewer)
    review_task_decide(
        user=reviewer,
        task_id=task.pk,
        decision=decision,
        reason_code=reason_code,
        comment=comment,
    )
    invoice.refresh_from_db()


def ask_for_info(invoice: Invoice, reviewer: Any, question: str = "请提供合同编号。"):
    if invoice.status == InvoiceStatus.RECEIVED:
        to_review(invoice)
    reviewer_decides(invoice, reviewer, "request_info", comment=question)
    return invoice


def auto_reject(invoice: Invoice, reason: str = "购买方税号与贵单位不符。") -> Invoice:
    with transaction.atomic():
        locked = _locked(invoice)
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="screening_started",
        )
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.REJECTED,
            actor=None,
            code="auto_rejected",
            params={"reasons": reason, "reasons_en": "The buyer is not you."},
            extra_fields={
                "decision_source": DecisionSource.AUTOMATIC,
                "decision_reason": reason,
            },
        )
    invoice.refresh_from_db()
    return invoice


def auto_approve(invoice: Invoice) -> Invoice:
    with transaction.atomic():
        locked = _locked(invoice)
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="screening_started",
        )
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.APPROVED,
            actor=None,
            code="auto_approved",
            extra_fields={"decision_source": DecisionSource.AUTOMATIC},
        )
    invoice.refresh_from_db()
    return invoice
