"""Issue 15: documents go through Django's storage API only, so production can point
at an object store by setting. Here the default storage is Django's in-memory one
and MEDIA_ROOT a directory that must stay empty: intake, download and preview work
without the local filesystem; a failed transaction leaves no file and no row."""

from __future__ import annotations

import random

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from invoiceportal.invoices.actions import CorrectedFile, invoice_respond
from invoiceportal.invoices.attachments import AttachmentFile
from invoiceportal.invoices.extraction.types import InvoiceKind
from invoiceportal.invoices.models import Document, Invoice
from invoiceportal.invoices.status import InvoiceStatus
from tests.conftest import api_as
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml
from tests.invoices.attachment_files import pdf_bytes
from tests.invoices.submitter.helpers import ask_for_info, make_invoice

pytestmark = pytest.mark.django_db
URL = "/api/v1/invoices/"


@pytest.fixture(autouse=True)
def memory_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "must-stay-empty"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    yield settings.MEDIA_ROOT
    assert not settings.MEDIA_ROOT.exists(), "something wrote to the local disk"


def truth_for(organization, seed=1):
    inv = random_invoice(random.Random(seed), kind=InvoiceKind.DIGITAL_SPECIAL)
    inv.buyer_tax_id = organization.tax_id
    inv.buyer_name = organization.name
    return inv


def upload(client, data, name, content_type="application/xml", **headers):
    return client.post(
        URL,
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        format="multipart",
        **headers,
    )


def stored_names() -> list[str]:
    names = []
    for year in default_storage.listdir("documents")[0]:
        for month in default_storage.listdir(f"documents/{year}")[0]:
            names += [
                f"documents/{year}/{month}/{name}"
                for name in default_storage.listdir(f"documents/{year}/{month}")[1]
            ]
    return names


def test_upload_and_download_use_the_configured_storage(client, submitter):
    assert Document._meta.get_field("file").storage.__class__.__name__ == (
        "InMemoryStorage"
    )
    data = make_xml(truth_for(submitter.organization))
    response = upload(api_as(submitter), data, "a.xml")
    assert response.status_code == 201, response.content
    document = Document.objects.get()
    assert stored_names() == [document.file.name]
    with default_storage.open(document.file.name, "rb") as handle:
        assert handle.read() == data

    api_download = api_as(submitter).get(f"{URL}{document.invoice_id}/document/")
    assert api_download.status_code == 200
    assert b"".join(api_download.streaming_content) == data
    client.force_login(submitter)
    page_download = client.get(reverse("invoices:document", args=[document.invoice_id]))
    assert page_download.status_code == 200
    assert b"".join(page_download.streaming_content) == data


def test_a_failed_transaction_leaves_no_file_and_no_row(submitter):
    """With an Idempotency-Key the duplicate check is the database constraint: the
    second upload's transaction fails after its file was written; the file goes."""
    truth = truth_for(submitter.organization, 2)
    first = upload(
        api_as(submitter), make_xml(truth), "a.xml", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == 201, first.content
    second = upload(
        api_as(submitter),
        make_ofd(truth),
        "a.ofd",
        content_type="application/ofd",
        HTTP_IDEMPOTENCY_KEY="k2",
    )
    assert second.status_code == 200, second.content  # the duplicate, answered
    assert second.json()["id"] == first.json()["id"]
    assert Invoice.objects.count() == 1
    assert stored_names() == [Document.objects.get().file.name]


class WatchedStorage(InMemoryStorage):
    """The object store, watched: records, for each file written, whether a database
    transaction (and so a row lock) was open while the store was being answered."""

    writes: list[tuple[str, bool]] = []

    def _save(self, name, content):
        WatchedStorage.writes.append((name, connection.in_atomic_block))
        return super()._save(name, content)


@pytest.mark.django_db(transaction=True)
def test_files_are_written_before_any_transaction_opens(
    settings, submitter, reviewer, reference_data
):
    """Issue 15: no row lock is held while a file is written: the upload, a corrected
    file sent as an answer and the answer's attachments are all stored first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.WatchedStorage"},
    }
    WatchedStorage.writes = []
    organization = submitter.organization
    truth = truth_for(organization, 3)
    response = upload(api_as(submitter), make_xml(truth_for(organization, 4)), "a.xml")
    assert response.status_code == 201, response.content
    writes = list(WatchedStorage.writes)
    invoice = ask_for_info(
        make_invoice(
            organization, submitter, number=truth.number, identity=truth.identity
        ),
        reviewer,
    )
    WatchedStorage.writes = []  # the test factory's own document is not the point
    invoice_respond(
        user=submitter,
        invoice_id=invoice.id,
        message="已附更正后的发票文件和合同",
        file=CorrectedFile(make_xml(truth), "fixed.xml", "application/xml"),
        attachments=[AttachmentFile(pdf_bytes(), "合同.pdf", "application/pdf")],
    )
    writes += WatchedStorage.writes
    invoice.refresh_from_db()
    assert invoice.status != InvoiceStatus.NEEDS_INFO  # answered, screened again
    assert invoice.documents.count() == 2
    folders = [name.split("/")[0] for name, _ in writes]
    assert folders.count("documents") == 2 and folders.count("attachments") == 1
    assert [name for name, locked in writes if locked] == []
