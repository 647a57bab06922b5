"""Photos and scans are accepted at once and read by the worker before screening."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from invoiceportal.invoices.models import Invoice
from tests.conftest import api_as
from tests.docgen.image_doc import make_image
from tests.docgen.registry import clean_digital_invoice
from tests.docgen.xml_doc import make_xml

pytestmark = pytest.mark.django_db


def upload(user, data, name, ctype):
    return api_as(user).post(
        "/api/v1/invoices/",
        {"file": SimpleUploadedFile(name, data, content_type=ctype)},
        format="multipart",
    )


@pytest.fixture
def truth(submitter):
    org = submitter.organization
    return clean_digital_invoice(41, buyer_name=org.name, buyer_tax_id=org.tax_id)


def test_a_photo_is_accepted_at_once_then_read_and_screened_by_the_worker(
    submitter, truth, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(submitter, make_image(truth), "photo.png", "image/png")
        assert response.status_code == 201
        assert response.json()["status"] == "received"
        assert response.json()["number"] == ""
    invoice = Invoice.objects.get()
    assert invoice.number == truth.number
    assert invoice.identity == truth.identity
    assert invoice.lines.count() == len(truth.lines)
    document = invoice.documents.get()
    assert document.extractor == "png"
    assert document.field_readings["number"]["source"] == "qr"
    assert invoice.status == "in_review"
    codes = list(invoice.timeline.values_list("code", flat=True))
    assert codes == ["submitted", "screening_started", "sent_to_review"]


def test_a_photo_of_an_invoice_already_live_ends_rejected_as_a_duplicate(
    submitter, truth, django_capture_on_commit_callbacks
):
    first = upload(submitter, make_xml(truth), "a.xml", "application/xml").json()
    with django_capture_on_commit_callbacks(execute=True):
        upload(submitter, make_image(truth), "photo.png", "image/png")
    photo = Invoice.objects.exclude(pk=first["id"]).get()
    assert photo.status == "rejected"
    assert first["reference"] in photo.decision_reason
    assert photo.identity == ""
    # the XML upload's on_commit callbacks never ran: it was not screened
    assert Invoice.objects.get(pk=first["id"]).status == "received"


def test_an_image_that_is_not_an_invoice_is_rejected_with_the_reason(
    submitter, django_capture_on_commit_callbacks
):
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("RGB", (800, 600), "white").save(blank, "PNG")
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(submitter, blank.getvalue(), "blank.png", "image/png")
    assert response.status_code == 201
    invoice = Invoice.objects.get()
    assert invoice.status == "rejected"
    assert "无法读取" in invoice.decision_reason or "could not be read" in (
        invoice.decision_reason
    )


def test_a_broken_image_is_refused_at_upload(submitter):
    data = make_image(clean_digital_invoice(42, buyer_name="x", buyer_tax_id="y"))
    response = upload(submitter, data[: len(data) // 3], "cut.png", "image/png")
    assert response.status_code == 422
    assert response.json()["code"] == "corrupt_image"
    assert Invoice.objects.count() == 0


def test_a_photo_whose_task_was_lost_is_read_and_screened_by_the_sweep(
    submitter, truth, time_machine
):
    import datetime as dt

    from django.utils import timezone

    from reviews.screening import screen_sweep

    # Uploaded, but the worker never ran its task (on_commit callbacks not executed).
    upload(submitter, make_image(truth), "photo.png", "image/png")
    invoice = Invoice.objects.get()
    assert invoice.documents.get().extractor == "pending"
    time_machine.move_to(timezone.now() + dt.timedelta(hours=1))
    assert len(screen_sweep()) == 1
    invoice.refresh_from_db()
    assert invoice.number == truth.number
    assert invoice.status == "in_review"
    assert invoice.documents.get().extractor == "png"


def test_an_automatic_rejection_reads_in_the_readers_language(
    submitter, django_capture_on_commit_callbacks
):
    from io import BytesIO

    from django.utils import translation
    from PIL import Image

    blank = BytesIO()
    Image.new("RGB", (800, 600), "white").save(blank, "PNG")
    with django_capture_on_commit_callbacks(execute=True):
        upload(submitter, blank.getvalue(), "blank.png", "image/png")
    invoice = Invoice.objects.get()
    with translation.override("en"):
        reason = invoice.reason_for_reader()
        assert "could not be read (No invoice could be found" in reason
    with translation.override("zh-hans"):
        assert "无法读取该文档（在此文档中未找到发票" in invoice.reason_for_reader()


def test_a_reading_that_needs_too_much_memory_is_refused_and_the_bound_lifted():
    from invoiceportal.invoices.extraction.bounds import memory_bounded
    from invoiceportal.invoices.extraction.errors import ExtractionError

    with pytest.raises(ExtractionError) as refused, memory_bounded(64):
        bytearray(512 * 1024 * 1024)
    assert refused.value.code == "extraction_too_large"
    assert len(bytearray(512 * 1024 * 1024)) == 512 * 1024 * 1024


def test_a_photo_over_the_memory_bound_ends_rejected_with_the_reason(
    submitter, truth, settings, django_capture_on_commit_callbacks
):
    settings.EXTRACTION_MEMORY_MB = 20
    with django_capture_on_commit_callbacks(execute=True):
        upload(submitter, make_image(truth), "photo.png", "image/png")
    invoice = Invoice.objects.get()
    assert invoice.status == "rejected"
    assert "20 MB" in invoice.decision_reason


def test_a_worker_process_loads_the_readers_as_it_starts(settings):
    from invoiceportal.invoices.extraction.image_reader import _engine
    from invoiceportal.invoices.worker_start import load_readers_at_spawn

    settings.Q_PRELOAD_READERS = True
    _engine.cache_clear()
    # a synchronous task runs in the calling process: it loads nothing there
    assert load_readers_at_spawn(proc_name="MainProcess") is False
    assert _engine.cache_info().currsize == 0
    # django-q2 names its worker processes Process-N
    assert load_readers_at_spawn(proc_name="Process-1:2") is True
    assert _engine.cache_info().currsize == 1


def test_the_readers_load_at_the_first_photo_when_told_so(settings):
    from invoiceportal.invoices.extraction.image_reader import _engine
    from invoiceportal.invoices.worker_start import load_readers_at_spawn

    settings.Q_PRELOAD_READERS = False
    _engine.cache_clear()
    assert load_readers_at_spawn(proc_name="Process-1:2") is False
    assert _engine.cache_info().currsize == 0
