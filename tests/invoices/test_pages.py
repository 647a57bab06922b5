import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoiceportal.invoices.extraction.types import InvoiceKind
from invoiceportal.invoices.models import Invoice
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def xml_for(org, seed):
    inv = random_invoice(random.Random(seed), kind=InvoiceKind.DIGITAL_ORDINARY)
    inv.buyer_tax_id, inv.buyer_name = org.tax_id, org.name
    return inv, make_xml(inv)


def post_file(client, data, name="a.xml"):
    return client.post(
        reverse("invoices:upload_file"),
        {"file": SimpleUploadedFile(name, data, content_type="application/xml")},
    )


def test_upload_page_accepts_a_file_and_links_to_the_invoice(client, submitter):
    client.force_login(submitter)
    assert "拖放" in client.get(reverse("invoices:upload")).content.decode()
    truth, data = xml_for(submitter.organization, 1)
    response = post_file(client, data)
    assert response.status_code == 200
    invoice = Invoice.objects.get()
    body = response.content.decode()
    assert 'data-outcome="created"' in body
    assert invoice.reference in body
    detail = client.get(reverse("invoices:detail", args=[invoice.id])).content.decode()
    assert truth.number in detail
    assert truth.lines[0].name in detail
    assert "发票已提交" in detail


def test_upload_page_explains_a_refused_file(client, submitter):
    client.force_login(submitter)
    response = post_file(client, b"<EInvoice>")
    assert response.status_code == 422
    assert "XML 文件格式不正确" in response.content.decode()
    assert Invoice.objects.count() == 0


def test_second_upload_of_the_same_invoice_names_the_first(client, submitter):
    client.force_login(submitter)
    _, data = xml_for(submitter.organization, 2)
    post_file(client, data)
    again = post_file(client, data, "again.xml").content.decode()
    assert 'data-outcome="same_file"' in again
    assert Invoice.objects.get().reference in again


def test_other_organizations_invoice_pages_answer_404(
    client, submitter, other_organization
):
    client.force_login(submitter)
    _, data = xml_for(submitter.organization, 3)
    post_file(client, data)
    invoice = Invoice.objects.get()
    client.force_login(UserFactory(organization=other_organization))
    assert client.get(reverse("invoices:detail", args=[invoice.id])).status_code == 404
    assert (
        client.get(reverse("invoices:document", args=[invoice.id])).status_code == 404
    )
    assert (
        invoice.reference not in client.get(reverse("invoices:list")).content.decode()
    )


def test_my_invoices_lists_the_organizations_invoices(client, submitter):
    client.force_login(submitter)
    for seed in (4, 5):
        post_file(client, xml_for(submitter.organization, seed)[1])
    page = client.get(reverse("invoices:list")).content.decode()
    for invoice in Invoice.objects.all():
        assert invoice.reference in page


def test_timeline_reasons_follow_the_readers_language(submitter):
    from django.utils import translation

    from invoiceportal.invoices.lifecycle import timeline_message
    from invoiceportal.invoices.models import TimelineEvent

    client_invoice = None
    event = TimelineEvent(
        invoice=client_invoice,
        status="in_review",
        code="sent_to_review",
        params={"reasons": "查无此票。", "reasons_en": "Not in the registry."},
    )
    with translation.override("en"):
        assert timeline_message(event) == "Sent to a tax reviewer: Not in the registry."
    with translation.override("zh-hans"):
        assert timeline_message(event) == "已转交税务审核员：查无此票。"
