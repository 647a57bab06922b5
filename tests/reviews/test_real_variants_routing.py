"""The new kinds and variants routed by the real screening service under the default
rules (issue 9): submitted through intake, screened, the stored results and the
decision read back from the database.

- the QR check runs (pass or fail, never skipped) for any invoice with a QR: a PDF, a
  legacy OFD (its GraphCode), a photo-like manual entry with a decoded payload;
- a clean rail ticket, air itinerary, 数电 toll invoice and legacy OFD invoice whose
  buyer is the organization and which the registry knows are approved automatically;
- a general machine-printed invoice goes to review saying what it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)
from invoiceportal.invoices.intake import invoice_submit_file, invoice_submit_manual
from invoiceportal.invoices.models import Invoice
from reviews.models import CheckResult, RegistryRecord
from reviews.rules import rule_update
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.pdf_doc import make_pdf
from tests.docgen.registry import registry_row
from tests.docgen.truth import _qr_payload, random_invoice

pytestmark = pytest.mark.django_db

D = Decimal
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ISSUED = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _no_random_audit(admin_user: Any) -> None:
    """The 2 % audit sample is the only random route: off, so the rules decide."""
    rule_update(
        actor=admin_user,
        code="audit.sample",
        params={"rate": "0"},
        change_note="no random sample in these tests",
    )


def screened(submit: Any, capture: Any) -> Invoice:
    with capture(execute=True):
        result = submit()
    return Invoice.objects.get(pk=result.invoice.pk)


def results(invoice: Invoice) -> dict[str, CheckResult]:
    return {
        r.rule_code: r
        for r in CheckResult.objects.filter(invoice=invoice).order_by("round", "id")
    }


def failures(invoice: Invoice) -> list[tuple[str, str]]:
    return [
        (code, r.message_en)
        for code, r in results(invoice).items()
        if r.outcome == "fail"
    ]


def submit_manual(user: Any, inv: ExtractedInvoice):
    return lambda: invoice_submit_manual(user=user, extracted=inv)


def register(inv: ExtractedInvoice, **changes: Any) -> None:
    RegistryRecord.objects.create(**{**registry_row(inv), **changes})


def to_org(inv: ExtractedInvoice, org: Any) -> ExtractedInvoice:
    return dataclasses.replace(inv, buyer_name=org.name, buyer_tax_id=org.tax_id)


def rail_ticket(org: Any, **changes: Any) -> ExtractedInvoice:
    inv = ExtractedInvoice(
        kind=InvoiceKind.RAIL_TICKET,
        number="26329116804009553237",
        issue_date=ISSUED,
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        amount=D("66.97"),
        tax_amount=D("6.03"),
        total_amount=D("73.00"),
        qr_payload="01,32,,26329116804009553237,73.00,20260302,,1F2E",
        extras={
            "rail": {
                "passenger": "张三",
                "passenger_id": "3301*******1234",
                "from_station": "南京南",
                "to_station": "常州",
                "train": "G7575",
                "departure_date": "2026-03-02",
                "departure_time": "12:12",
                "seat_class": "二等座",
                "seat": "05车12A号",
                "fare": "73.00",
            }
        },
    )
    return dataclasses.replace(inv, **changes)


def air_itinerary(org: Any, **changes: Any) -> ExtractedInvoice:
    inv = ExtractedInvoice(
        kind=InvoiceKind.AIR_ITINERARY,
        number="26442000000012345678",
        issue_date=ISSUED,
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        tax_amount=D("87.52"),
        total_amount=D("1110.00"),
        extras={
            "air": {
                "passenger": "李四",
                "passenger_id": "4401*******5678",
                "domestic": "国内",
                "status": "正常",
                "eticket": "7812345678901",
                "issuer": "某航空服务有限公司",
                "fare": "1000.00",
                "fuel_surcharge": "60.00",
                "vat_rate": "0.09",
                "vat_amount": "87.52",
                "caac_fund": "50.00",
                "total": "1110.00",
                "segments": [
                    {
                        "from": "杭州萧山",
                        "to": "北京首都",
                        "carrier": "国航",
                        "flight": "CA1701",
                        "seat_class": "Y",
                        "date": "2026-03-01",
                        "time": "08:15",
                    }
                ],
            }
        },
    )
    return dataclasses.replace(inv, **changes)


def toll_invoice(org: Any) -> ExtractedInvoice:
    """A 数电 toll invoice: ordinary, no kind label, plate and passage dates kept."""
    amount, tax = D("291.26"), D("8.74")  # 3 % levy rate
    return ExtractedInvoice(
        kind=InvoiceKind.DIGITAL_ORDINARY,
        number="26332000000087654321",
        issue_date=ISSUED,
        seller_name="浙江某高速公路有限公司",
        seller_tax_id="914403001922038216",
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        amount=amount,
        tax_amount=tax,
        total_amount=D("300.00"),
        total_in_words="叁佰圆整",
        lines=[
            ExtractedLine(
                name="*经营租赁*通行费",
                amount=amount,
                tax_rate=D("0.03"),
                tax_amount=tax,
            )
        ],
        qr_payload="01,32,,26332000000087654321,300.00,20260302,,9A8B",
        extras={
            "toll": {
                "plate": "浙A12345",
                "vehicle_type": "一型客车",
                "passages": [
                    {"plate": "浙A12345", "from": "2026-02-27", "to": "2026-02-28"}
                ],
            }
        },
    )


def legacy_invoice(org: Any, seed: int) -> ExtractedInvoice:
    """A clean legacy 电子普票 issued on ISSUED to the organization, QR amount excluding
    tax."""
    rng = random.Random(seed)
    while True:
        inv = random_invoice(rng, kind=InvoiceKind.E_ORDINARY)
        if not inv.is_red and (inv.total_amount or 0) < D("100000"):
            break
    inv = to_org(inv, org)
    inv.issue_date = ISSUED
    inv.code = f"0{inv.code[1:5]}26{inv.code[7:]}"
    inv.qr_payload = _qr_payload(inv, rng)
    return inv


# --- the QR check runs -------------------------------------------------------------


def clean_digital_pdf_truth(org: Any, seed: int) -> ExtractedInvoice:
    rng = random.Random(seed)
    while True:
        inv = random_invoice(rng, kind=InvoiceKind.DIGITAL_SPECIAL)
        if not inv.is_red and (inv.total_amount or 0) < D("100000"):
            break
    inv = to_org(inv, org)
    inv.issue_date = ISSUED
    inv.number = f"26{inv.number[2:]}"
    inv.qr_payload = _qr_payload(inv, rng)
    return inv


def test_a_pdf_with_a_qr_is_checked_against_its_qr_and_approved(
    submitter, django_capture_on_commit_callbacks
):
    truth = clean_digital_pdf_truth(submitter.organization, 7)
    register(truth)
    invoice = screened(
        lambda: invoice_submit_file(
            user=submitter, data=make_pdf(truth), filename="invoice.pdf"
        ),
        django_capture_on_commit_callbacks,
    )
    assert invoice.qr_payload.startswith("01,31,")
    qr = results(invoice)["qr.consistent"]
    assert qr.outcome == "pass", qr.message_en
    assert qr.details == {"qr_type": "31"}
    assert invoice.status == "approved", failures(invoice)


def test_a_pdf_whose_qr_disagrees_with_its_body_fails_the_qr_check(
    submitter, django_capture_on_commit_callbacks
):
    truth = clean_digital_pdf_truth(submitter.organization, 8)
    register(truth)
    # the QR says 1.00 more than the printed 价税合计: an altered document
    altered = truth.qr_payload.replace(
        f",{truth.total_amount:.2f},", f",{truth.total_amount + 1:.2f},"
    )
    assert altered != truth.qr_payload
    tampered = dataclasses.replace(truth, qr_payload=altered)
    invoice = screened(
        lambda: invoice_submit_file(
            user=submitter, data=make_pdf(tampered), filename="invoice.pdf"
        ),
        django_capture_on_commit_callbacks,
    )
    qr = results(invoice)["qr.consistent"]
    assert qr.outcome == "fail"
    assert [d["field"] for d in qr.details["differences"]] == ["amount"]
    assert invoice.status == "in_review"
    assert "qr.consistent" in invoice.timeline.last().params["rules"]


def test_a_photo_has_its_qr_stored_and_checked(
    submitter, django_capture_on_commit_callbacks
):
    from tests.docgen.image_doc import make_image

    truth = clean_digital_pdf_truth(submitter.organization, 9)
    invoice = screened(
        lambda: invoice_submit_file(
            user=submitter, data=make_image(truth), filename="photo.png"
        ),
        django_capture_on_commit_callbacks,
    )
    assert invoice.qr_payload.split(",")[:8] == truth.qr_payload.split(",")[:8]
    qr = results(invoice)["qr.consistent"]
    assert qr.outcome == "pass", qr.message_en


def test_a_manual_entry_with_a_decoded_qr_runs_the_qr_check(
    submitter, django_capture_on_commit_callbacks
):
    org = submitter.organization
    good = rail_ticket(org)
    bad = rail_ticket(
        org,
        number="26329116804009553238",
        qr_payload="01,32,,26329116804009553238,37.00,20260302,,1F2E",
    )
    passed = screened(
        submit_manual(submitter, good), django_capture_on_commit_callbacks
    )
    failed = screened(submit_manual(submitter, bad), django_capture_on_commit_callbacks)
    assert results(passed)["qr.consistent"].outcome == "pass"
    assert results(failed)["qr.consistent"].outcome == "fail"


# --- clean invoices of the new kinds and variants are approved --------------------


def test_a_clean_rail_ticket_is_approved_with_its_deductible_tax(
    submitter, django_capture_on_commit_callbacks
):
    inv = rail_ticket(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "approved", failures(invoice)
    assert invoice.decision_source == "automatic"
    assert invoice.identity == inv.number  # the duplicate key of a 数电 ticket
    checks = results(invoice)
    assert checks["tickets.deductible_vat"].details["deductible_tax"] == "6.03"
    assert checks["identity.format"].outcome == "pass"
    assert checks["parties.buyer_tax_id"].outcome == "pass"
    assert checks["registry.match"].outcome == "pass"
    for code in ("arithmetic.line_sums", "arithmetic.capitals"):
        assert checks[code].outcome == "skipped"
        assert "does not apply" in checks[code].message_en


def test_a_clean_air_itinerary_is_approved_with_its_deductible_tax(
    submitter, django_capture_on_commit_callbacks
):
    inv = air_itinerary(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "approved", failures(invoice)
    checks = results(invoice)
    assert checks["tickets.deductible_vat"].details["deductible_tax"] == "87.52"
    assert checks["arithmetic.total"].outcome == "skipped"
    assert invoice.extras["air"]["segments"][0]["flight"] == "CA1701"


def test_a_clean_digital_toll_invoice_is_approved(
    submitter, django_capture_on_commit_callbacks
):
    inv = toll_invoice(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "approved", failures(invoice)
    assert results(invoice)["qr.consistent"].outcome == "pass"
    assert invoice.extras["toll"]["plate"] == "浙A12345"


def test_a_clean_legacy_ofd_invoice_is_approved_and_its_graph_code_checked(
    submitter, django_capture_on_commit_callbacks
):
    truth = legacy_invoice(submitter.organization, 3)
    register(truth)
    invoice = screened(
        lambda: invoice_submit_file(
            user=submitter, data=make_ofd(truth, legacy=True), filename="invoice.ofd"
        ),
        django_capture_on_commit_callbacks,
    )
    assert invoice.kind == "e_ordinary"
    assert invoice.status == "approved", failures(invoice)
    qr = results(invoice)["qr.consistent"]
    assert qr.outcome == "pass", qr.message_en


def test_a_ticket_for_someone_else_is_still_rejected(
    submitter, django_capture_on_commit_callbacks
):
    inv = rail_ticket(
        submitter.organization,
        buyer_name="别的公司",
        buyer_tax_id="914403001922038216",
    )
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "rejected"
    assert "914403001922038216" in invoice.decision_reason


# --- a general machine-printed invoice goes to review -----------------------------


def test_a_general_machine_invoice_goes_to_review_saying_what_it_is(
    submitter, django_capture_on_commit_callbacks
):
    org = submitter.organization
    inv = ExtractedInvoice(
        kind=InvoiceKind.GENERAL_MACHINE,
        code="144032600110",
        number="01234567",
        issue_date=ISSUED,
        seller_name="广州某餐饮有限公司",
        seller_tax_id="914400007556190127",
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        amount=D("120.00"),
        tax_amount=D("0.00"),
        total_amount=D("120.00"),
    )
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "in_review"
    event = invoice.timeline.last()
    assert event.params["rules"] == ["kind.general_machine"], failures(invoice)
    assert "not a VAT invoice" in event.params["reasons_en"]
    assert "不是增值税发票" in event.params["reasons"]
    assert invoice.review_tasks.filter(state="queued").exists()


def general_machine_invoice(org: Any) -> ExtractedInvoice:
    return ExtractedInvoice(
        kind=InvoiceKind.GENERAL_MACHINE,
        code="144032600110",
        number="07654321",
        issue_date=ISSUED,
        seller_name="广州某餐饮有限公司",
        seller_tax_id="914400007556190127",
        buyer_name=org.name,
        buyer_tax_id=org.tax_id,
        amount=D("80.00"),
        tax_amount=D("0.00"),
        total_amount=D("80.00"),
    )


def test_admins_decide_what_a_general_machine_invoice_does(
    submitter, admin_user, django_capture_on_commit_callbacks
):
    rule_update(
        actor=admin_user,
        code="kind.general_machine",
        outcome_on_fail="reject",
        change_note="our policy: VAT invoices only",
    )
    inv = general_machine_invoice(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "rejected"
    assert "不是增值税发票" in invoice.decision_reason
    assert results(invoice)["kind.general_machine"].rule_version == 2


def test_the_deduction_rate_is_an_admin_parameter(
    submitter, admin_user, django_capture_on_commit_callbacks
):
    rule_update(
        actor=admin_user,
        code="tickets.deductible_vat",
        params={"rail_rate": "0.10"},
        change_note="a new basis from the VAT Law",
    )
    inv = rail_ticket(submitter.organization, total_amount=D("110.00"))
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    # 110 / 1.10 x 0.10 = 10.00 (9 % would give 9.08)
    assert (
        results(invoice)["tickets.deductible_vat"].details["deductible_tax"] == "10.00"
    )


def test_rules_missing_from_the_database_run_with_catalog_defaults_without_writing():
    from reviews.models import Rule, RuleVersion
    from reviews.rules import rules_active

    new = ["kind.general_machine", "tickets.deductible_vat"]
    RuleVersion.objects.filter(rule__code__in=new).delete()
    Rule.objects.filter(
        code__in=["kind.general_machine", "tickets.deductible_vat"]
    ).delete()
    active = rules_active()
    assert str(active["kind.general_machine"].outcome_on_fail) == "review"
    assert str(active["tickets.deductible_vat"].outcome_on_fail) == "info"
    assert active["tickets.deductible_vat"].params == {
        "rail_rate": "0.09",
        "air_rate": "0.09",
    }
    # Reading never writes: seeding belongs to migrations and seed_demo (issue 14).
    assert not Rule.objects.filter(code__in=new).exists()
