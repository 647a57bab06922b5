"""Done means (issue 13, section 4): a receiver on a local port gets a correctly
signed ``invoice.decided`` within 5 s of a decision through a real django-q2
worker, gets it again after being down for a while, and never gets one for a
rolled-back transaction."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction
from django_q.conf import Conf

from tests.factories import make_invoice
from tests.worker import running_worker, wait_for
from webhooks.models import DeliveryState, WebhookDelivery, WebhookEvent
from webhooks.services import webhook_endpoint_create
from webhooks.tasks import ensure_schedules
from webhooks.transport import webhook_signature_valid

from .helpers import decide
from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


@pytest.fixture
def worker_env(monkeypatch, settings):
    """Tasks go to the broker; the worker (a separate process reading the
    environment) may call the local receiver and retries after 1 s."""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("WEBHOOKS_RETRY_BASE_SECONDS", "1")
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True


def _references(receiver: Receiver) -> list[str]:
    return [
        json.loads(r.body)["data"]["invoice"]["reference"] for r in receiver.received()
    ]


def test_receiver_gets_signed_decisions_retries_and_no_rolled_back_ones(
    worker_env, admin_user, organization, submitter
):
    receiver = Receiver().start()
    ensure_schedules()  # the every-minute sweep that sends retries
    _endpoint, secret = webhook_endpoint_create(
        actor=admin_user,
        organization=organization,
        url=receiver.url,
        events=["invoice.decided"],
    )
    rolled_back = make_invoice(organization, submitter)
    first = make_invoice(organization, submitter)
    second = make_invoice(organization, submitter)
    try:
        with running_worker():
            time.sleep(1.5)  # the cluster starts
            with pytest.raises(Boom), transaction.atomic():
                decide(rolled_back)
                raise Boom

            decided_at = time.monotonic()
            decide(first)
            assert wait_for(lambda: len(receiver.received()) >= 1, timeout=5)
            [request] = receiver.received()
            assert request.at - decided_at < 5
            assert webhook_signature_valid(
                secret,
                request.headers["X-Webhook-Timestamp"],
                request.body,
                request.headers["X-Signature"],
            )
            body = json.loads(request.body)
            assert body["type"] == "invoice.decided"
            assert body["data"]["invoice"]["reference"] == first.reference

            # The ERP goes down: the attempt fails and is scheduled again.
            receiver.stop()
            decide(second)
            failed = WebhookDelivery.objects.filter(event__invoice=second)
            assert wait_for(
                lambda: failed.filter(
                    attempts__gte=1, state=DeliveryState.PENDING
                ).exists(),
                timeout=10,
            )
            time.sleep(2)  # down for a while
            receiver.start()  # back, on the same port
            assert wait_for(
                lambda: second.reference in _references(receiver), timeout=75
            )
    finally:
        receiver.stop()

    retried = failed.get()
    assert retried.state == DeliveryState.DELIVERED
    assert retried.attempts >= 2
    assert retried.attempt_log.filter(error_code="connection").exists()
    assert _references(receiver) == [first.reference, second.reference]
    assert rolled_back.reference not in _references(receiver)
    assert not WebhookEvent.objects.filter(invoice=rolled_back).exists()
