"""Invisible and look-alike characters in identifiers do not slip past the seller
blocklist (issue 16, medium 9): intake cleans tax IDs, codes and numbers for every
format and says what it changed."""

from __future__ import annotations

import pytest

from invoiceportal.common.identifiers import clean_identifier
from invoiceportal.common.taxid import uscc_check_char
from invoiceportal.invoices.models import Invoice, TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import CheckResult, SellerListEntry
from reviews.screening import screen_invoice
from tests.conftest import api_as
from tests.docgen.xml_doc import make_xml
from tests.invoices.test_intake_api import digital_invoice, upload

pytestmark = pytest.mark.django_db

_BODY = "91110108MA0K1XY3R"
BLOCKED = _BODY + uscc_check_char(_BODY)  # a valid USCC with a K in it
DISGUISES = {
    "zero-width space": BLOCKED[:6] + "\u200b" + BLOCKED[6:],
    "soft hyphen": BLOCKED[:9] + "\u00ad" + BLOCKED[9:],
    "word joiner": BLOCKED[:3] + "\u2060" + BLOCKED[3:],
    "left-to-right mark": "\u200e" + BLOCKED,
    "right-to-left mark": BLOCKED[:10] + "\u200f" + BLOCKED[10:],
    "Cyrillic K": BLOCKED.replace("K", "\u041a"),
    "Greek K": BLOCKED.replace("K", "\u039a"),
    "full-width": BLOCKED[:8] + "\uff2d\uff21" + BLOCKED[10:],  # ＭＡ
    "lower case and a space": BLOCKED[:8] + " " + BLOCKED[8:].lower(),
}


@pytest.mark.parametrize("disguise", DISGUISES)
def test_clean_identifier_recovers_the_identifier(disguise):
    cleaned = clean_identifier(DISGUISES[disguise])
    assert cleaned.value == BLOCKED
    assert cleaned.reasons


def test_a_clean_identifier_is_left_alone():
    assert clean_identifier(f"  {BLOCKED} ").value == BLOCKED
    assert clean_identifier(BLOCKED).reasons == ()


def _blocklist(admin_user):
    SellerListEntry.objects.create(
        seller_tax_id=BLOCKED, list="block", added_by=admin_user
    )


def _rejected_by_the_blocklist(invoice: Invoice) -> None:
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED
    blocklist = CheckResult.objects.get(invoice=invoice, rule_code="sellers.blocklist")
    assert blocklist.outcome == "fail"


@pytest.mark.parametrize("disguise", DISGUISES)
def test_a_disguised_blocklisted_seller_in_an_xml_is_rejected_automatically(
    disguise, submitter, admin_user
):
    _blocklist(admin_user)
    truth = digital_invoice(21, submitter.organization)
    truth.seller_tax_id = DISGUISES[disguise]

    response = upload(api_as(submitter), make_xml(truth))

    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get(pk=response.json()["id"])
    assert invoice.seller_tax_id == BLOCKED
    note = TimelineEvent.objects.get(invoice=invoice, code="identifiers_cleaned")
    assert note.visible_to_submitter
    assert set(note.params["fields"]) == {"seller_tax_id"}
    assert note.params["fields"]["seller_tax_id"]["cleaned"] == BLOCKED
    _rejected_by_the_blocklist(invoice)


def test_a_disguised_blocklisted_seller_typed_in_is_rejected_automatically(
    submitter, admin_user
):
    _blocklist(admin_user)
    truth = digital_invoice(22, submitter.organization)
    body = {
        "kind": "paper_special",
        "code": "1100242130",
        "number": "01234567",
        "issue_date": truth.issue_date.isoformat(),
        "seller_name": truth.seller_name,
        "seller_tax_id": "\u200b" + DISGUISES["Cyrillic K"],
        "buyer_name": submitter.organization.name,
        "buyer_tax_id": submitter.organization.tax_id,
        "amount": "100.00",
        "tax_amount": "13.00",
        "total_amount": "113.00",
    }

    response = api_as(submitter).post("/api/v1/invoices/", body, format="json")

    assert response.status_code == 201, response.json()
    invoice = Invoice.objects.get(pk=response.json()["id"])
    assert invoice.seller_tax_id == BLOCKED
    event = TimelineEvent.objects.get(invoice=invoice, code="identifiers_cleaned")
    assert "\\u200b" in event.params["changes_en"]
    assert "look-alike" in event.params["changes_en"]
    timeline = api_as(submitter).get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert any(
        "cleaned" in e["message"] or "清理" in e["message"]
        for e in timeline["timeline"]
    )
    _rejected_by_the_blocklist(invoice)


def test_the_cleaning_is_audited(submitter):
    from invoiceportal.audit.models import AuditEntry

    truth = digital_invoice(23, submitter.organization)
    truth.buyer_tax_id = "\u2060" + submitter.organization.tax_id
    response = upload(api_as(submitter), make_xml(truth))
    entry = AuditEntry.objects.get(action="invoice.submit")
    assert entry.data["identifiers_cleaned"] == {
        "buyer_tax_id": "\\u2060" + submitter.organization.tax_id
    }
    assert response.json()["buyer_tax_id"] == submitter.organization.tax_id


def test_a_corrected_file_is_cleaned_too(submitter, reviewer, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.invoices.submitter.helpers import ask_for_info, make_invoice

    _blocklist(admin_user)
    truth = digital_invoice(24, submitter.organization)
    truth.seller_tax_id = DISGUISES["soft hyphen"]
    asked = ask_for_info(
        make_invoice(
            submitter.organization,
            submitter,
            number=truth.number,
            identity=truth.number,
        ),
        reviewer,
    )

    response = api_as(submitter).post(
        f"/api/v1/invoices/{asked.pk}/respond/",
        {"message": "更正", "file": SimpleUploadedFile("fixed.xml", make_xml(truth))},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    asked.refresh_from_db()
    assert asked.seller_tax_id == BLOCKED
    note = TimelineEvent.objects.get(invoice=asked, code="identifiers_cleaned")
    assert note.params["fields"]["seller_tax_id"]["reasons"] == ["invisible_characters"]
