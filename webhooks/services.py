"""Webhook services: endpoints (audited), the outbox, delivery with retries.

Events are written by ``webhook_event_record`` inside the transaction of the change
they report: one ``WebhookEvent`` and one ``WebhookDelivery`` per endpoint of the
organization that subscribed to the event, so a rolled-back change leaves nothing to
send. Delivery is queued on commit (a django-q2 task per delivery) and swept every
minute (``webhooks_dispatch``): retries, lost tasks, endpoints resumed.

A worker claims a delivery with one conditional UPDATE on the delivery's own row
(``pending`` and due, or ``sending`` with an expired lease); only the worker whose
update changed the row sends, so a delivery is never sent twice at the same time.
Sending happens outside any transaction; the outcome is recorded afterwards.

Failures are retried with exponential backoff (``WEBHOOKS_RETRY_BASE_SECONDS``,
doubled per failure, at most ``WEBHOOKS_RETRY_MAX_SECONDS``) for
``WEBHOOKS_RETRY_HOURS`` from the first attempt; then the delivery gives up, the
endpoint is paused (it keeps collecting events) and the organization's
administrators are notified.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from accounts.roles import Perm, Role, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.compiled import CompiledQuery
from invoiceportal.common.errors import ApplicationError, NotFoundError
from invoiceportal.common.task_queue import queue_task
from invoiceportal.invoices.hooks import InvoiceChange
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from invoiceportal.notifications.services import notify

from .models import (
    DeliveryState,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from .transport import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AddressRefused,
    check_webhook_url,
    webhook_post,
    webhook_signature,
)

logger = logging.getLogger(__name__)

DELIVER_TASK = "webhooks.tasks.deliver_task"
# A claimed delivery another worker may take over once this has passed (the worker
# died mid-send). Far longer than one request (5 s).
CLAIM_LEASE = dt.timedelta(seconds=60)
DISPATCH_LIMIT = 500
EVENT_TYPES = EventType.values

# The invoice status a transition reaches -> the event it sends.
TRANSITION_EVENTS = {
    InvoiceStatus.APPROVED: EventType.INVOICE_DECIDED,
    InvoiceStatus.REJECTED: EventType.INVOICE_DECIDED,
    InvoiceStatus.NEEDS_INFO: EventType.INVOICE_NEEDS_INFO,
    InvoiceStatus.WITHDRAWN: EventType.INVOICE_WITHDRAWN,
}


# ------------------------------------------------------------------ access


def manageable_organizations(user: Any) -> QuerySet[Organization]:
    """The organizations whose endpoints ``user`` administers: all of them for a
    portal administrator (no organization) or a superuser, else their own."""
    if not user_can(user, Perm.ADMINISTER):
        return Organization.objects.none()
    if user.is_superuser or user.organization_id is None:
        return Organization.objects.all()
    return Organization.objects.filter(pk=user.organization_id)


def endpoints_visible_to(user: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(
        organization__in=manageable_organizations(user)
    ).select_related("organization")


def webhook_endpoint_get_for_user(*, user: Any, endpoint_id: Any) -> WebhookEndpoint:
    """The endpoint, or NotFoundError for a missing one and someone else's alike
    (an identifier that is not a number included)."""
    if not str(endpoint_id).isdigit():
        raise NotFoundError(_("No such webhook endpoint."))
    found = endpoints_visible_to(user).filter(pk=endpoint_id).first()
    if found is None:
        raise NotFoundError(_("No such webhook endpoint."))
    return found


def webhook_delivery_get_for_user(*, user: Any, delivery_id: Any) -> WebhookDelivery:
    if not str(delivery_id).isdigit():
        raise NotFoundError(_("No such webhook delivery."))
    found = (
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            endpoint__organization__in=manageable_organizations(user),
        )
        .select_related("endpoint", "event")
        .first()
    )
    if found is None:
        raise NotFoundError(_("No such webhook delivery."))
    return found


# ------------------------------------------------------------------ endpoints


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def clean_events(events: Any) -> list[str]:
    """A non-empty list of known event names, each once, in the catalogue's order."""
    if not isinstance(events, list | tuple) or not all(
        isinstance(e, str) for e in events
    ):
        raise ValidationError(
            {"events": [_("Give the events as a list of event names.")]}
        )
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationError(
            {
                "events": [
                    _("Unknown event: %(names)s. Known events: %(known)s.")
                    % {"names": ", ".join(unknown), "known": ", ".join(EVENT_TYPES)}
                ]
            }
        )
    if not events:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    return [e for e in EVENT_TYPES if e in events]


