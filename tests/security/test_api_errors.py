"""Hostile or unlucky requests answer 4xx or 503 in the API's shape, never a 500 or
an HTML page (issue 16, low findings)."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import get_resolver

from invoiceportal.common.task_queue import forget_broker
from invoiceportal.invoices.intake import (
    NOT_QUEUED,
    REQUEUED,
    invoices_not_queued,
    requeue_unqueued,
)
from invoiceportal.invoices.models import Invoice, TimelineEvent
from tests.conftest import api_as
from tests.docgen.xml_doc import make_xml
from tests.invoices.test_intake_api import digital_invoice, stored_counts, upload

URL = "/api/v1/invoices/"


def assert_api_error(response, http_status: int, code: str | None = None) -> dict:
    assert response.status_code == http_status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def manual_body(submitter, seed: int = 41) -> dict:
    truth = digital_invoice(seed, submitter.organization)
    return {
        "kind": "digital_special",
        "number": truth.number,
        "issue_date": truth.issue_date.isoformat(),
        "seller_name": truth.seller_name,
        "seller_tax_id": truth.seller_tax_id,
        "buyer_name": submitter.organization.name,
        "buyer_tax_id": submitter.organization.tax_id,
        "amount": "100.00",
        "tax_amount": "13.00",
        "total_amount": "113.00",
    }


# --- the error shape everywhere under /api/ ---------------------------------------


@pytest.mark.django_db
def test_an_unknown_api_route_answers_json(submitter):
    assert_api_error(api_as(submitter).get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_api_error(api_as(submitter).post("/api/nothing", {}), 404, "not_found")


@pytest.mark.django_db
def test_an_unknown_page_still_answers_a_page(client, submitter):
    client.force_login(submitter)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_server_errors_on_api_paths_answer_json():
    handler = get_resolver().resolve_error_handler(500)
    api = handler(RequestFactory().get("/api/v1/invoices/"))
    page = handler(RequestFactory().get("/invoices/"))
    assert api.status_code == page.status_code == 500
    body = json.loads(api.content)
    assert body["code"] == "server_error" and set(body) == {
        "code",
        "message",
        "details",
    }
    assert page["Content-Type"].startswith("text/html")
    bad = get_resolver().resolve_error_handler(400)
    assert json.loads(bad(RequestFactory().get("/api/v1/"), None).content)["code"] == (
        "bad_request"
    )


@pytest.mark.django_db
def test_oversized_json_answers_413_json(submitter):
    body = json.dumps({"remarks": "x" * (3 * 1024 * 1024)})
    response = api_as(submitter).post(URL, body, content_type="application/json")
    assert_api_error(response, 413, "request_too_large")


@pytest.mark.django_db
def test_json_nested_100k_deep_answers_400(submitter):
    body = "[" * 100_000 + "]" * 100_000
    response = api_as(submitter).post(URL, body, content_type="application/json")
    assert_api_error(response, 400, "invalid_json")
    assert Invoice.objects.count() == 0


# --- hostile values ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"number": "1" * 25},
        {"amount": __import__("decimal").Decimal("9" * 30)},
        {"total_amount": __import__("decimal").Decimal("1" * 28 + ".25")},
    ],
    ids=["25-digit number", "30-digit amount", "30-digit total"],
)
def test_values_too_large_for_an_invoice_are_refused_not_a_500(submitter, change):
    truth = digital_invoice(42, submitter.organization)
    for key, value in change.items():
        setattr(truth, key, value)
    before = stored_counts()

    response = upload(api_as(submitter), make_xml(truth))

    assert_api_error(response, 422, "value_out_of_range")
    assert stored_counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["1" * 25, "1" * 30], ids=["25 digits", "30 digits"])
def test_long_numbers_typed_in_are_refused(submitter, number):
    body = manual_body(submitter) | {"number": number, "amount": "1" * 30}
    response = api_as(submitter).post(URL, body, format="json")
    assert_api_error(response, 400, "invalid")


# --- Idempotency-Key -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["abc\x00def", "line\nbreak", "x" * 129, "ключ"], ids=str.__len__
)
def test_an_unusable_idempotency_key_is_refused(submitter, key):
    data = make_xml(digital_invoice(43, submitter.organization))
    response = upload(api_as(submitter), data, HTTP_IDEMPOTENCY_KEY=key)
    assert_api_error(response, 400, "invalid_idempotency_key")
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
def test_a_key_of_128_characters_is_kept_whole(submitter):
    key = "k" * 127 + "!"
    data = make_xml(digital_invoice(44, submitter.organization))
    response = upload(api_as(submitter), data, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    assert Invoice.objects.get().idempotency_key == key


@pytest.mark.django_db
def test_a_reused_key_with_another_body_is_refused_with_422(submitter):
    client = api_as(submitter)
    body = manual_body(submitter)
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    changed = client.post(
        URL, body | {"total_amount": "114.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert first.status_code == 201
    assert again.status_code == 200 and again.json()["outcome"] == "same_key"
    assert_api_error(changed, 422, "idempotency_key_reused")
    assert Invoice.objects.count() == 1


# --- the broker down at upload time --------------------------------------------------


class DownBroker:
    """A django-q2 broker whose server does not answer (outside our walls)."""

    def enqueue(self, task):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    def ping(self):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_201_when_the_broker_is_down_and_is_queued_later(
    submitter, monkeypatch
):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)  # the test settings run tasks inline
    data = make_xml(digital_invoice(45, submitter.organization))
    forget_broker()  # the process's broker is made again, from the one down
    with monkeypatch.context() as down:
        down.setattr("django_q.brokers.get_broker", lambda *a, **k: DownBroker())

        response = upload(api_as(submitter), data)

        assert response.status_code == 201, response.content[:300]
        invoice = Invoice.objects.get(pk=response.json()["id"])
        assert TimelineEvent.objects.filter(
            invoice=invoice, code=NOT_QUEUED, visible_to_submitter=False
        ).exists()
        assert list(invoices_not_queued()) == [invoice]
        assert requeue_unqueued() == []  # still down: nothing marked as queued

    # the broker is back (the ORM broker of the test settings)
    forget_broker()
    assert requeue_unqueued() == [str(invoice.pk)]
    assert TimelineEvent.objects.filter(invoice=invoice, code=REQUEUED).exists()
    assert list(invoices_not_queued()) == []
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_readyz_reports_the_database_and_the_broker(client, monkeypatch):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["broker"]["ok"] is True
    assert ready.json()["checks"]["database"]["ok"] is True

    monkeypatch.setattr("django_q.brokers.get_broker", lambda *a, **k: DownBroker())
    forget_broker()  # the probe uses the process's broker: made again, now down
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["broker"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": down.json()["checks"]["broker"]["ms"],
    }
    assert client.get("/healthz").status_code == 200


def test_the_screening_sweeps_run_every_minute_or_two():
    from reviews.schedules import SCHEDULES

    assert SCHEDULES["screening-sweep"][1] <= 2
    assert SCHEDULES["screening-requeue"] == (
        "invoiceportal.invoices.tasks.requeue_unqueued_task",
        1,
    )


# --- the database connection killed under a request (PostgreSQL) ------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL's pg_terminate_backend (set DATABASE_URL=postgres://...)",
)
@pytest.mark.django_db(transaction=True)
def test_a_terminated_backend_answers_503_json_then_reconnects(submitter):
    import psycopg
    from django.conf import settings

    client = api_as(submitter)
    assert client.get(URL).status_code == 200
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]

    def terminate():
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"],
            user=db["USER"],
            dbname=db["NAME"],
            password=db.get("PASSWORD") or None,
            autocommit=True,
        ) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    thread = threading.Thread(target=terminate)
    thread.start()
    thread.join()

    assert_api_error(client.get(URL), 503, "database_unavailable")
    assert client.get(URL).status_code == 200  # reconnected
