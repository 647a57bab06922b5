"""The outbox and delivery, through the services, against a local receiver."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from invoiceportal.notifications.messages import render
from invoiceportal.notifications.models import Notification
from tests.factories import UserFactory, make_invoice
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent
from webhooks.services import (
    retry_delay,
    webhook_delivery_attempt,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_resume,
    webhook_event_record,
    webhooks_dispatch,
)
from webhooks.transport import webhook_signature_valid

from .helpers import decide, withdraw

pytestmark = pytest.mark.django_db

ALL = ["invoice.decided", "invoice.needs_info", "invoice.withdrawn", "task.breached"]


class Boom(Exception):
    pass


def _endpoint(admin, organization, url, events=ALL):
    endpoint, secret = webhook_endpoint_create(
        actor=admin, organization=organization, url=url, events=events
    )
    return endpoint, secret


def _closed_port_url() -> str:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/hook"


def test_a_decision_writes_the_event_in_its_transaction(
    private_allowed, admin_user, organization, submitter, receiver
):
    endpoint, _secret = _endpoint(admin_user, organization, receiver.url)
    invoice = decide(make_invoice(organization, submitter))
    event = WebhookEvent.objects.get()
    assert event.type == "invoice.decided"
    assert event.data["invoice"]["reference"] == invoice.reference
    assert event.data["invoice"]["status"] == "approved"
    assert event.data["previous_status"] == "screening"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.state) == (endpoint, DeliveryState.PENDING)


def test_a_rolled_back_decision_writes_no_outbox_row(
    private_allowed, admin_user, organization, submitter, receiver
):
    _endpoint(admin_user, organization, receiver.url)
    invoice = make_invoice(organization, submitter)
    with pytest.raises(Boom), transaction.atomic():
        decide(invoice)
        assert WebhookEvent.objects.count() == 1  # written inside the transaction
        raise Boom
    assert WebhookEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_only_subscribed_active_endpoints_of_the_organization_get_events(
    private_allowed, admin_user, organization, other_organization, submitter, receiver
):
    decided_only, _ = _endpoint(
        admin_user, organization, receiver.url, ["invoice.decided"]
    )
    withdrawn_only, _ = _endpoint(
        admin_user, organization, receiver.url, ["invoice.withdrawn"]
    )
    _endpoint(admin_user, other_organization, receiver.url)  # another organization
    inactive, _ = _endpoint(admin_user, organization, receiver.url)
    inactive.active = False
    inactive.save()

    decide(make_invoice(organization, submitter))
    withdraw(make_invoice(organization, submitter), submitter)

    sent = sorted(WebhookDelivery.objects.values_list("event__type", "endpoint_id"))
    assert sent == [
        ("invoice.decided", decided_only.pk),
        ("invoice.withdrawn", withdrawn_only.pk),
    ]


def test_no_endpoint_no_event(organization, submitter):
    decide(make_invoice(organization, submitter))
    assert WebhookEvent.objects.count() == 0


def test_task_breached_is_recorded_by_the_reviews_call(
    private_allowed, admin_user, organization, submitter, receiver
):
    _endpoint(admin_user, organization, receiver.url)
    invoice = make_invoice(organization, submitter)
    due = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    with transaction.atomic():
        event = webhook_event_record(
            event_type="task.breached",
            invoice=invoice,
            data={"task": {"id": 7, "stage": "first", "due_at": due}},
        )
    assert event.type == "task.breached"
    assert event.data["task"]["due_at"] == due.isoformat().replace("+00:00", "Z")
    assert event.data["task"]["id"] == 7
    assert event.data["invoice"]["reference"] == invoice.reference
    with pytest.raises(ValueError), transaction.atomic():
        webhook_event_record(event_type="invoice.paid", invoice=invoice)


def test_delivery_is_signed_and_sent_on_commit(
    private_allowed,
    admin_user,
    organization,
    submitter,
    receiver,
    django_capture_on_commit_callbacks,
):
    _endpoint_obj, secret = _endpoint(admin_user, organization, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = decide(make_invoice(organization, submitter))
    [request] = receiver.received()
    assert request.path == "/hooks/erp"
    timestamp = request.headers["X-Webhook-Timestamp"]
    assert webhook_signature_valid(
        secret, timestamp, request.body, request.headers["X-Signature"]
    )
    body = json.loads(request.body)
    assert body["type"] == request.headers["X-Webhook-Event"] == "invoice.decided"
    assert body["id"] == request.headers["X-Webhook-Id"]
    assert body["organization"]["tax_id"] == organization.tax_id
    assert body["data"]["invoice"]["reference"] == invoice.reference
    assert body["data"]["invoice"]["total_amount"] == "4449.00"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 1 and delivery.response_status == 200
    # Sending it again changes nothing: it is not due any more.
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "not_due"
    assert len(receiver.received()) == 1


def test_backoff_schedule_doubles_up_to_an_hour(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    minutes = [retry_delay(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_delay(500) == dt.timedelta(hours=1)


def test_failures_retry_with_backoff_then_pause_and_notify_admins_after_24h(
    private_allowed, settings, admin_user, organization, other_organization, submitter
):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    settings.WEBHOOKS_RETRY_MAX_SECONDS = 3600
    org_admin = UserFactory(role=Role.ADMIN, organization=organization)
    elsewhere = UserFactory(role=Role.ADMIN, organization=other_organization)
    endpoint, _ = _endpoint(admin_user, organization, _closed_port_url())
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        decide(make_invoice(organization, submitter))
        delivery = WebhookDelivery.objects.get()
        waits = []
        outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
        while outcome == "retry":
            delivery.refresh_from_db()
            assert delivery.last_error_code == "connection"
            waits.append(delivery.next_attempt_at - timezone.now())
            # Not due before its time: neither the task nor the sweep sends it.
            assert webhook_delivery_attempt(delivery_id=delivery.pk) == "not_due"
            assert webhooks_dispatch() == 0
            clock.move_to(delivery.next_attempt_at)
            outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
        assert outcome == "gave_up"
        assert timezone.now() - start == dt.timedelta(hours=24)

    minutes = [w.total_seconds() / 60 for w in waits]
    assert minutes[:8] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert sum(minutes) == 24 * 60
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == len(waits) + 1
    assert delivery.attempt_log.count() == delivery.attempts
    endpoint.refresh_from_db()
    assert endpoint.paused and "failed for 24 h" in endpoint.pause_reason
    told = set(
        Notification.objects.filter(kind="webhook_paused").values_list(
            "user_id", flat=True
        )
    )
    assert told == {admin_user.pk, org_admin.pk}
    message = render(Notification.objects.filter(kind="webhook_paused").first())
    assert message.title == f"Webhook endpoint paused: {endpoint.url}"
    assert "failed for 24 hours" in message.body
    assert message.url == f"/webhooks/{endpoint.pk}/deliveries/"
    assert elsewhere.pk not in told

    # Paused, the endpoint keeps collecting events but sends nothing ...
    decide(make_invoice(organization, submitter))
    held = WebhookDelivery.objects.filter(state=DeliveryState.PENDING).get()
    assert webhook_delivery_attempt(delivery_id=held.pk) == "held"
    assert webhooks_dispatch() == 0
    # ... until an admin resumes it.
    assert webhook_endpoint_resume(actor=admin_user, endpoint=endpoint) == 1
    assert webhooks_dispatch() == 1


def test_replay_sends_a_delivered_event_again(
    private_allowed,
    admin_user,
    organization,
    submitter,
    receiver,
    django_capture_on_commit_callbacks,
):
    _endpoint(admin_user, organization, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        decide(make_invoice(organization, submitter))
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery_replay(actor=admin_user, delivery=delivery)
    first, second = receiver.received()
    assert first.body == second.body
    assert first.headers["X-Webhook-Id"] == second.headers["X-Webhook-Id"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(
    private_allowed, admin_user, organization, submitter, receiver
):
    _endpoint(admin_user, organization, receiver.url)
    decide(make_invoice(organization, submitter))
    delivery = WebhookDelivery.objects.get()
    # Another worker holds the claim (its lease runs for a minute).
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING,
        claimed_until=timezone.now() + dt.timedelta(seconds=60),
    )
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "not_due"
    assert not webhook_delivery_replay(actor=admin_user, delivery=delivery)
    assert receiver.received() == []
    # The worker died: after the lease, the delivery is taken over.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        assert webhooks_dispatch() == 1  # the queued task runs inline here
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert len(receiver.received()) == 1
