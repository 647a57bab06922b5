"""Screening on the real database: results stored, invoices routed, idempotent and
safe to retry (DESIGN.md section 5)."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from decimal import Decimal
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus
from reviews.checks.catalog import RULES
from reviews.context import build_check_context, extracted_from_invoice
from reviews.models import (
    CheckResult,
    RegistryRecord,
    Rule,
    SellerListEntry,
    registry_identity,
)
from reviews.rules import rule_update, rules_ensure_defaults
from reviews.screening import screen_invoice, screen_sweep
from tests import factories

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2024, 6, 3, 10, 0, tzinfo=SHANGHAI)
SELLER_TAX_ID = "91110108690017781B"
SELLER_NAME = "北京某软件有限公司"
NUMBER = "24112000000048542163"  # a real 数电专票 number, not in the audit sample
_refs = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def make_invoice(organization: Any, submitter: Any, **changes: Any) -> Invoice:
    """A clean 数电专票 to ``organization``: 4197.17 + 251.83 = 4449.00, one line,
    read from an XML file (``tests.factories.make_invoice``)."""
    fields: dict[str, Any] = {
        "reference": f"INV-2024-{next(_refs):06d}",
        "number": NUMBER,
        "issue_date": dt.date(2024, 5, 28),
        "seller_name": SELLER_NAME,
        "seller_tax_id": SELLER_TAX_ID,
        "extractor": "xml",
    }
    return factories.make_invoice(organization, submitter, **(fields | changes))


def register(invoice: Invoice, **changes: Any) -> RegistryRecord:
    """The tax authority's record of the invoice, as issued."""
    fields = {
        "code": invoice.code,
        "number": invoice.number,
        "issue_date": invoice.issue_date,
        "seller_tax_id": invoice.seller_tax_id,
        "seller_name": invoice.seller_name,
        "buyer_tax_id": invoice.buyer_tax_id,
        "buyer_name": invoice.buyer_name,
        "amount": invoice.amount,
        "tax_amount": invoice.tax_amount,
        "total_amount": invoice.total_amount,
        "status": "normal",
    } | changes
    identity = registry_identity(code=fields["code"], number=fields["number"])
    return RegistryRecord.objects.create(identity=identity, **fields)


def timeline(invoice: Invoice) -> list[str]:
    return list(invoice.timeline.values_list("code", flat=True))


def audit_count(invoice: Invoice) -> int:
    return AuditEntry.objects.filter(object_id=str(invoice.pk)).count()


def results(invoice: Invoice) -> dict[str, CheckResult]:
    return {r.rule_code: r for r in CheckResult.objects.filter(invoice=invoice)}


def failures(invoice: Invoice) -> dict[str, str]:
    return {
        code: r.action for code, r in results(invoice).items() if r.outcome == "fail"
    }


@pytest.fixture
def clean_invoice(organization, submitter) -> Invoice:
    invoice = make_invoice(organization, submitter)
    register(invoice)
    return invoice


def test_clean_invoice_with_registry_match_is_approved_automatically(
    clean_invoice: Invoice,
) -> None:
    screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED, failures(clean_invoice)
    assert clean_invoice.decision_source == DecisionSource.AUTOMATIC
    assert clean_invoice.decided_at == NOW
    stored = results(clean_invoice)
    assert set(stored) == {rule.code for rule in RULES}
    assert {r.outcome for r in stored.values()} <= {"pass", "skipped"}
    assert {r.action for r in stored.values()} == {"none"}
    assert stored["registry.match"].outcome == "pass"
    assert {r.round for r in stored.values()} == {1}
    assert len({r.run_id for r in stored.values()}) == 1
    assert timeline(clean_invoice) == ["screening_started", "auto_approved"]
    assert list(
        AuditEntry.objects.filter(object_id=str(clean_invoice.pk)).values_list(
            "action", flat=True
        )
    ) == ["invoice.screening", "invoice.approved"]


def test_buyer_tax_id_of_another_company_is_rejected_saying_what_to_do(
    organization, other_organization, submitter
) -> None:
    invoice = make_invoice(
        organization,
        submitter,
        buyer_tax_id=other_organization.tax_id,
        buyer_name=other_organization.name,
    )
    register(invoice)

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED
    assert invoice.decision_source == DecisionSource.AUTOMATIC
    result = results(invoice)["parties.buyer_tax_id"]
    assert (result.outcome, result.action) == ("fail", "reject")
    assert other_organization.tax_id in result.message_zh
    assert "请联系销售方" in result.message_zh  # what to do, not only what is wrong
    assert "Ask the seller to issue a new invoice" in result.message_en
    assert result.message_zh in invoice.decision_reason
    event = invoice.timeline.last()
    assert event.code == "auto_rejected"
    assert event.params["reasons"] == invoice.decision_reason
    assert "parties.buyer_tax_id" in event.params["rules"]
    assert "Ask the seller" in event.params["reasons_en"]


