"""Notifying people about an invoice: the invoices layer's side of notifications.

The notifications layer (below this one) knows recipients, messages and links, not
invoices. This module decides, for an invoice:
- who hears about a timeline event (its submitter, only of events shown to them) and
  what the message says (``notify_for_timeline_event``, the catch-up sweep);
- which page each reader opens: submitters the invoice page, staff (reviewers,
  supervisors, admins) the page a higher layer registers with ``register_staff_link``
  (reviews: the review task), else their notification centre;
- which texts each audience gets: a text written for staff never reaches a submitter,
  and staff get their own wording of a deadline alert.
``register_notification_sources()`` (from ``InvoicesConfig.ready``) plugs the sweep and
the centre's scope into the notifications layer.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, Replace
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from invoiceportal.notifications.models import Kind, Notification
from invoiceportal.notifications.services import (
    kind_of,
    notification_mark_read_for_subject,
    notify,
    register_catch_up,
    register_subject_scope,
    sweep_advance,
    sweep_position,
)

from .models import Invoice, TimelineEvent
from .status import InvoiceStatus

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "invoice"
SWEEP_NAME = "invoices.timeline"
CATCH_UP_DELAY = dt.timedelta(minutes=1)
CATCH_UP_LIMIT = 500

# Timeline codes that tell the submitter something, and what kind. Only events
# shown to the submitter (``visible_to_submitter``) notify them.
TIMELINE_KINDS = {
    "auto_approved": Kind.DECIDED,
    "auto_rejected": Kind.DECIDED,
    "auto_approved_after_verification": Kind.DECIDED,
    "unreadable": Kind.DECIDED,
    "duplicate_of": Kind.DECIDED,
    "approved": Kind.DECIDED,
    "rejected": Kind.DECIDED,
    "info_requested": Kind.INFO_REQUESTED,
    "sla_warning": Kind.SLA_AT_RISK,
    "sla_breached": Kind.SLA_BREACHED,
}

# Kinds written for reviewers and supervisors: never sent to a submitter.
STAFF_ONLY = frozenset(
    {
        Kind.EXPEDITE_REQUESTED,
        Kind.INFO_PROVIDED,
        Kind.TASK_AT_RISK,
        Kind.TASK_BREACHED,
        Kind.TASK_ASSIGNED,
    }
)
# A submitter's wording -> the same news in the staff's wording.
STAFF_WORDING = {
    Kind.SLA_AT_RISK: Kind.TASK_AT_RISK,
    Kind.SLA_BREACHED: Kind.TASK_BREACHED,
}

StaffLink = Callable[[Invoice], "str | None"]
_staff_links: list[StaffLink] = []


def register_staff_link(resolver: StaffLink) -> None:
    """A higher layer (reviews) says which page staff open for an invoice: the
    first resolver that answers a path wins (idempotent per function)."""
    if resolver not in _staff_links:
        _staff_links.append(resolver)


def timeline_source(event_id: int) -> str:
    """The notifications' source key of a timeline event ("timeline:<id>")."""
    return f"timeline:{event_id}"


def invoice_subject(invoice_id: Any) -> str:
    """The notifications' subject key of an invoice ("invoice:<hex>")."""
    return f"{SUBJECT_PREFIX}:{uuid.UUID(str(invoice_id)).hex}"


def is_staff_reader(user: Any) -> bool:
    """Reviewers, supervisors and admins (a superuser too): they work on tasks, not
    invoice pages. Read from the role, which picks the user's permission group
    (accounts.roles): no permission query per recipient inside a decision."""
    return user.effective_role != Role.SUBMITTER


def staff_link(invoice: Invoice) -> str:
    for resolver in list(_staff_links):
        path = resolver(invoice)
        if path:
            return path
    return reverse("notifications:centre")


def _labels(label: Any) -> dict[str, str]:
    """A translatable label in every language of the portal."""
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out[code] = str(label)
    return out


def _message_context(invoice: Invoice, context: dict[str, Any] | None) -> dict:
    values = dict(context or {})
    values.setdefault("reference", invoice.reference)
    status = values.get("status")
    if isinstance(status, str) and status in InvoiceStatus.values:
        values["status"] = _labels(InvoiceStatus(status).label)
    return values


