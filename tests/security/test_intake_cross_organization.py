"""No existence oracle and no squatting across organizations (issue 16, medium 10).

An organization that types in another's invoice number first must not block the
genuine buyer's file, and no organization learns that a number is held elsewhere:
both copies are stored, the collision is audited and sent to reviewers."""

from __future__ import annotations

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.models import Invoice, TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import CheckResult
from reviews.screening import screen_invoice
from tests.conftest import api_as
from tests.docgen.xml_doc import make_xml
from tests.factories import UserFactory
from tests.invoices.test_intake_api import digital_invoice, upload

pytestmark = pytest.mark.django_db
URL = "/api/v1/invoices/"


def typed_in(truth, organization) -> dict:
    """The squatter's manual entry: the genuine invoice's number, itself as buyer."""
    return {
        "kind": "digital_special",
        "number": truth.number,
        "issue_date": truth.issue_date.isoformat(),
        "seller_name": truth.seller_name,
        "seller_tax_id": truth.seller_tax_id,
        "buyer_name": organization.name,
        "buyer_tax_id": organization.tax_id,
        "amount": str(truth.amount),
        "tax_amount": str(truth.tax_amount),
        "total_amount": str(truth.total_amount),
    }


@pytest.fixture
def squatter(other_organization):
    return UserFactory(organization=other_organization)


def test_a_number_typed_in_first_elsewhere_does_not_block_the_buyers_file(
    submitter, squatter
):
    truth = digital_invoice(31, submitter.organization)
    typed = api_as(squatter).post(
        URL, typed_in(truth, squatter.organization), format="json"
    )
    assert typed.status_code == 201

    genuine = upload(api_as(submitter), make_xml(truth))

    assert genuine.status_code == 201, genuine.json()
    assert genuine.json()["outcome"] == "created"
    invoice = Invoice.objects.get(pk=genuine.json()["id"])
    squatted = Invoice.objects.get(pk=typed.json()["id"])
    assert invoice.identity == squatted.identity == truth.number

    # The collision is audited and noted on both copies, for reviewers only.
    entry = AuditEntry.objects.get(action="invoice.identity_collision")
    assert entry.data["others"] == [
        {"reference": squatted.reference, "organization": squatter.organization_id}
    ]
    for copy, other in ((invoice, squatted), (squatted, invoice)):
        note = TimelineEvent.objects.get(invoice=copy, code="identity_collision")
        assert not note.visible_to_submitter
        assert note.params["references"] == other.reference

    # Screening sends the buyer's file to a reviewer, never rejects it.
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    exact = CheckResult.objects.get(invoice=invoice, rule_code="duplicates.exact")
    assert exact.outcome == "fail" and exact.action == "review"
    assert exact.details["held_by_other_organizations"][0]["reference"] == (
        squatted.reference
    )
    assert squatted.reference not in exact.message_zh + exact.message_en


def test_another_organization_cannot_learn_that_a_number_is_held(submitter, squatter):
    held = digital_invoice(32, submitter.organization)
    upload(api_as(submitter), make_xml(held))
    held_ref = Invoice.objects.get().reference
    fresh = digital_invoice(33, submitter.organization)
    client = api_as(squatter)

    probe = client.post(URL, typed_in(held, squatter.organization), format="json")
    control = client.post(URL, typed_in(fresh, squatter.organization), format="json")

    assert probe.status_code == control.status_code == 201
    assert probe.json()["outcome"] == control.json()["outcome"] == "created"
    assert probe.json().keys() == control.json().keys()
    assert held_ref not in probe.content.decode()
    # Screening does not tell either: no reference, and the note stays hidden.
    probed = Invoice.objects.get(pk=probe.json()["id"])
    screen_invoice(invoice_id=probed.pk)
    detail = client.get(f"{URL}{probed.pk}/").content.decode()
    assert held_ref not in detail
    assert "identity_collision" not in detail


def test_the_same_organization_still_gets_its_duplicate(submitter):
    data = make_xml(digital_invoice(34, submitter.organization))
    first = upload(api_as(submitter), data)
    again = upload(api_as(submitter), data + b"\n", "copy.xml")
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["id"] == first.json()["id"]


def _answer(user, invoice, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api_as(user).post(
        f"{URL}{invoice.pk}/respond/",
        {"message": "附更正文件", "file": SimpleUploadedFile("fixed.xml", data)},
        format="multipart",
    )


def test_answering_with_another_organizations_live_invoice_is_no_error(
    submitter, squatter, reviewer
):
    """An invoice read without a number, answered with the file of an invoice that
    another organization holds live: a 500 (IntegrityError) before."""
    from tests.invoices.submitter.helpers import ask_for_info, make_invoice

    truth = digital_invoice(35, submitter.organization)
    squatted = api_as(squatter).post(
        URL, typed_in(truth, squatter.organization), format="json"
    )
    asked = ask_for_info(
        make_invoice(submitter.organization, submitter, number="", identity=""),
        reviewer,
    )

    response = _answer(submitter, asked, make_xml(truth))

    assert response.status_code == 200, response.content
    asked.refresh_from_db()
    assert asked.identity == truth.number
    assert squatted.json()["reference"] not in response.content.decode()
    assert TimelineEvent.objects.filter(
        invoice=asked, code="identity_collision", visible_to_submitter=False
    ).exists()


def test_answering_with_the_organizations_own_other_invoice_is_refused(
    submitter, reviewer
):
    from tests.invoices.submitter.helpers import ask_for_info, make_invoice

    truth = digital_invoice(36, submitter.organization)
    first = upload(api_as(submitter), make_xml(truth))
    asked = ask_for_info(
        make_invoice(submitter.organization, submitter, number="", identity=""),
        reviewer,
    )

    response = _answer(submitter, asked, make_xml(truth, variant=1))

    assert response.status_code == 400
    assert response.json()["code"] == "already_submitted"
    assert response.json()["details"] == {"invoice": first.json()["id"]}
