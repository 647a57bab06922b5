"""Automatic screening: run the enabled rules on an invoice, store one result per rule,
route it (DESIGN.md section 5).

``screen_invoice`` is idempotent and crash-safe. Everything happens in one durable
transaction under the invoice's row lock: a doubled task waits for the lock, finds the
invoice decided and changes nothing; a failure rolls everything back and leaves the
invoice in ``received`` (or ``screening``) for a retry or the sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from invoiceportal.common.task_queue import queue_task
from invoiceportal.invoices.intake import PENDING, invoice_extract_pending
from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Document, Invoice
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus

from .checks.base import CheckOutcome
from .checks.catalog import RuleConfig, default_config
from .checks.runner import Decision, Routing, route, run_checks
from .context import build_check_context, extracted_from_invoice, latest_document
from .models import CheckResult
from .queue.services import review_task_open
from .rules import rules_active
from .verification import LocalRegistryVerifier, get_verifier

logger = logging.getLogger(__name__)

SCREENABLE = (InvoiceStatus.RECEIVED, InvoiceStatus.SCREENING)
SCREEN_TASK = "reviews.tasks.screen_invoice_task"


def _reasons(routing: Routing, *, english: bool = False) -> str:
    return "; ".join(
        (r.message_en or r.message_zh) if english else (r.message_zh or r.message_en)
        for r in routing.reasons
    )


def _reason_params(routing: Routing) -> dict[str, Any]:
    return {
        "reasons": _reasons(routing),
        "reasons_en": _reasons(routing, english=True),
        "rules": [r.code for r in routing.reasons],
    }


def _store_results(
    *,
    invoice: Invoice,
    round_number: int,
    results: list[tuple[str, CheckOutcome]],
    rules: Mapping[str, RuleConfig],
) -> list[CheckResult]:
    run_id = uuid.uuid4()
    now = timezone.now()
    # A round is stored whole or not at all (one transaction), and always numbered
    # after the last stored one (next_round), so it starts empty.
    rows = []
    for code, outcome in results:
        config = rules.get(code) or default_config(code)
        rows.append(
            CheckResult(
                invoice=invoice,
                round=round_number,
                run_id=run_id,
                rule_code=code,
                rule_version=config.version,
                outcome=str(outcome.outcome),
                action=str(outcome.severity),
                configured_action=str(config.outcome_on_fail),
                message_zh=outcome.message_zh,
                message_en=outcome.message_en,
                details=dict(outcome.details),
                created_at=now,
            )
        )
    return CheckResult.objects.bulk_create(rows)


def next_round(invoice: Invoice) -> int:
    last = CheckResult.objects.filter(invoice=invoice).aggregate(last=Max("round"))
    return (last["last"] or 0) + 1


def screening_round(
    invoice: Invoice, *, document: Document | None = None, registry: Any = None
) -> tuple[int, Routing]:
    """Run the rules on the locked ``invoice`` and store the results as a new round;
    returns the round's number and its routing (not applied)."""
    # A new round after the last stored one (a crashed attempt stored none):
    # the first screening, each answer to a reviewer's question, each registry
    # re-verification (reviews/reverify.py).
    round_number = next_round(invoice)
    if document is None:
        document = latest_document(invoice)
    extracted = extracted_from_invoice(invoice, document=document)
    rules = rules_active()
    ctx = build_check_context(
        invoice, extracted, rules=rules, document=document, registry=registry
    )
    results = run_checks(extracted, ctx, rules)
    routing = route(results, rules)
    _store_results(
        invoice=invoice, round_number=round_number, results=results, rules=rules
    )
    return round_number, routing


def reject_automatically(invoice: Invoice, routing: Routing) -> None:
    """``invoice -> rejected`` for the rules that rejected it (screening's routing and
    the registry retry)."""
    params = _reason_params(routing)
    invoice_transition(
        invoice=invoice,
        to=InvoiceStatus.REJECTED,
        actor=None,
        code="auto_rejected",
        params=params,
        extra_fields={
            "decision_source": DecisionSource.AUTOMATIC,
            "decision_reason": params["reasons"],
        },
    )


def approve_automatically(invoice: Invoice, *, code: str) -> None:
    """``invoice -> approved`` with no reviewer (screening's routing: ``code``
    ``auto_approved``; the registry retry: ``auto_approved_after_verification``)."""
    invoice_transition(
        invoice=invoice,
        to=InvoiceStatus.APPROVED,
        actor=None,
        code=code,
        extra_fields={
            "decision_source": DecisionSource.AUTOMATIC,
            "decision_reason": "",
        },
    )


