"""Asking the verifier again for invoices it could not answer for.

Screening never rejects an invoice because the verifier (查验) was unavailable: the
invoice goes to review. This sweep asks again. When the answer now settles the invoice
(every check passes, or the registry voids it) and no reviewer has claimed it, it is
decided automatically and its review task closed; otherwise the new results wait for
the reviewer as a new screening round.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery

from invoiceportal.invoices.lifecycle import timeline_note
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus

from .checks.base import REGISTRY_UNAVAILABLE
from .checks.runner import Decision
from .context import extracted_from_invoice
from .models import CheckResult, ReviewTask, TaskState
from .queue.services import review_task_close_for_invoice
from .screening import approve_automatically, reject_automatically, screening_round
from .verification import get_verifier

logger = logging.getLogger(__name__)

RULE = "registry.match"


def invoices_awaiting_verification(*, limit: int = 200) -> list[uuid.UUID]:
    """In-review invoices whose latest registry check could not reach the verifier."""
    last_round = (
        CheckResult.objects.filter(invoice_id=OuterRef("invoice_id"))
        .order_by("-round")
        .values("round")[:1]
    )
    return list(
        CheckResult.objects.filter(
            rule_code=RULE,
            outcome="fail",
            details__registry="unavailable",
            invoice__status=InvoiceStatus.IN_REVIEW,
            round=Subquery(last_round),
        )
        .order_by()
        .values_list("invoice_id", flat=True)
        .distinct()[:limit]
    )


def registry_retry(*, invoice_id: uuid.UUID | str) -> str:
    """Ask the verifier again; returns what happened (for logs and tests):
    ``unavailable``, ``approved``, ``rejected``, ``review`` or ``skipped``."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    if invoice is None or invoice.status != InvoiceStatus.IN_REVIEW:
        return "skipped"
    answer = get_verifier().verify(extracted_from_invoice(invoice))
    if answer == REGISTRY_UNAVAILABLE:
        return "unavailable"
    with transaction.atomic(durable=True):
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization", "submitted_by")
            .get(pk=invoice_id)
        )
        if invoice.status != InvoiceStatus.IN_REVIEW:
            return "skipped"
        round_number, routing = screening_round(invoice, registry=answer)
        claimed = ReviewTask.objects.filter(
            invoice=invoice, state__in=[TaskState.CLAIMED, TaskState.WAITING]
        ).exists()
        if routing.decision is Decision.REVIEW or claimed:
            timeline_note(
                invoice,
                "registry_rechecked",
                params={"round": round_number},
                visible=False,
            )
            return "review"
        review_task_close_for_invoice(invoice=invoice)
        if routing.decision is Decision.APPROVE:
            approve_automatically(invoice, code="auto_approved_after_verification")
            return "approved"
        reject_automatically(invoice, routing)
        return "rejected"


def registry_retry_sweep(**kwargs: Any) -> dict[str, int]:
    """Scheduled: retry every invoice waiting on the verifier; count the outcomes."""
    counts: dict[str, int] = {}
    for invoice_id in invoices_awaiting_verification():
        try:
            outcome = registry_retry(invoice_id=invoice_id)
        except Exception:  # one invoice's failure must not stop the others
            logger.exception("Registry retry failed for %s", invoice_id)
            outcome = "error"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