def notify_about_invoice(
    *,
    users: Iterable[Any],
    invoice: Invoice,
    kind: str,
    context: dict[str, Any] | None = None,
    source_event: TimelineEvent | None = None,
    new_event: bool = False,
) -> list[Notification]:
    """Notify ``users`` about ``invoice``, each with the wording and the link of
    their audience (call inside the change's transaction). A staff-only kind skips
    submitters; ``source_event`` notifies each user at most once per channel."""
    base_kind = kind_of(kind)
    values = _message_context(invoice, context)
    subject = invoice_subject(invoice.pk)
    source = timeline_source(source_event.pk) if source_event is not None else ""
    staff: list[Any] = []
    submitters: list[Any] = []
    for user in users:
        if user is None:
            continue
        (staff if is_staff_reader(user) else submitters).append(user)

    def send(readers: list[Any], kind: Kind, link: str) -> list[Notification]:
        return notify(
            users=readers,
            kind=kind,
            context=values,
            link=link,
            subject=subject,
            source=source,
            new_source=new_event,
        )

    created: list[Notification] = []
    if staff:
        created += send(
            staff, STAFF_WORDING.get(base_kind, base_kind), staff_link(invoice)
        )
    if submitters and base_kind in STAFF_ONLY:
        logger.warning(
            "Not sending %s about %s to submitters (a text for staff).",
            base_kind,
            invoice.reference,
        )
    elif submitters:
        created += send(
            submitters, base_kind, reverse("invoices:detail", args=[invoice.pk])
        )
    return created


def invoice_notifications_mark_read(*, user: Any, invoice_id: Any) -> int:
    """Opening an invoice's page reads the user's notifications about it."""
    return notification_mark_read_for_subject(
        user=user, subject=invoice_subject(invoice_id)
    )


# ------------------------------------------------------------------ timeline


def _submitters_of(invoice: Invoice) -> list[Any]:
    """Who hears about an invoice: whoever submitted it, while still a member of
    its organization."""
    user = invoice.submitted_by
    if user is None or user.organization_id != invoice.organization_id:
        return []
    return [user]


def _event_context(event: TimelineEvent) -> dict[str, Any]:
    invoice = event.invoice
    params = event.params or {}
    context: dict[str, Any] = {
        "reference": invoice.reference,
        "status": event.status,
        "seller": invoice.seller_name,
        "total": "" if invoice.total_amount is None else str(invoice.total_amount),
    }
    if event.code in ("auto_rejected", "rejected"):
        reason = invoice.decision_reason
        reason_en = params.get("reasons_en") or params.get("reason_en", "")
        if reason_en and event.note:  # a coded reason and the reviewer's words
            reason_en = f"{reason_en}: {event.note}"
        context["reason"] = (
            {"zh-hans": reason, "en": reason_en} if reason_en else reason
        )
    if event.code == "info_requested":
        context["question"] = params.get("question") or event.note
    if event.code in ("sla_warning", "sla_breached"):
        context["due"] = params.get("due", "")
    return context


def _notifies_submitter(event: TimelineEvent) -> bool:
    """A timeline event that tells the submitter something, shown to them."""
    return event.code in TIMELINE_KINDS and event.visible_to_submitter


def notify_for_timeline_event(
    event: TimelineEvent, *, new: bool = False
) -> list[Notification]:
    """Tell the submitter about a timeline event that concerns them (a decision, a
    question). Internal events (not shown to the submitter) notify nobody here.
    Call in the transaction that wrote the event."""
    if not _notifies_submitter(event):
        return []
    invoice = event.invoice
    return notify_about_invoice(
        users=_submitters_of(invoice),
        invoice=invoice,
        kind=TIMELINE_KINDS[event.code],
        context=_event_context(event),
        source_event=event,
        new_event=new,
    )


def timeline_catch_up(now: dt.datetime) -> int:
    """Notify the timeline events written at least a minute ago that nobody notified
    directly (run by ``notifications_catch_up``). Returns how many it notified."""
    cutoff = now - CATCH_UP_DELAY
    events = list(
        TimelineEvent.objects.filter(pk__gt=sweep_position(SWEEP_NAME))
        .select_related("invoice", "invoice__submitted_by")
        .order_by("pk")[:CATCH_UP_LIMIT]
    )
    wanted = {e.pk for e in events if _notifies_submitter(e)}
    already = set(
        Notification.objects.filter(
            source__in=[timeline_source(pk) for pk in wanted]
        ).values_list("source", flat=True)
    )
    notified = 0
    last = None
    for event in events:
        if event.at > cutoff:
            break  # its transaction may still be notifying directly
        last = event.pk
        if event.pk not in wanted or timeline_source(event.pk) in already:
            continue
        try:
            with transaction.atomic():
                if notify_for_timeline_event(event):
                    notified += 1
        except IntegrityError:
            continue  # notified directly in the meantime
    if last is not None:
        sweep_advance(SWEEP_NAME, last)
    return notified


def _visible_subjects(user: Any) -> Any:
    """The subject keys of the invoices ``user`` may see (None: all of them)."""
    visible = Invoice.objects.visible_to(user)
    if not visible.query.where:
        return None
    return visible.annotate(
        key=Concat(
            Value(f"{SUBJECT_PREFIX}:"),
            Replace(Cast("pk", output_field=CharField()), Value("-"), Value("")),
            output_field=CharField(),
        )
    ).values("key")


def register_notification_sources() -> None:
    """Plug the invoices into the notifications layer (``InvoicesConfig.ready``)."""
    register_catch_up(SWEEP_NAME, timeline_catch_up)
    register_subject_scope(SUBJECT_PREFIX, _visible_subjects)
