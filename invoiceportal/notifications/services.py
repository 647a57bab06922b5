"""Notifying users: in-app rows at once, email and SMS delivered by the worker.

``notify`` runs inside the transaction of the change it reports: the in-app rows
commit with the change, and email and SMS delivery is queued only once it has
committed (``transaction.on_commit`` + a django-q2 task per message, retried on
failure). Nothing is sent from the request.

This layer knows recipients, kinds, message context and links, nothing about what a
notification is about: a higher layer passes an opaque ``subject`` key and the
``link`` its reader can open (``invoiceportal.invoices.notify`` does it for invoices).
Higher layers plug in through two registries, from their ``AppConfig.ready``:
- ``register_catch_up(name, sweep)``: ``notifications_catch_up()`` (scheduled every
  minute) runs each sweep, which notifies the events nobody notified directly and
  keeps its position in a ``SweepCursor`` row;
- ``register_subject_scope(prefix, scope)``: which subjects of that prefix a reader
  may still see (the notification centre hides the others).
A ``source`` key notifies a user at most once per channel (a unique constraint), so
a direct notification and a sweep together never send twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from invoiceportal.audit.services import audit_record
from invoiceportal.common.task_queue import queue_task

from .messages import absolute_url, render
from .models import (
    Channel,
    Kind,
    Notification,
    NotificationPreference,
    SweepCursor,
)
from .sms import get_sms_backend

logger = logging.getLogger(__name__)

DELIVER_TASK = "invoiceportal.notifications.tasks.deliver_notification"
MAX_ATTEMPTS = 5
CATCH_UP_LIMIT = 500

# Names other apps use for the same kinds.
ALIASES = {
    "sla_warning": Kind.SLA_AT_RISK,
    "sla_breach": Kind.SLA_BREACHED,
}

# The preference that decides email and SMS for a kind (None: in-app only).
CATEGORY = {
    Kind.DECIDED: "decided",
    Kind.INFO_REQUESTED: "info_requested",
    Kind.SLA_AT_RISK: "sla_at_risk",
    Kind.SLA_BREACHED: "sla_at_risk",
    Kind.TASK_AT_RISK: "sla_at_risk",
    Kind.TASK_BREACHED: "sla_at_risk",
}

PREFERENCE_FIELDS = [
    f"{channel}_{category}"
    for channel in ("email", "sms")
    for category in ("decided", "info_requested", "sla_at_risk")
]

# ------------------------------------------------------------------ registries

# A sweep: (now) -> how many events it notified. Runs outside any transaction.
CatchUp = Callable[[dt.datetime], int]
# A scope: (reader) -> None when every subject of the prefix is visible, else a
# queryset of the visible subject keys (one column, ``values("key")``).
SubjectScope = Callable[[Any], Any]

_catch_ups: dict[str, CatchUp] = {}
_scopes: dict[str, SubjectScope] = {}


def register_catch_up(name: str, sweep: CatchUp) -> None:
    """Run ``sweep`` in every ``notifications_catch_up`` (idempotent per name)."""
    _catch_ups[name] = sweep


def register_subject_scope(prefix: str, scope: SubjectScope) -> None:
    """Say which subjects ``"<prefix>:..."`` a reader may see (idempotent)."""
    _scopes[prefix] = scope


def subject_scope_filter(user: Any) -> Q:
    """The rows of the centre a reader may see: subjects of no registered prefix,
    and the registered ones their scope lets through."""
    allowed = Q()
    for prefix, scope in _scopes.items():
        visible = scope(user)
        if visible is None:
            continue
        allowed &= ~Q(subject__startswith=f"{prefix}:") | Q(subject__in=visible)
    return allowed


def kind_of(kind: str) -> Kind:
    """A kind from its name or an alias; ValueError for an unknown one."""
    return Kind(ALIASES.get(kind, kind))


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
    if getattr(pref, f"sms_{category}") and user.phone:
        channels.append(Channel.SMS)
    return channels


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    context: dict[str, Any] | None = None,
    link: str = "",
    subject: str = "",
    source: str = "",
    new_source: bool = False,
) -> list[Notification]:
    """Notify ``users``: ``kind`` picks the message, ``context`` fills it (a value may
    be a ``{language: text}`` dict, shown in the reader's language), ``link`` is the
    path the reader opens. ``source`` (an event key) notifies each user at most once
    per channel; ``new_source`` says it was just written, so nobody was told yet.
    Call inside the change's transaction."""
    kind = kind_of(kind)
    unique = {u.pk: u for u in users if u is not None and u.is_active}
    if not unique:
        return []
    prefs = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(user_id__in=list(unique))
    }
    base = dict(context or {})
    done = (
        set(
            Notification.objects.filter(source=source).values_list("user_id", "channel")
        )
        if source and not new_source
        else set()
    )
    rows = [
        Notification(
            user=user,
            kind=kind,
            channel=channel,
            context=base,
            subject=subject,
            link=link,
            source=source,
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
    for pk in notification_ids:
        queue_task(DELIVER_TASK, pk, group="notifications")


def notifications_catch_up(*, now: dt.datetime | None = None) -> int:
    """Run every registered catch-up sweep (scheduled every minute). Returns how
    many events they notified."""
    now = now or timezone.now()
    return sum(sweep(now) for sweep in list(_catch_ups.values()))


def sweep_position(name: str) -> int:
    """Where the sweep ``name`` stopped (0 before its first run)."""
    return (
        SweepCursor.objects.filter(name=name).values_list("position", flat=True).first()
        or 0
    )


def sweep_advance(name: str, position: int) -> None:
    """Record that the sweep ``name`` has read up to ``position``."""
    SweepCursor.objects.update_or_create(name=name, defaults={"position": position})


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


def notification_mark_read_for_subject(*, user: Any, subject: str) -> int:
    """Opening a subject's page reads the user's notifications about it."""
    if not subject:
        return 0
    return (
        Notification.objects.unread()
        .filter(user_id=user.pk, subject=subject)
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
    message = render(notification, language=user.language or None)
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
            .select_related("user")
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
