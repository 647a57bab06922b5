"""Invoices decided through the real lifecycle (the transition hooks included)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from tests.factories import invoice_move_to


def decide(invoice: Invoice) -> Invoice:
    """received -> screening -> approved automatically, in one transaction, as
    screening does."""
    return invoice_move_to(invoice, InvoiceStatus.APPROVED)


def withdraw(invoice: Invoice, actor: Any) -> None:
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice_transition(
            invoice=locked, to=InvoiceStatus.WITHDRAWN, actor=actor, code="withdrawn"
        )
