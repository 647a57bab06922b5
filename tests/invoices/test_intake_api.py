"""Submitting invoices through the API: files, manual entry, batches, idempotency and
hostile input. Nothing refused may leave anything stored."""

import io
import random
import zipfile
from decimal import Decimal

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.extraction.types import InvoiceKind
from invoiceportal.invoices.models import Document, Invoice, TimelineEvent
from tests.conftest import api_as
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/"


def digital_invoice(seed, organization):
    inv = random_invoice(random.Random(seed), kind=InvoiceKind.DIGITAL_SPECIAL)
    inv.buyer_tax_id = organization.tax_id
    inv.buyer_name = organization.name
    return inv


def upload(client, data, name="invoice.xml", content_type="application/xml", **headers):
    return client.post(
        URL,
        {"file": _file(data, name, content_type)},
        format="multipart",
        **headers,
    )


def _file(data, name, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_counts():
    return (
        Invoice.objects.count(),
        Document.objects.count(),
        TimelineEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def test_xml_upload_creates_a_received_invoice_with_every_field(submitter):
    truth = digital_invoice(1, submitter.organization)
    response = upload(api_as(submitter), make_xml(truth))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "received"
    assert body["reference"].startswith("INV-")
    assert body["number"] == truth.number
    assert body["seller_tax_id"] == truth.seller_tax_id
    assert body["total_amount"] == str(truth.total_amount)
    assert body["kind"] == "digital_special"
    assert len(body["lines"]) == len(truth.lines)
    assert body["lines"][0]["name"] == truth.lines[0].name
    assert [e["status"] for e in body["timeline"]] == ["received"]
    invoice = Invoice.objects.get(pk=body["id"])
    document = invoice.documents.get()
    assert document.format == "xml"
    assert document.file.read() == make_xml(truth)
    assert document.field_readings["number"]["confidence"] == 1.0


def test_an_uploads_answer_is_the_invoice_detail_without_reading_it_back(submitter):
    """The 201 body shows the invoice as its detail does, built from the rows the
    upload wrote: its lines, document, checks and answers are not read back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_as(submitter)
    truth = digital_invoice(5, submitter.organization)
    with CaptureQueriesContext(connection) as queries:
        response = upload(client, make_xml(truth))
    assert response.status_code == 201, response.json()
    read_back = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and any(
            f'FROM "{table}"' in q["sql"]
            for table in (
                "invoices_invoiceline",
                "reviews_checkresult",
                "invoices_answerattachment",
            )
        )
    ]
    assert read_back == []
    body = response.json()
    detail = client.get(f"{URL}{body['id']}/").json()
    assert body.pop("outcome") == "created"
    assert body == detail
    assert [line["name"] for line in body["lines"]] == [
        line.name for line in truth.lines
    ]


def test_ofd_upload_reads_the_same_invoice(submitter):
    truth = digital_invoice(2, submitter.organization)
    response = upload(
        api_as(submitter), make_ofd(truth), "发票.ofd", "application/octet-stream"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["number"] == truth.number


def test_same_idempotency_key_returns_the_first_invoice(submitter):
    client = api_as(submitter)
    data = make_xml(digital_invoice(3, submitter.organization))
    first = upload(client, data, HTTP_IDEMPOTENCY_KEY="abc-123")
    again = upload(client, data, "renamed.xml", HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["outcome"] == "same_key"
    assert Invoice.objects.count() == 1


def test_same_idempotency_key_with_another_file_is_refused(submitter):
    client = api_as(submitter)
    first = upload(
        client,
        make_xml(digital_invoice(3, submitter.organization)),
        HTTP_IDEMPOTENCY_KEY="abc-123",
    )
    again = upload(
        client,
        make_xml(digital_invoice(4, submitter.organization)),
        HTTP_IDEMPOTENCY_KEY="abc-123",
    )
    assert first.status_code == 201
    assert again.status_code == 422
    assert again.json()["code"] == "idempotency_key_reused"
    assert Invoice.objects.count() == 1


def test_same_bytes_from_the_same_organization_return_the_existing_invoice(submitter):
    data = make_xml(digital_invoice(5, submitter.organization))
    client = api_as(submitter)
    first = upload(client, data)
    second = upload(client, data, "copy.xml")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["outcome"] == "same_file"
    assert Invoice.objects.count() == 1


def test_same_invoice_in_another_format_is_a_duplicate_of_the_first(submitter):
    truth = digital_invoice(6, submitter.organization)
    client = api_as(submitter)
    first = upload(client, make_xml(truth))
    second = upload(client, make_ofd(truth), "same.ofd", "application/ofd")
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert second.json()["reference"] == first.json()["reference"]
    assert Invoice.objects.count() == 1


def test_same_invoice_from_another_organization_is_stored_without_leaking(
    submitter, other_organization
):
    """Answered as if new (issue 16): a refusal would tell that the number exists
    elsewhere. Screening sends it to review as a fraud signal
    (tests/security/test_intake_cross_organization.py)."""
    from tests.factories import UserFactory

    other = UserFactory(organization=other_organization)
    truth = digital_invoice(7, submitter.organization)
    first = upload(api_as(submitter), make_xml(truth))
    response = upload(api_as(other), make_xml(truth), "mine.xml")
    assert response.status_code == 201
    body = response.json()
    assert body["outcome"] == "created"
    assert first.json()["reference"] not in str(body)
    assert Invoice.objects.count() == 2


HOSTILE = {
    "empty": (b"", "a.xml", "application/xml", "empty_file"),
    "random bytes": (bytes(range(256)) * 10, "a.pdf", "application/pdf", None),
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><EInvoice>&lol2;</EInvoice>',
        "a.xml",
        "application/xml",
        "unsafe_xml",
    ),
    "xxe": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<EInvoice>&e;</EInvoice>",
        "a.xml",
        "application/xml",
        "unsafe_xml",
    ),
    "not an invoice": (
        b"<note><to>Tove</to></note>",
        "a.xml",
        "text/xml",
        "not_an_invoice",
    ),
    "malformed": (b"<EInvoice><Header>", "a.xml", "application/xml", "malformed_xml"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_uploads_are_refused_with_a_clear_error_and_store_nothing(
    submitter, case
):
    data, name, ctype, code = HOSTILE[case]
    upload(api_as(submitter), make_xml(digital_invoice(8, submitter.organization)))
    before = stored_counts()
    response = upload(api_as(submitter), data, name, ctype)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["message"]
    if code:
        assert body["code"] == code
    assert stored_counts() == before


def test_a_path_in_the_file_name_is_reduced_to_its_base_name(submitter):
    data = make_xml(digital_invoice(30, submitter.organization))
    response = upload(api_as(submitter), data, "../../etc/发票.xml")
    assert response.status_code == 201
    assert Document.objects.get().original_name == "发票.xml"


def test_a_pdf_disguised_as_xml_is_refused(submitter):
    response = upload(
        api_as(submitter), b"%PDF-1.4\n%fake\n", "a.xml", "application/xml"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "content_type_mismatch"
    assert Invoice.objects.count() == 0


def test_files_over_the_limit_are_refused(submitter, settings):
    settings.MAX_UPLOAD_MB = 1
    data = make_xml(digital_invoice(9, submitter.organization))
    padded = data.replace(
        b"</EInvoice>", b"<!--" + b"x" * (1024 * 1024) + b"--></EInvoice>"
    )
    response = upload(api_as(submitter), padded)
    assert response.status_code == 400
    assert response.json()["code"] == "file_too_large"


def test_errors_follow_the_users_language_or_the_request(submitter, api_client):
    from knox.models import AuthToken

    _token, key = AuthToken.objects.create(user=submitter)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert upload(api_client, b"").json()["message"] == "文件为空。"
    submitter.language = "en"
    submitter.save()
    assert upload(api_client, b"").json()["message"] == "The file is empty."
    asked = upload(api_client, b"", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert asked.json()["message"] == "文件为空。"


def test_reviewers_cannot_submit(reviewer):
    response = upload(api_as(reviewer), b"<x/>")
    assert response.status_code == 403


def test_batch_reports_each_file_and_one_failure_stops_nothing(submitter):
    org = submitter.organization
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.xml", make_xml(digital_invoice(10, org)))
        zf.writestr("b.ofd", make_ofd(digital_invoice(11, org)))
        zf.writestr("bad.xml", b"<EInvoice>")
    response = api_as(submitter).post(
        URL + "batch/",
        {
            "files": [
                _file(archive.getvalue(), "batch.zip", "application/zip"),
                _file(make_xml(digital_invoice(12, org)), "c.xml", "application/xml"),
            ]
        },
        format="multipart",
    )
    assert response.status_code == 200
    results = {r["filename"]: r for r in response.json()["results"]}
    assert results["a.xml"]["outcome"] == "created"
    assert results["b.ofd"]["outcome"] == "created"
    assert results["c.xml"]["outcome"] == "created"
    assert results["bad.xml"]["outcome"] == "error"
    assert results["bad.xml"]["error"]["code"] == "malformed_xml"
    assert Invoice.objects.count() == 3


def test_manual_entry_of_a_paper_invoice(submitter):
    org = submitter.organization
    response = api_as(submitter).post(
        URL,
        {
            "kind": "paper_special",
            "code": "1100191130",
            "number": "01234567",
            "issue_date": "2026-03-02",
            "seller_name": "北京某某餐饮有限公司",
            "seller_tax_id": "91110108551385082Q",
            "buyer_name": org.name,
            "buyer_tax_id": org.tax_id,
            "amount": "100.00",
            "tax_amount": "6.00",
            "total_amount": "106.00",
            "lines": [
                {
                    "name": "*餐饮服务*餐费",
                    "amount": "100.00",
                    "tax_rate": "0.06",
                    "tax_amount": "6.00",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get(pk=response.json()["id"])
    assert invoice.identity == "1100191130:01234567"
    assert invoice.lines.get().tax_rate == Decimal("0.06")


def test_manual_entry_with_bad_fields_lists_them(submitter):
    response = api_as(submitter).post(
        URL, {"kind": "paper_special", "number": "12"}, format="json"
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert {"number", "issue_date", "amount"} <= set(details)
    assert Invoice.objects.count() == 0


def test_submitters_see_only_their_organizations_invoices(
    submitter, other_organization
):
    from tests.factories import UserFactory

    other = UserFactory(organization=other_organization)
    mine = upload(
        api_as(submitter), make_xml(digital_invoice(13, submitter.organization))
    )
    invoice_id = mine.json()["id"]
    assert api_as(other).get(URL).json()["count"] == 0
    for path in (f"{URL}{invoice_id}/", f"{URL}{invoice_id}/document/"):
        response = api_as(other).get(path)
        assert response.status_code == 404
        assert set(response.json()) == {"code", "message", "details"}
    assert api_as(submitter).get(URL).json()["count"] == 1
    download = api_as(submitter).get(f"{URL}{invoice_id}/document/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"<?xml")


def test_list_filters(submitter):
    client = api_as(submitter)
    for seed in (20, 21):
        upload(client, make_xml(digital_invoice(seed, submitter.organization)))
    first = Invoice.objects.order_by("submitted_at").first()
    assert client.get(URL, {"status": "received"}).json()["count"] == 2
    assert client.get(URL, {"status": "approved"}).json()["count"] == 0
    assert client.get(URL, {"q": first.reference}).json()["count"] == 1
    assert client.get(URL, {"q": first.number[:12]}).json()["count"] >= 1
    bad = client.get(URL, {"status": "nonsense"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