def test_amount_above_threshold_goes_to_review_and_records_the_rule_version(
    clean_invoice: Invoice, admin_user
) -> None:
    rule_update(
        actor=admin_user,
        code="amount.threshold",
        params={"threshold": "1000"},
        change_note="Review everything above 1,000 CNY this quarter.",
    )

    screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.IN_REVIEW
    assert clean_invoice.decision_source == ""
    assert clean_invoice.decided_at is None
    assert failures(clean_invoice) == {"amount.threshold": "review"}
    stored = results(clean_invoice)
    assert stored["amount.threshold"].rule_version == 2
    assert stored["amount.threshold"].details["threshold"] == "1000"
    assert stored["registry.match"].rule_version == 1
    assert timeline(clean_invoice) == ["screening_started", "sent_to_review"]
    assert "4449.00" in clean_invoice.timeline.last().params["reasons"]


def test_registry_not_found_goes_to_review(organization, submitter) -> None:
    invoice = make_invoice(organization, submitter)  # nothing in the registry

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert failures(invoice) == {"registry.match": "review"}
    assert results(invoice)["registry.match"].details["registry"] == "not_found"


def test_registry_void_is_rejected(organization, submitter) -> None:
    invoice = make_invoice(organization, submitter)
    register(invoice, status="void")

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED
    assert "已作废" in results(invoice)["registry.status"].message_zh


def test_screening_twice_changes_nothing_the_second_time(
    clean_invoice: Invoice,
) -> None:
    screen_invoice(invoice_id=clean_invoice.pk)
    before = (
        CheckResult.objects.count(),
        timeline(clean_invoice),
        AuditEntry.objects.count(),
    )

    screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    after = (
        CheckResult.objects.count(),
        timeline(clean_invoice),
        AuditEntry.objects.count(),
    )
    assert after == before


def test_a_failure_midway_rolls_back_and_the_invoice_can_be_screened_again(
    clean_invoice: Invoice,
) -> None:
    # A damaged row: a kind this code does not know. Screening has already moved the
    # invoice to "screening" when it reads the kind.
    Invoice.objects.filter(pk=clean_invoice.pk).update(kind="e_parking")
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ValueError, match="unknown kind 'e_parking'"):
        screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.RECEIVED
    assert timeline(clean_invoice) == []
    assert not CheckResult.objects.filter(invoice=clean_invoice).exists()
    assert AuditEntry.objects.count() == audit_before

    Invoice.objects.filter(pk=clean_invoice.pk).update(kind="digital_special")
    screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    assert timeline(clean_invoice) == ["screening_started", "auto_approved"]
    assert CheckResult.objects.filter(invoice=clean_invoice).count() == len(RULES)


def test_a_rule_with_broken_params_in_the_database_sends_to_review_not_to_reject(
    organization, submitter
) -> None:
    # Written past rule_update, which would refuse it: the runner must not let a
    # misconfigured rule decide, nor crash the screening.
    invoice = make_invoice(organization, submitter)
    register(invoice)
    rules_ensure_defaults()
    Rule.objects.filter(code="dates.max_age").update(params={"max_age_days": "many"})

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    result = results(invoice)["dates.max_age"]
    assert (result.outcome, result.action) == ("fail", "review")
    assert "管理员需修正规则参数" in result.message_zh
    assert result.details["errors"]


def test_a_disabled_rule_does_not_run(organization, submitter, admin_user) -> None:
    invoice = make_invoice(organization, submitter)  # not in the registry
    rule_update(
        actor=admin_user,
        code="registry.match",
        enabled=False,
        change_note="Registry import is late this month.",
    )

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert "registry.match" not in results(invoice)
    assert len(results(invoice)) == len(RULES) - 1


