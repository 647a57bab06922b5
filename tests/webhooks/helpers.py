"""Invoices decided through the real lifecycle (the transition hooks included)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from tests import factories


def received_invoice(organization: Any, submitter: Any) -> Invoice:
    return factories.make_invoice(organization, submitter)


def decide(invoice: Invoice, *, to: str = InvoiceStatus.APPROVED) -> Invoice:
    """received -> screening -> approved (or rejected) automatically, in one
    transaction, as screening does."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice_transition(
            invoice=locked,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="screening_started",
        )
        invoice_transition(
            invoice=locked,
            to=to,
            actor=None,
            code="auto_approved" if to == InvoiceStatus.APPROVED else "auto_rejected",
            params={} if to == InvoiceStatus.APPROVED else {"reasons": "购买方不符"},
            extra_fields={"decision_source": "automatic"},
        )
    invoice.refresh_from_db()
    return invoice


def withdraw(invoice: Invoice, actor: Any) -> None:
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice_transition(
            invoice=locked, to=InvoiceStatus.WITHDRAWN, actor=actor, code="withdrawn"
        )
