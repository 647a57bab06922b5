"""The one place that changes an invoice's status.

Callers hold the invoice's row lock inside their transaction; this helper checks the
transition table, saves, and writes the timeline event and the audit entry with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ConflictError
from invoiceportal.common.language import is_english

from .hooks import InvoiceChange, run_transition_hooks
from .models import Invoice, TimelineEvent
from .notify import notify_for_timeline_event
from .status import ALLOWED_TRANSITIONS, TERMINAL, InvoiceStatus

# Timeline messages by code, rendered in the reader's language.
TIMELINE_MESSAGES = {
    "submitted": _("Invoice submitted."),
    "screening_started": _("Automatic checks started."),
    "auto_approved": _("Approved automatically: every check passed."),
    "auto_approved_after_verification": _(
        "Approved automatically: the tax authority's registry now confirms the "
        "invoice and every check passed."
    ),
    "registry_rechecked": _(
        "The registry was asked again; the new results are in screening round "
        "%(round)s."
    ),
    "auto_rejected": _("Rejected automatically: %(reasons)s"),
    "sent_to_review": _("Sent to a tax reviewer: %(reasons)s"),
    "approved": _("Approved by a reviewer."),
    "rejected": _("Rejected by a reviewer."),
    "info_requested": _("The reviewer asked for more information."),
    "info_provided": _("You answered the reviewer's question."),
    "withdrawn": _("Withdrawn by the submitter."),
    "unreadable": _(
        "Rejected automatically: the document could not be read (%(reason)s). "
        "Upload a clearer scan or the original electronic file."
    ),
    "duplicate_of": _(
        "Rejected automatically: this invoice was already submitted as "
        "%(reference)s. Follow that submission instead."
    ),
}


def register_timeline_messages(messages: dict[str, Any]) -> None:
    """Other apps (the review queue) add the messages of their own event codes."""
    for code, template in messages.items():
        TIMELINE_MESSAGES.setdefault(code, template)


def timeline_message(
    event: TimelineEvent, messages: Mapping[str, Any] | None = None
) -> str:
    """The event's message in the reader's language. A parameter stored in both
    languages (``reasons`` and ``reasons_en``) is shown in the reader's.
    ``messages``: the catalogue to read, by default this app's codes; a higher layer
    passes ``ChainMap(its_codes, TIMELINE_MESSAGES)``."""
    template = (TIMELINE_MESSAGES if messages is None else messages).get(event.code)
    if template is None:
        return event.code
    params = dict(event.params or {})
    if is_english():
        for key in list(params):
            if params.get(f"{key}_en"):
                params[key] = params[f"{key}_en"]
    try:
        return str(template) % params if params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def timeline_note(
    invoice: Invoice,
    code: str,
    *,
    actor: Any = None,
    params: dict[str, Any] | None = None,
    note: str = "",
    visible: bool,
) -> TimelineEvent:
    """A timeline event that does not change the invoice's status (a question
    answered, a task claimed, a warning sent)."""
    return TimelineEvent.objects.create(
        invoice=invoice,
        status=invoice.status,
        actor=actor if getattr(actor, "pk", None) else None,
        code=code,
        params=params or {},
        note=note,
        visible_to_submitter=visible,
    )


class TransitionError(ConflictError):
    default_code = "invalid_transition"


def invoice_transition(
    *,
    invoice: Invoice,
    to: InvoiceStatus,
    actor: Any,
    code: str,
    params: dict[str, Any] | None = None,
    note: str = "",
    visible_to_submitter: bool = True,
    extra_fields: dict[str, Any] | None = None,
    task_closed: bool = False,
) -> TimelineEvent:
    """Move ``invoice`` to ``to``. The caller has locked the row (select_for_update).
    ``task_closed``: the caller has just closed the invoice's review task (the hooks
    need not look for an open one)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoice_transition must run inside a transaction.")
    current = InvoiceStatus(invoice.status)
    if to not in ALLOWED_TRANSITIONS[current]:
        raise TransitionError(
            _("This invoice is %(current)s and cannot become %(target)s.")
            % {"current": current.label, "target": InvoiceStatus(to).label},
            details={"from": current.value, "to": str(to)},
        )
    now = timezone.now()
    invoice.status = to
    fields = ["status", "updated_at"]
    if to in TERMINAL and to != InvoiceStatus.WITHDRAWN:
        invoice.decided_at = now
        fields.append("decided_at")
    for key, value in (extra_fields or {}).items():
        setattr(invoice, key, value)
        fields.append(key)
    invoice.save(update_fields=fields)
    event = TimelineEvent.objects.create(
        invoice=invoice,
        at=now,
        status=to,
        actor=actor if getattr(actor, "pk", None) else None,
        code=code,
        params=params or {},
        note=note,
        visible_to_submitter=visible_to_submitter,
    )
    # Tell the submitter in the same transaction (in-app now, email after commit).
    notify_for_timeline_event(event, new=True)
    audit_record(
        actor=actor,
        action=f"invoice.{to}",
        obj=invoice,
        data={"from": current.value, "to": str(to), "code": code, **(params or {})},
    )
    run_transition_hooks(
        InvoiceChange(
            invoice=invoice,
            event=event,
            previous=current.value,
            actor=actor,
            task_closed=task_closed,
        )
    )
    return event