def test_a_live_invoice_of_the_same_identity_blocks_the_new_one(
    organization, submitter
) -> None:
    first = make_invoice(organization, submitter, status=InvoiceStatus.APPROVED)
    register(first)
    # The database keeps a second live copy of the organization from being stored
    # under the same identity; one stored without it is still caught by its code and
    # number. (Another organization's copy is a fraud signal for review instead:
    # tests/security/test_intake_cross_organization.py.)
    second = make_invoice(organization, submitter, identity="")

    screen_invoice(invoice_id=second.pk)

    second.refresh_from_db()
    assert second.status == InvoiceStatus.REJECTED
    result = results(second)["duplicates.exact"]
    assert result.action == "reject"
    assert first.reference in result.message_zh
    assert result.details["duplicates"] == [
        {"reference": first.reference, "status": "approved"}
    ]


def test_a_rejected_invoice_of_the_same_identity_does_not_block(
    organization, submitter
) -> None:
    make_invoice(organization, submitter, status=InvoiceStatus.REJECTED)
    again = make_invoice(organization, submitter)
    register(again)

    screen_invoice(invoice_id=again.pk)

    again.refresh_from_db()
    assert again.status == InvoiceStatus.APPROVED, failures(again)


def test_seller_lists_decide(organization, submitter, admin_user) -> None:
    watched = make_invoice(organization, submitter)
    register(watched)
    SellerListEntry.objects.create(
        seller_tax_id=SELLER_TAX_ID, list="watch", added_by=admin_user
    )
    screen_invoice(invoice_id=watched.pk)
    watched.refresh_from_db()
    assert watched.status == InvoiceStatus.IN_REVIEW
    assert failures(watched) == {"sellers.watchlist": "review"}

    blocked = make_invoice(
        organization, submitter, number="24112000000048542164"
    )  # another invoice of the same seller
    register(blocked)
    SellerListEntry.objects.create(seller_tax_id=SELLER_TAX_ID, list="block")
    screen_invoice(invoice_id=blocked.pk)
    blocked.refresh_from_db()
    assert blocked.status == InvoiceStatus.REJECTED
    assert failures(blocked)["sellers.blocklist"] == "reject"


def test_the_same_file_in_another_submission_goes_to_review(
    organization, submitter
) -> None:
    content = b"<Invoice>the same bytes</Invoice>"
    make_invoice(
        organization,
        submitter,
        number="24112000000048542165",
        status=InvoiceStatus.WITHDRAWN,
        file_content=content,
    )
    invoice = make_invoice(organization, submitter, file_content=content)
    register(invoice)

    screen_invoice(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert failures(invoice) == {"duplicates.file_hash": "review"}


def test_the_context_is_read_from_the_database(
    organization, other_organization, submitter
) -> None:
    blue = make_invoice(other_organization, submitter, status=InvoiceStatus.APPROVED)
    mine = make_invoice(organization, submitter, number="24112000000048542166")
    near = make_invoice(
        other_organization,
        submitter,
        number="24112000000048542167",
        status=InvoiceStatus.IN_REVIEW,
    )
    red = make_invoice(
        organization,
        submitter,
        number="24112000000099999999",
        is_red=True,
        amount=D("-4197.17"),
        tax_amount=D("-251.83"),
        total_amount=D("-4449.00"),
        remarks=f"被红冲蓝字数电发票号码：{NUMBER}",
        file_format="png",
        field_readings={
            "number": {"source": "ocr", "confidence": 0.97},
            "amount": {"source": "ocr", "confidence": 0.62},
        },
    )
    SellerListEntry.objects.create(seller_tax_id=SELLER_TAX_ID, list="watch")

    ctx = build_check_context(mine, extracted_from_invoice(mine))
    assert ctx.organization_tax_id == organization.tax_id
    assert ctx.organization_name == organization.name
    assert ctx.today == dt.date(2024, 6, 3)
    assert str(ctx.source_format) == "xml"
    assert [i.reference for i in ctx.same_identity_invoices] == []
    assert {i.reference for i in ctx.near_duplicate_candidates} == {
        blue.reference,
        near.reference,
    }
    assert ctx.registry == "not_found"
    assert ctx.watchlist_seller_tax_ids == frozenset({SELLER_TAX_ID})
    assert ctx.blocklist_seller_tax_ids == frozenset()
    assert ctx.blue_invoice is None
    assert ctx.extraction_min_confidence is None

    extracted = extracted_from_invoice(red)
    assert extracted.red_of_number == NUMBER
    assert extracted.lines[0].tax_rate == D("0.06")
    ctx = build_check_context(red, extracted)
    assert str(ctx.source_format) == "image"
    assert ctx.extraction_min_confidence == pytest.approx(0.62)
    assert ctx.blue_invoice is not None
    assert ctx.blue_invoice.reference == blue.reference
    assert ctx.near_duplicate_candidates == ()  # other total


def test_a_new_round_after_an_answer_keeps_the_earlier_results(
    clean_invoice: Invoice, admin_user
) -> None:
    rule_update(
        actor=admin_user,
        code="amount.threshold",
        params={"threshold": "1000"},
        change_note="Review everything above 1,000 CNY.",
    )
    screen_invoice(invoice_id=clean_invoice.pk)
    # The reviewer asks, the submitter answers (their services do this).
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=clean_invoice.pk)
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.NEEDS_INFO,
            actor=admin_user,
            code="info_requested",
        )
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="info_provided",
        )
    rule_update(
        actor=admin_user,
        code="amount.threshold",
        params={"threshold": "100000"},
        change_note="Back to the default threshold.",
    )

    screen_invoice(invoice_id=clean_invoice.pk)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    assert CheckResult.objects.filter(invoice=clean_invoice).count() == 2 * len(RULES)
    latest = CheckResult.objects.latest_round(clean_invoice.pk)
    assert {r.round for r in latest} == {2}
    assert latest.get(rule_code="amount.threshold").rule_version == 3
    assert (
        CheckResult.objects.get(
            invoice=clean_invoice, round=1, rule_code="amount.threshold"
        ).outcome
        == "fail"
    )
    assert timeline(clean_invoice) == [
        "screening_started",
        "sent_to_review",
        "info_requested",
        "info_provided",
        "auto_approved",
        "review_closed",  # the decision closes the waiting task at once
    ]


