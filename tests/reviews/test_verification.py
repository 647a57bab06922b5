"""The HTTP verifier against a fake provider on a local port (the provider is outside
our walls); the local verifier against the imported registry."""

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from invoiceportal.invoices.extraction.types import ExtractedInvoice, InvoiceKind
from reviews.checks.base import REGISTRY_NOT_FOUND, REGISTRY_UNAVAILABLE, RegistryStatus
from reviews.registry_import import registry_import
from reviews.verification import HttpVerifier, LocalRegistryVerifier


def digital(number="24112000000048542163"):
    return ExtractedInvoice(
        kind=InvoiceKind.DIGITAL_SPECIAL,
        number=number,
        issue_date=dt.date(2024, 5, 28),
        total_amount=Decimal("4449.00"),
    )


class FakeProvider:
    """Answers the queued (status, body) pairs in order; records the requests."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                provider.requests.append(json.loads(self.rfile.read(length)))
                status, body, delay = provider.answers.pop(0)
                if delay:
                    threading.Event().wait(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/verify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider_factory():
    providers = []

    def make(*answers):
        provider = FakeProvider(answers)
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        provider.close()


def test_normal_answer_is_mapped_with_its_fields(provider_factory):
    provider = provider_factory(
        (
            200,
            {
                "status": "normal",
                "number": "24112000000048542163",
                "total_amount": "4449.00",
                "issue_date": "2024-05-28",
            },
            0,
        )
    )
    answer = HttpVerifier(url=provider.url, backoff=0).verify(digital())
    assert answer.status is RegistryStatus.NORMAL
    assert answer.total_amount == Decimal("4449.00")
    assert answer.issue_date == dt.date(2024, 5, 28)
    # 数电票 are verified by number, date and 价税合计.
    assert provider.requests == [
        {
            "code": "",
            "number": "24112000000048542163",
            "issue_date": "2024-05-28",
            "total_amount": "4449.00",
        }
    ]


def test_void_and_not_found(provider_factory):
    provider = provider_factory(
        (200, {"status": "void"}, 0), (404, {"status": "not_found"}, 0)
    )
    verifier = HttpVerifier(url=provider.url, backoff=0)
    assert verifier.verify(digital()).status is RegistryStatus.VOID
    assert verifier.verify(digital()) == REGISTRY_NOT_FOUND


def test_server_errors_are_retried_then_succeed(provider_factory):
    provider = provider_factory(
        (503, {}, 0), (502, {}, 0), (200, {"status": "normal"}, 0)
    )
    answer = HttpVerifier(url=provider.url, attempts=3, backoff=0).verify(digital())
    assert answer.status is RegistryStatus.NORMAL
    assert len(provider.requests) == 3


def test_persistent_failure_is_unavailable_never_a_rejection(provider_factory):
    provider = provider_factory((500, {}, 0), (500, {}, 0))
    answer = HttpVerifier(url=provider.url, attempts=2, backoff=0).verify(digital())
    assert answer == REGISTRY_UNAVAILABLE


def test_a_slow_provider_times_out_as_unavailable(provider_factory):
    provider = provider_factory((200, {"status": "normal"}, 1.0))
    verifier = HttpVerifier(url=provider.url, timeout=0.2, attempts=1, backoff=0)
    assert verifier.verify(digital()) == REGISTRY_UNAVAILABLE


def test_nobody_listening_is_unavailable():
    verifier = HttpVerifier(url="http://127.0.0.1:9/verify", attempts=1, timeout=0.5)
    assert verifier.verify(digital()) == REGISTRY_UNAVAILABLE


def test_garbage_answer_is_unavailable(provider_factory):
    provider = provider_factory((200, {"status": "maybe"}, 0))
    verifier = HttpVerifier(url=provider.url, attempts=1)
    assert verifier.verify(digital()) == REGISTRY_UNAVAILABLE


CSV = (
    "code,number,issue_date,seller_tax_id,buyer_tax_id,amount,tax_amount,"
    "total_amount,check_code,status\n"
    ",24112000000048542163,2024-05-28,91110108690017781B,914403001922038216,"
    "4197.17,251.83,4449.00,,normal\n"
    "033002000211,12345678,2020-06-01,914403001922038216,91110108551385082Q,"
    "100.00,13.00,113.00,12345678901234567890,void\n"
    ",123,2024-05-28,,,1,1,1,,normal\n"
    ",24112000000048542164,28/05/2024,,,1,1,1,,normal\n"
    ",24112000000048542165,2024-05-28,,,1.001,1,1,,normal\n"
    ",24112000000048542166,2024-05-28,,,1,1,1,,lost\n"
)


@pytest.mark.django_db
def test_registry_import_keeps_good_rows_and_reports_bad_ones():
    report = registry_import(actor=None, data=CSV.encode())
    assert (report.created, report.updated) == (2, 0)
    assert [e.line for e in report.errors] == [4, 5, 6, 7]
    verifier = LocalRegistryVerifier()
    assert verifier.verify(digital()).status is RegistryStatus.NORMAL
    legacy = ExtractedInvoice(
        kind=InvoiceKind.E_ORDINARY, code="033002000211", number="12345678"
    )
    assert verifier.verify(legacy).status is RegistryStatus.VOID
    assert verifier.verify(digital("24112000000048542199")) == REGISTRY_NOT_FOUND
    again = registry_import(actor=None, data=CSV.encode())
    assert (again.created, again.updated) == (0, 2)


@pytest.mark.django_db
def test_registry_import_refuses_a_file_without_the_columns():
    report = registry_import(actor=None, data=b"number,total\n1,2\n")
    assert report.created == 0
    assert "Missing columns" in report.errors[0].message_en


@pytest.mark.django_db
def test_only_admins_import_the_registry(submitter):
    from invoiceportal.common.errors import PermissionDeniedError
    from reviews.models import RegistryRecord

    with pytest.raises(PermissionDeniedError):
        registry_import(actor=submitter, data=CSV.encode())
    assert RegistryRecord.objects.count() == 0
