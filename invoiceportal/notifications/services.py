"""Notifying users: in-app rows at once, email and SMS delivered by the worker.

``notify`` runs inside the transaction of the change it reports: the in-app rows
commit with the change, and email and SMS delivery is queued only once it has
committed (``transaction.on_commit`` + a django-q2 task per message, retried on
failure). Nothing is sent from the request.

Invoice events reach users two ways, with the same result:
- ``notify_for_timeline_event(event)``, called in the transaction that wrote the
  timeline event (instant);
- ``notifications_catch_up()``, scheduled every minute, for the events nobody
  notified directly. A timeline event notifies a user at most once per channel (a
  unique constraint), so both together never send twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from invoiceportal.audit.services import audit_record

from .messages import absolute_url, render
from .models import (
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    TimelineCursor,
)
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

DELIVER_TASK = "invoiceportal.notifications.tasks.deliver_notification"
MAX_ATTEMPTS = 5
CATCH_UP_DELAY = dt.timedelta(minutes=1)
CATCH_UP_LIMIT = 500

# Names other apps use for the same kinds.
ALIASES = {"sla_warning": Kind.SLA_AT_RISK, "sla_breach": Kind.SLA_BREACHED}

# The preference that decides email and SMS for a kind (None: in-app only).
CATEGORY = {
    Kind.DECIDED: "decided",
    Kind.INFO_REQUESTED: "info_requested",
    Kind.SLA_AT_RISK: "sla_at_risk",
    Kind.SLA_BREACHED: "sla_at_risk",
}

PREFERENCE_FIELDS = [
    f"{channel}_{category}"
    for channel in ("email", "sms")
    for category in ("decided", "info_requested", "sla_at_risk")
]

# Timeline codes that tell the submitter something, and what kind.
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


def preference_for(user: Any) -> NotificationPreference:
    """The user's preferences (defaults when never saved; not stored by reading)."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found or NotificationPreference(user_id=user.pk)


def _channels(user: Any, kind: Kind, pref: NotificationPreference) -> list[str]:
    channels = [Channel.IN_APP]
    category = CATEGORY.get(kind)
    if category is None:
        return channels
    if getattr(pref, f"email_{category}") and user.email:
        channels.append(Channel.EMAIL)
    if getattr(pref, f"sms_{category}") and getattr(user, "phone", ""):
        channels.append(Channel.SMS)
    return channels


def notify(
    *,
    users: Iterable[Any],
    invoice: Any,
    kind: str,
    context: dict[str, Any] | None = None,
    source_event: Any = None,
    new_event: bool = False,
) -> list[Notification]:
    """Notify ``users`` about ``invoice``. Call inside the change's transaction."""
    kind = Kind(ALIASES.get(kind, kind))
    unique = {u.pk: u for u in users if u is not None and u.is_active}
    if not unique:
        return []
    prefs = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in=list(unique))
    }
    base = dict(context or {})
    if invoice is not None:
        base.setdefault("reference", invoice.reference)
    # An event notifies each user at most once per channel, whoever calls first.
    done = (
        set(
            Notification.objects.filter(source_event=source_event).values_list(
                "user_id", "channel"
            )
        )
        if source_event is not None and not new_event
        else set()
    )
    rows = [
        Notification(
            user=user,
            invoice=invoice,
            kind=kind,
            channel=channel,
            context=base,
            source_event=source_event,
        )
        for user in unique.values()
        for channel in _channels(
            user, kind, prefs.get(user.pk) or NotificationPreference(user_id=user.pk)
        )
        if (user.pk, channel) not in done
    ]
    created = Notification.objects.bulk_create(rows)
    pending = [n.pk for n in created if n.channel != Channel.IN_APP]
    if pending:
        transaction.on_commit(lambda: enqueue_delivery(pending))
    return created


def enqueue_delivery(notification_ids: Iterable[int]) -> None:
    from django_q.tasks import async_task

    for pk in notification_ids:
        async_task(DELIVER_TASK, pk, group="notifications")


def _submitters_of(invoice: Any) -> list[Any]:
    """Who hears about an invoice: whoever submitted it, while still a member of
    its organization."""
    user = invoice.submitted_by
    if user is None or user.organization_id != invoice.organization_id:
        return []
    return [user]


def _event_context(event: Any) -> dict[str, Any]:
    invoice = event.invoice
    params = event.params or {}
    context: dict[str, Any] = {
        "reference": invoice.reference,
        "status": event.status,
        "seller": invoice.seller_name,
        "total": "" if invoice.total_amount is None else str(invoice.total_amount),
    }
    if event.code in ("auto_rejected", "rejected"):
        context["reason"] = invoice.decision_reason
        context["reason_en"] = params.get("reasons_en") or params.get("reason_en", "")
    if event.code == "info_requested":
        context["question"] = params.get("question") or event.note
    if event.code in ("sla_warning", "sla_breached"):
        context["due"] = params.get("due", "")
    return context


