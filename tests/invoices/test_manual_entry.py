"""The manual-entry page for paper invoices, with the scan attached."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from invoiceportal.invoices.models import Invoice

pytestmark = pytest.mark.django_db


def scan(fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, fmt)
    return buffer.getvalue()


def form_data(org, **changes):
    data = {
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
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-name": "*餐饮服务*餐费",
        "lines-0-amount": "100.00",
        "lines-0-tax_rate": "0.06",
        "lines-0-tax_amount": "6.00",
        "scan": SimpleUploadedFile("scan.png", scan(), content_type="image/png"),
    }
    data.update(changes)
    return data


def test_a_typed_paper_invoice_with_its_scan_is_received(client, submitter):
    client.force_login(submitter)
    assert "手工录入纸质发票" in client.get(reverse("invoices:manual")).content.decode()
    response = client.post(
        reverse("invoices:manual"), form_data(submitter.organization)
    )
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert response["Location"] == reverse("invoices:detail", args=[invoice.id])
    assert invoice.identity == "1100191130:01234567"
    assert invoice.lines.get().name == "*餐饮服务*餐费"
    document = invoice.documents.get()
    assert document.format == "png"
    assert document.field_readings["number"]["source"] == "manual"


def test_totals_that_do_not_add_up_are_shown_and_nothing_is_stored(client, submitter):
    client.force_login(submitter)
    data = form_data(submitter.organization, total_amount="107.00")
    response = client.post(reverse("invoices:manual"), data)
    assert response.status_code == 200
    assert "不等于价税合计" in response.content.decode()
    assert Invoice.objects.count() == 0


def test_a_scan_that_is_not_an_image_or_pdf_is_refused(client, submitter):
    client.force_login(submitter)
    bad = SimpleUploadedFile("scan.png", b"<x/>", content_type="image/png")
    response = client.post(
        reverse("invoices:manual"), form_data(submitter.organization, scan=bad)
    )
    assert response.status_code == 200
    assert Invoice.objects.count() == 0
    assert "不接受此类文件" in response.content.decode()


def test_bad_number_and_no_lines_are_explained(client, submitter):
    client.force_login(submitter)
    data = form_data(submitter.organization, number="123", **{"lines-0-name": ""})
    data.pop("lines-0-amount")
    body = client.post(reverse("invoices:manual"), data).content.decode()
    assert "发票号码应为 8 位或 20 位数字" in body
    assert Invoice.objects.count() == 0


def test_reviewers_cannot_open_the_manual_entry_page(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("invoices:manual")).status_code == 403