def test_the_sweep_requeues_invoices_stuck_before_a_decision(
    clean_invoice: Invoice, time_machine: Any
) -> None:
    time_machine.move_to(NOW + dt.timedelta(minutes=5), tick=False)
    assert screen_sweep() == []
    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.RECEIVED

    time_machine.move_to(NOW + dt.timedelta(minutes=11), tick=False)
    assert screen_sweep() == [str(clean_invoice.pk)]  # the task runs inline in tests

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    assert screen_sweep() == []


def test_rescreen_runs_undecided_invoices_and_says_so_for_decided_ones(
    clean_invoice: Invoice, organization, submitter
) -> None:
    decided = make_invoice(
        organization,
        submitter,
        number="24112000000048542168",
        status=InvoiceStatus.REJECTED,
    )
    history = timeline(decided)
    out, err = StringIO(), StringIO()

    call_command(
        "rescreen",
        clean_invoice.reference,
        decided.reference,
        "INV-0000-000000",
        stdout=out,
        stderr=err,
    )

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    assert f"{clean_invoice.reference}: screened -> approved" in out.getvalue()
    assert f"{decided.reference}: already decided (rejected)" in out.getvalue()
    assert "INV-0000-000000: no such invoice." in err.getvalue()
    assert timeline(decided) == history  # nothing added


def test_rescreen_stuck_screens_only_the_stuck_ones(
    clean_invoice: Invoice, time_machine: Any
) -> None:
    out = StringIO()
    call_command("rescreen", "--stuck", stdout=out)
    assert "No invoice is stuck" in out.getvalue()

    time_machine.move_to(NOW + dt.timedelta(minutes=30), tick=False)
    call_command("rescreen", "--stuck", "--minutes", "20", stdout=out)

    clean_invoice.refresh_from_db()
    assert clean_invoice.status == InvoiceStatus.APPROVED
    with pytest.raises(CommandError):
        call_command("rescreen")


@pytest.mark.django_db(transaction=True)
def test_two_workers_screening_the_same_invoice_decide_it_once(
    organization, submitter
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL: SQLite has no row locks and serialises writers, so it "
            "cannot show two screenings racing (run with DATABASE_URL=postgres://...)."
        )
    invoice = make_invoice(organization, submitter)
    register(invoice)
    rules_ensure_defaults()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            screen_invoice(invoice_id=invoice.pk)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert timeline(invoice) == ["screening_started", "auto_approved"]
    assert CheckResult.objects.filter(invoice=invoice).count() == len(RULES)
    assert audit_count(invoice) == 2


def test_an_unreachable_provider_sends_to_review_never_rejects(
    organization, submitter, settings
) -> None:
    settings.VERIFIER_BACKEND = "reviews.verification.HttpVerifier"
    settings.VERIFIER_OPTIONS = {
        "url": "http://127.0.0.1:9/verify",
        "attempts": 1,
        "timeout": 0.5,
    }
    invoice = make_invoice(organization, submitter)
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.IN_REVIEW
    assert "registry.match" in failures(invoice)