def notify_for_timeline_event(event: Any, *, new: bool = False) -> list[Notification]:
    """Tell the submitter about a timeline event that concerns them (a decision, a
    question, a deadline at risk). Call in the transaction that wrote the event."""
    kind = TIMELINE_KINDS.get(event.code)
    if kind is None:
        return []
    invoice = event.invoice
    return notify(
        users=_submitters_of(invoice),
        invoice=invoice,
        kind=kind,
        context=_event_context(event),
        source_event=event,
        new_event=new,
    )


def notifications_catch_up(*, now: dt.datetime | None = None) -> int:
    """Notify the timeline events written at least a minute ago that nobody notified
    directly (scheduled every minute). Returns how many events it notified."""
    from invoiceportal.invoices.models import TimelineEvent

    now = now or timezone.now()
    cursor, _created = TimelineCursor.objects.get_or_create(pk=1)
    cutoff = now - CATCH_UP_DELAY
    events = list(
        TimelineEvent.objects.filter(pk__gt=cursor.last_event_id)
        .select_related("invoice", "invoice__submitted_by")
        .order_by("pk")[:CATCH_UP_LIMIT]
    )
    already = set(
        Notification.objects.filter(
            source_event_id__in=[e.pk for e in events if e.code in TIMELINE_KINDS]
        ).values_list("source_event_id", flat=True)
    )
    notified = 0
    last = None
    for event in events:
        if event.at > cutoff:
            break  # its transaction may still be notifying directly
        last = event.pk
        if event.code not in TIMELINE_KINDS or event.pk in already:
            continue
        try:
            with transaction.atomic():
                if notify_for_timeline_event(event):
                    notified += 1
        except IntegrityError:
            continue  # notified directly in the meantime
    if last is not None:
        TimelineCursor.objects.filter(pk=1).update(last_event_id=last)
    return notified


def notification_mark_read(*, user: Any, notification_id: int) -> int:
    """Mark one of the user's own notifications read; 0 when it is not theirs."""
    return Notification.objects.filter(
        pk=notification_id, user_id=user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_all_read(*, user: Any) -> int:
    return (
        Notification.objects.unread()
        .filter(user_id=user.pk)
        .update(read_at=timezone.now())
    )


def notification_mark_read_for_invoice(*, user: Any, invoice_id: Any) -> int:
    """Opening an invoice's page reads its notifications."""
    return (
        Notification.objects.unread()
        .filter(user_id=user.pk, invoice_id=invoice_id)
        .update(read_at=timezone.now())
    )


def notification_preferences_update(
    *, user: Any, **values: bool
) -> NotificationPreference:
    changes = {k: bool(v) for k, v in values.items() if k in PREFERENCE_FIELDS}
    with transaction.atomic(durable=True):
        pref, _created = (
            NotificationPreference.objects.select_for_update().get_or_create(
                user_id=user.pk
            )
        )
        for key, value in changes.items():
            setattr(pref, key, value)
        pref.save()
        audit_record(
            actor=user,
            action="notifications.preferences",
            obj=pref,
            data=changes,
        )
    return pref


class DeliveryError(Exception):
    """Sending failed; django-q2 retries the task."""


def _send(notification: Notification) -> None:
    user = notification.user
    language = getattr(user, "language", "") or None
    message = render(notification, language=language)
    link = absolute_url(message.url)
    if notification.channel == Channel.EMAIL:
        send_mail(
            subject=message.title,
            message=f"{message.body}\n\n{link}\n",
            from_email=None,
            recipient_list=[user.email],
        )
    elif notification.channel == Channel.SMS:
        get_sms_backend().send(
            phone=user.phone, text=f"{message.title} {message.body} {link}"
        )


def notification_deliver(*, notification_id: int) -> bool:
    """Send one email or SMS. True when sent (now or before); raises DeliveryError
    after recording a failed attempt, so the task is retried."""
    error = ""
    with transaction.atomic(durable=True):
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user", "invoice")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.channel == Channel.IN_APP:
            return False
        if notification.sent_at is not None:
            return True
        if notification.attempts >= MAX_ATTEMPTS:
            return False
        notification.attempts += 1
        try:
            _send(notification)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            notification.last_error = error
            notification.save(update_fields=["attempts", "last_error"])
        else:
            notification.sent_at = timezone.now()
            notification.last_error = ""
            notification.save(update_fields=["attempts", "sent_at", "last_error"])
    if error:
        logger.warning("Notification %s not delivered: %s", notification_id, error)
        raise DeliveryError(error)
    return True


def notifications_retry_undelivered(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again the email and SMS messages still unsent after a few minutes (a
    lost task, a worker restart); gives up after ``MAX_ATTEMPTS``."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            sent_at__isnull=True,
            attempts__lt=MAX_ATTEMPTS,
            created_at__lte=now - dt.timedelta(minutes=5),
        )
        .exclude(channel=Channel.IN_APP)
        .order_by("created_at")
        .values_list("pk", flat=True)[:CATCH_UP_LIMIT]
    )
    enqueue_delivery(ids)
    return ids