def _route(invoice: Invoice, routing: Routing) -> None:
    if routing.decision is Decision.REJECT:
        reject_automatically(invoice, routing)
    elif routing.decision is Decision.REVIEW:
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.IN_REVIEW,
            actor=None,
            code="sent_to_review",
            params=_reason_params(routing),
        )
        # Same transaction, invoice still locked: the task and its SLA start now.
        review_task_open(invoice=invoice)
    else:
        approve_automatically(invoice, code="auto_approved")


def _verify_outside_the_lock(invoice_id: uuid.UUID | str) -> Any:
    """Ask the verifier before taking the invoice's lock: a remote 查验 may be slow.
    ``None`` lets the context read the local registry itself."""
    verifier = get_verifier()
    if isinstance(verifier, LocalRegistryVerifier):
        return None
    invoice = Invoice.objects.filter(pk=invoice_id, status__in=SCREENABLE).first()
    if invoice is None:
        return None
    return verifier.verify(extracted_from_invoice(invoice))


def screen_invoice(*, invoice_id: uuid.UUID | str) -> None:
    """Screen the invoice if it is still waiting for it; otherwise do nothing.

    A document left for the worker (photo, scan) is read first, outside the lock, so
    every way in (the upload's task, the sweep, ``rescreen``) reads before it screens.
    """
    if _screen_locked(invoice_id) == PENDING_DOCUMENT:
        invoice_extract_pending(invoice_id=str(invoice_id))
        _screen_locked(invoice_id)


PENDING_DOCUMENT = "pending-document"


def _screen_locked(invoice_id: uuid.UUID | str) -> str | None:
    """One attempt under the invoice's lock; ``PENDING_DOCUMENT`` (having changed
    nothing) when its document has not been read yet."""
    registry = _verify_outside_the_lock(invoice_id)
    with transaction.atomic(durable=True):
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization", "submitted_by")
            .filter(pk=invoice_id)
            .first()
        )
        if invoice is None:
            logger.warning("Screening: invoice %s does not exist.", invoice_id)
            return None
        if invoice.status not in SCREENABLE:
            logger.info(
                "Screening: %s is %s already; nothing to do.",
                invoice.reference,
                invoice.status,
            )
            return None
        document = latest_document(invoice)
        if document is not None and document.extractor == PENDING:
            return PENDING_DOCUMENT
        if invoice.status == InvoiceStatus.RECEIVED:
            invoice_transition(
                invoice=invoice,
                to=InvoiceStatus.SCREENING,
                actor=None,
                code="screening_started",
            )
        round_number, routing = screening_round(
            invoice, document=document, registry=registry
        )
        _route(invoice, routing)
        logger.info(
            "Screening: %s round %s -> %s (%s)",
            invoice.reference,
            round_number,
            routing.decision,
            ", ".join(r.code for r in routing.reasons) or "no failures",
        )
    return None


def screening_enqueue(*, invoice_id: uuid.UUID | str) -> str:
    """Queue the screening task; call it from ``transaction.on_commit``."""
    return queue_task(SCREEN_TASK, str(invoice_id), group="screening")


def stuck_minutes() -> int:
    return settings.SCREENING_STUCK_MINUTES


def invoices_stuck_in_screening(
    *, older_than: dt.timedelta | None = None, now: dt.datetime | None = None
):
    """Invoices still ``received`` or ``screening`` untouched for ``older_than``
    (``SCREENING_STUCK_MINUTES``, 10 by default): their task was lost or failed."""
    if older_than is None:
        older_than = dt.timedelta(minutes=stuck_minutes())
    cutoff = (now or timezone.now()) - older_than
    return Invoice.objects.filter(
        status__in=SCREENABLE, updated_at__lt=cutoff
    ).order_by("updated_at")


def screen_sweep(*, now: dt.datetime | None = None) -> list[str]:
    """Queue screening again for the invoices stuck before a decision; returns their
    ids. A second task for an invoice being screened right now is harmless."""
    limit = settings.SCREENING_SWEEP_LIMIT
    ids = [
        str(pk)
        for pk in invoices_stuck_in_screening(now=now).values_list("pk", flat=True)[
            :limit
        ]
    ]
    for invoice_id in ids:
        screening_enqueue(invoice_id=invoice_id)
    if ids:
        logger.warning("Screening sweep: re-queued %s stuck invoices.", len(ids))
    return ids