def clean_url(url: str) -> str:
    """The URL, if webhooks may be sent there (scheme, every resolved address)."""
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationError(
            {"url": [_("The address is longer than 500 characters.")]}
        )
    try:
        check_webhook_url(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES)
    except AddressRefused as exc:
        raise ApplicationError(
            exc.message,
            code=exc.code,
            details={"url": [str(exc.message)], **(exc.details or {})},
        ) from None
    return url


def _endpoint_audit(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "organization": endpoint.organization_id,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
    }


def webhook_endpoint_create(
    *,
    actor: Any,
    organization: Organization,
    url: str,
    events: Iterable[str],
    active: bool = True,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret (shown only now)."""
    if not manageable_organizations(actor).filter(pk=organization.pk).exists():
        raise ValidationError(
            {"organization": [_("Choose an organization you administer.")]}
        )
    events = clean_events(list(events))
    url = clean_url(url)
    secret = new_secret()
    with transaction.atomic(durable=True):
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            events=events,
            active=active,
            description=description.strip()[:200],
            secret=secret,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="webhooks.endpoint_created",
            obj=endpoint,
            data=_endpoint_audit(endpoint),
        )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    actor: Any,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Change an endpoint (the caller fetched it with the access helper)."""
    changes: dict[str, Any] = {}
    if url is not None:
        changes["url"] = clean_url(url)
    if events is not None:
        changes["events"] = clean_events(list(events))
    if active is not None:
        changes["active"] = bool(active)
    if description is not None:
        changes["description"] = description.strip()[:200]
    with transaction.atomic(durable=True):
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.save()
        audit_record(
            actor=actor,
            action="webhooks.endpoint_updated",
            obj=locked,
            data={"changed": sorted(changes), **_endpoint_audit(locked)},
        )
    return locked


def webhook_endpoint_rotate_secret(*, actor: Any, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, effective at once; returned only this once."""
    secret = new_secret()
    with transaction.atomic(durable=True):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            secret=secret, updated_at=timezone.now()
        )
        audit_record(actor=actor, action="webhooks.secret_rotated", obj=endpoint)
    endpoint.secret = secret
    return secret


def webhook_endpoint_resume(*, actor: Any, endpoint: WebhookEndpoint) -> int:
    """Resume a paused endpoint: the deliveries it collected go out now, each with
    a fresh retry window. Returns how many were queued."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        was_paused = locked.paused_at is not None
        locked.paused_at = None
        locked.pause_reason = ""
        locked.save(update_fields=["paused_at", "pause_reason", "updated_at"])
        waiting = WebhookDelivery.objects.filter(
            endpoint=locked, state=DeliveryState.PENDING
        )
        ids = list(waiting.values_list("pk", flat=True))
        waiting.update(next_attempt_at=now, first_attempt_at=None)
        audit_record(
            actor=actor,
            action="webhooks.endpoint_resumed",
            obj=locked,
            data={"was_paused": was_paused, "queued": len(ids)},
        )
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    endpoint.paused_at = None
    endpoint.pause_reason = ""
    return len(ids)


def _administrators_of(organization_id: int) -> list[User]:
    """Who hears that an endpoint was paused: the organization's administrators and
    the portal's (no organization), superusers included."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.ADMIN) | Q(is_superuser=True))
        .filter(Q(organization_id=organization_id) | Q(organization__isnull=True))
        .order_by("pk")
    )


def _pause(endpoint: WebhookEndpoint, *, delivery: WebhookDelivery, now: Any) -> None:
    """Pause the endpoint and tell its administrators (in the caller's transaction;
    the endpoint row is locked by the caller)."""
    if endpoint.paused_at is not None:
        return
    hours = settings.WEBHOOKS_RETRY_HOURS
    endpoint.paused_at = now
    endpoint.pause_reason = (
        f"Delivery {delivery.pk} ({delivery.event.type}) failed for {hours:g} h: "
        f"{delivery.last_error}"
    )[:2000]
    endpoint.save(update_fields=["paused_at", "pause_reason", "updated_at"])
    audit_record(
        actor=None,
        action="webhooks.endpoint_paused",
        obj=endpoint,
        data={"delivery": delivery.pk, "error": delivery.last_error[:500]},
    )
    notify(
        users=_administrators_of(endpoint.organization_id),
        kind="webhook_paused",
        context={
            "url": endpoint.url,
            "organization": endpoint.organization.name,
            "hours": f"{hours:g}",
            "reason": delivery.last_error[:300],
        },
        link=reverse("webhooks:deliveries", args=[endpoint.pk]),
        subject=f"webhook-endpoint:{endpoint.pk}",
        source=f"webhook-paused:{endpoint.pk}:{int(now.timestamp())}",
        new_source=True,
    )


# ------------------------------------------------------------------ the outbox


def _json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    """What an event says about an invoice (the API's field names)."""
    return _json_ready(
        {
            "id": invoice.pk,
            "reference": invoice.reference,
            "status": invoice.status,
            "decision_source": invoice.decision_source,
            "decision_reason": invoice.decision_reason,
            "kind": invoice.kind,
            "code": invoice.code,
            "number": invoice.number,
            "issue_date": invoice.issue_date,
            "seller_name": invoice.seller_name,
            "seller_tax_id": invoice.seller_tax_id,
            "buyer_name": invoice.buyer_name,
            "buyer_tax_id": invoice.buyer_tax_id,
            "amount": invoice.amount,
            "tax_amount": invoice.tax_amount,
            "total_amount": invoice.total_amount,
            "submitted_at": invoice.submitted_at,
            "decided_at": invoice.decided_at,
        }
    )


# Asked at every decision (most organizations have no endpoint): compiled once.
_RECEIVING = CompiledQuery(
    lambda organization_id: WebhookEndpoint.objects.receiving().filter(
        organization_id=organization_id
    ),
    "organization_id",
)


def webhook_event_record(
    *,
    event_type: str,
    invoice: Invoice | None = None,
    organization_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> WebhookEvent | None:
    """Write ``event_type`` to the outbox, in the caller's transaction, for every
    active endpoint of the organization that subscribed to it (None when none did).

    ``invoice`` (or ``organization_id``) names the organization; the invoice's
    fields are added to ``data`` as ``data["invoice"]``. Dates and decimals in
    ``data`` are stored as ISO strings and strings.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "webhook_event_record must run inside the change's transaction."
        )
    event_type = EventType(event_type)
    if invoice is not None:
        organization_id = invoice.organization_id
    if organization_id is None:
        raise ValueError("webhook_event_record needs an invoice or an organization_id.")
    endpoints = [
        e
        for e in _RECEIVING.objects(organization_id=organization_id)
        if e.wants(event_type)
    ]
    if not endpoints:
        return None
    payload = dict(data or {})
    if invoice is not None:
        payload.setdefault("invoice", invoice_data(invoice))
    now = timezone.now()
    event = WebhookEvent.objects.create(
        organization_id=organization_id,
        type=event_type,
        data=_json_ready(payload),
        invoice=invoice,
        created_at=now,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
            )
            for endpoint in endpoints
        ]
    )
    ids = [d.pk for d in deliveries if not d.endpoint.paused]
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return event


def webhook_record_invoice_change(change: InvoiceChange) -> None:
    """The transition hook (registered in ``WebhooksConfig.ready``): decisions,
    requests for information and withdrawals become events."""
    event_type = TRANSITION_EVENTS.get(change.event.status)
    if event_type is None:
        return
    event = change.event
    data: dict[str, Any] = {
        "previous_status": change.previous,
        "timeline": {"code": event.code, "at": event.at},
    }
    if event_type == EventType.INVOICE_NEEDS_INFO:
        params = event.params or {}
        data["question"] = params.get("question") or event.note
    webhook_event_record(event_type=event_type, invoice=change.invoice, data=data)


# ------------------------------------------------------------------ delivery


def _claimable(now: dt.datetime) -> Q:
    """Deliveries a worker may take: pending and due, or claimed by a worker whose
    lease ran out."""
    return Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) | Q(
        state=DeliveryState.SENDING, claimed_until__lt=now
    )


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    for pk in delivery_ids:
        queue_task(DELIVER_TASK, pk, group="webhooks")


def retry_delay(failures: int) -> dt.timedelta:
    """The wait after the ``failures``-th failed attempt: base, doubled each time,
    capped (60 s, 2, 4, 8, 16, 32 min, then hourly with the defaults)."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    cap = settings.WEBHOOKS_RETRY_MAX_SECONDS
    exponent = max(0, failures - 1)
    seconds = cap if exponent >= 32 else min(cap, base * 2**exponent)
    return dt.timedelta(seconds=seconds)


def webhook_body(event: WebhookEvent) -> bytes:
    """The JSON body of an event: the same bytes on every attempt."""
    organization = event.organization
    envelope = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "organization": {"id": organization.pk, "tax_id": organization.tax_id},
        "data": event.data,
    }
    return json.dumps(
        envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()


def webhook_headers(*, event: WebhookEvent, secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        EVENT_ID_HEADER: str(event.id),
        EVENT_TYPE_HEADER: event.type,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(secret, timestamp, body),
    }


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """Claim, send and record one delivery. Returns what happened: ``delivered``,
    ``retry``, ``gave_up``, ``held`` (endpoint inactive or paused) or
    ``not_due`` (delivered already, not due yet, or claimed by another worker)."""
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .select_related("endpoint", "event", "event__organization")
        .first()
    )
    if delivery is None:
        return "not_due"
    endpoint = delivery.endpoint
    if not endpoint.active or endpoint.paused:
        return "held"
    # The claim: one conditional UPDATE of this row only. Whoever changes it sends.
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(_claimable(now))
        .update(
            state=DeliveryState.SENDING,
            claimed_until=now + CLAIM_LEASE,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            first_attempt_at=Coalesce(F("first_attempt_at"), Value(now)),
        )
    )
    if not claimed:
        return "not_due"
    body = webhook_body(delivery.event)
    headers = webhook_headers(event=delivery.event, secret=endpoint.secret, body=body)
    result = webhook_post(
        endpoint.url,
        body,
        headers,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES,
    )
    return _record(delivery_id, result)


def _record(delivery_id: int, result: Any) -> str:
    now = timezone.now()
    with transaction.atomic(durable=True):
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "endpoint__organization", "event")
            .get(pk=delivery_id)
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=delivery.last_attempt_at or now,
            response_status=result.status,
            error_code=result.error_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        delivery.response_status = result.status
        delivery.last_error_code = result.error_code
        delivery.last_error = result.error
        delivery.claimed_until = None
        if result.delivered:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            outcome = "delivered"
        else:
            window_end = (delivery.first_attempt_at or now) + dt.timedelta(
                hours=settings.WEBHOOKS_RETRY_HOURS
            )
            if now >= window_end:
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = None
                outcome = "gave_up"
            else:
                delivery.state = DeliveryState.PENDING
                delivery.next_attempt_at = min(
                    now + retry_delay(delivery.attempts), window_end
                )
                outcome = "retry"
        delivery.save()
        if outcome == "gave_up":
            endpoint = WebhookEndpoint.objects.select_for_update().get(
                pk=delivery.endpoint_id
            )
            _pause(endpoint, delivery=delivery, now=now)
    if outcome != "delivered":
        logger.warning(
            "Webhook delivery %s to %s failed (%s): %s",
            delivery_id,
            delivery.endpoint.url,
            outcome,
            result.error,
        )
    return outcome


def webhook_deliveries_due(*, now: dt.datetime | None = None) -> list[int]:
    """Deliveries to send now: pending and due, or claimed by a worker that did
    not finish (lease over), on active endpoints that are not paused."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            _claimable(now),
            endpoint__active=True,
            endpoint__paused_at__isnull=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:DISPATCH_LIMIT]
    )


def webhooks_dispatch(*, now: dt.datetime | None = None) -> int:
    """Queue every due delivery (scheduled every minute). Returns how many."""
    ids = webhook_deliveries_due(now=now)
    enqueue_deliveries(ids)
    return len(ids)


def webhook_delivery_replay(*, actor: Any, delivery: WebhookDelivery) -> bool:
    """Send a delivery again (delivered or given up, or waiting: at once), with a
    fresh retry window. False when a worker is sending it right now."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        changed = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(state=DeliveryState.SENDING)
            .update(
                state=DeliveryState.PENDING,
                next_attempt_at=now,
                first_attempt_at=None,
                claimed_until=None,
            )
        )
        if not changed:
            return False
        audit_record(
            actor=actor,
            action="webhooks.delivery_replayed",
            obj=delivery.endpoint,
            data={"delivery": delivery.pk, "event": str(delivery.event_id)},
        )
        transaction.on_commit(lambda: enqueue_deliveries([delivery.pk]))
    return True
