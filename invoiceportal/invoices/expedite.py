"""Urgent-handling requests: the one table of their states and the one helper that
changes them.

``expedite_transition`` validates the move against ``EXPEDITE_TRANSITIONS``, saves the
request with ``update_fields``, and writes the invoice's timeline event and the audit
entry in the caller's transaction (which holds the invoice's row lock). Every change of
a request's state goes through it: a supervisor's answer, an auto-approval rule, and a
withdrawal that closes a pending request.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ConflictError

from .lifecycle import timeline_note
from .models import ExpediteRequest, ExpediteState, Invoice, TimelineEvent
from .status import ALLOWED_TRANSITIONS, InvoiceStatus, Priority

S = ExpediteState

EXPEDITE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.APPROVED, S.DECLINED}),
    S.APPROVED: frozenset(),
    S.DECLINED: frozenset(),
}

# Timeline messages of the codes written here (rendered by the pages).
EXPEDITE_MESSAGES = {
    "expedite_requested": _("Urgent handling requested: %(reason)s"),
    "expedite_approved": _("Urgent handling approved: the invoice has top priority."),
    "expedite_auto_approved": _(
        "Urgent handling approved at once by your organization's rule: the invoice "
        "has top priority."
    ),
    "expedite_declined": _("Urgent handling declined."),
    "expedite_closed": _("Urgent handling request closed: the invoice was withdrawn."),
}


class ExpediteStateError(ConflictError):
    default_code = "invalid_expedite_transition"


def expedite_is_pending(request: ExpediteRequest | None) -> bool:
    """A request still waiting for an answer: one that can still move."""
    return bool(request is not None and EXPEDITE_TRANSITIONS[request.state])


def expedite_request_problem(
    invoice: Invoice, *, latest: ExpediteRequest | None
) -> tuple[str, str] | None:
    """Why a new urgent-handling request would be refused, as ``(code, message)``;
    None when it may be asked. One rule for the service and the page's button."""
    if not ALLOWED_TRANSITIONS[InvoiceStatus(invoice.status)]:  # decided
        return (
            "invalid_state",
            str(
                _("This invoice is %(status)s: there is nothing left to speed up.")
                % {"status": InvoiceStatus(invoice.status).label}
            ),
        )
    if invoice.priority >= Priority.URGENT and invoice.expedite_reason:
        return "already_urgent", str(_("This invoice already has urgent handling."))
    if expedite_is_pending(latest):
        return (
            "already_requested",
            str(_("Urgent handling was already asked for; a supervisor will answer.")),
        )
    return None


def expedite_latest(invoice: Invoice) -> ExpediteRequest | None:
    return (
        ExpediteRequest.objects.filter(invoice=invoice)
        .order_by("-requested_at", "-id")
        .first()
    )


def expedite_create(
    *, invoice: Invoice, user: Any, reason: str
) -> tuple[ExpediteRequest, TimelineEvent]:
    """A new pending request, with its timeline event and audit entry."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("expedite_create must run inside a transaction.")
    request = ExpediteRequest.objects.create(
        invoice=invoice, requested_by=user, reason=reason
    )
    event = timeline_note(
        invoice,
        "expedite_requested",
        actor=user,
        params={"reason": reason},
        visible=True,
    )
    audit_record(
        actor=user,
        action="invoice.expedite_requested",
        obj=invoice,
        data={"request": request.pk},
    )
    return request, event


def expedite_transition(
    request: ExpediteRequest,
    *,
    invoice: Invoice,
    to: str,
    actor: Any,
    code: str,
    note: str = "",
    automatic: bool = False,
    record_decider: bool = True,
) -> TimelineEvent:
    """Move ``request`` to ``to``. The caller holds the invoice's row lock (and the
    request's) in its transaction. An illegal move raises ``ExpediteStateError``.
    ``automatic``: an auto-approval rule decided; ``record_decider=False``: nobody
    decided (a withdrawal closed the request), so ``decided_by`` stays empty."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("expedite_transition must run inside a transaction.")
    current = ExpediteState(request.state)
    target = ExpediteState(to)
    if target not in EXPEDITE_TRANSITIONS[current]:
        raise ExpediteStateError(
            _(
                "This urgent-handling request is %(current)s and cannot become "
                "%(target)s."
            )
            % {"current": current.label, "target": target.label},
            details={"from": current.value, "to": target.value},
        )
    if code not in EXPEDITE_MESSAGES:
        raise ValueError(f"Unknown urgent-handling timeline code {code!r}.")
    request.state = target
    decider = getattr(actor, "pk", None) and record_decider and not automatic
    request.decided_by = actor if decider else None
    request.decided_at = timezone.now()
    request.automatic = automatic
    request.note = note
    request.save(
        update_fields=["state", "decided_by", "decided_at", "automatic", "note"]
    )
    event = timeline_note(
        invoice,
        code,
        actor=None if automatic else actor,
        note=note,
        visible=True,
    )
    audit_record(
        actor=actor,
        action=f"invoice.expedite_{target.value}",
        obj=invoice,
        data={"request": request.pk, "automatic": automatic, "code": code},
    )
    return event
