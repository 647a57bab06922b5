"""Inline correction of a misread field: validated by the portal's parsers, only by
the task's claimant, audited (old, new, who, why), an internal timeline event, the
field marked as corrected, and the checks run again as a new round."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ConflictError, PermissionDeniedError
from reviews.context import latest_document
from reviews.models import CheckResult
from reviews.workbench.services import (
    InvalidValueError,
    invoice_field_correct,
    parse_field_value,
)
from tests.docgen.pdf_doc import make_pdf

TODAY = dt.date(2026, 12, 1)


def outcomes(invoice) -> dict[str, str]:
    return {
        r.rule_code: r.outcome for r in CheckResult.objects.latest_round(invoice.pk)
    }


@pytest.fixture
def misread(truth, organization, submit_doc, claimed):
    """An invoice whose buyer name was read with one character wrong (as OCR does):
    the buyer-name check fails and sends it to review."""
    truth.buyer_name = organization.name[:-1] + "词"
    invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    assert outcomes(invoice)["parties.buyer_name"] == "fail"
    return invoice, claimed(task)


def test_correcting_the_field_reruns_the_checks_and_the_failed_one_passes(
    misread, reviewer, organization
) -> None:
    invoice, task = misread
    before = CheckResult.objects.filter(invoice=invoice).order_by("-round")[0].round
    misread_name = invoice.buyer_name

    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="buyer_name",
        value=organization.name,
        reason="原件上的购买方名称清晰可见，识别错一个字。",
    )

    invoice.refresh_from_db()
    assert invoice.buyer_name == organization.name
    after = CheckResult.objects.filter(invoice=invoice).order_by("-round")[0].round
    assert after == before + 1
    assert outcomes(invoice)["parties.buyer_name"] == "pass"
    assert invoice.status == "in_review"  # the reviewer still decides
    mark = invoice.corrected_fields["buyer_name"]
    assert mark["by"] == reviewer.pk and mark["original"] == misread_name
    reading = latest_document(invoice).field_readings["buyer_name"]
    assert reading["source"] == "manual" and reading["confidence"] == 1.0
    assert reading["read"]["source"] == "pdf_text"  # the extractor's reading kept

    entry = AuditEntry.objects.get(action="invoice.field_corrected")
    assert entry.actor_id == reviewer.pk
    assert entry.object_id == str(invoice.pk)
    assert entry.data["old"] == misread_name
    assert entry.data["new"] == organization.name
    assert entry.data["reason"] == "原件上的购买方名称清晰可见，识别错一个字。"
    event = invoice.timeline.get(code="field_corrected")
    assert event.visible_to_submitter is False
    assert event.actor_id == reviewer.pk
    assert event.note == "原件上的购买方名称清晰可见，识别错一个字。"
    assert event.params["old"] == misread_name and event.params["round"] == after


def test_amount_correction_parses_money_and_updates_arithmetic(
    misread, reviewer
) -> None:
    invoice, task = misread
    right = invoice.total_amount
    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="total_amount",
        value=f"¥{right + 10:,.2f}",
        reason="test a wrong total",
    )
    invoice.refresh_from_db()
    assert invoice.total_amount == right + 10
    assert outcomes(invoice)["arithmetic.total"] == "fail"
    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="total_amount",
        value=str(right),
        reason="back to the printed total",
    )
    invoice.refresh_from_db()
    assert outcomes(invoice)["arithmetic.total"] == "pass"
    # Corrected twice: the mark keeps the value first read.
    assert invoice.corrected_fields["total_amount"]["original"] == f"{right:.2f}"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("total_amount", "12.345", "is not an amount with at most two decimals"),
        ("total_amount", "abc", "is not an amount"),
        ("total_amount", "", "Enter the amount"),
        ("issue_date", "2026-13-01", "is not a date"),
        ("issue_date", "2027-01-05", "between 1994-01-01 and today"),
        ("seller_tax_id", "91110108690017781A", "is not a valid taxpayer ID"),
        ("number", "123", "must be 8 or 20 digits"),
        ("code", "12345", "must be 10 or 12 digits"),
        ("total_in_words", "四千元", "is not an amount in Chinese capitals"),
        ("seller_name", "", "Enter the value as printed"),
        ("status", "approved", "cannot be corrected here"),
    ],
)
def test_malformed_values_are_refused_with_a_clear_message(
    field, value, message
) -> None:
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(InvalidValueError) as caught:
            parse_field_value(field, value, today=TODAY)
        assert message in str(caught.value.message)


def test_refusals_are_translated() -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_field_value("total_amount", "12.345", today=TODAY)
    assert str(caught.value.message) == "“12.345”不是最多两位小数的金额。"


def test_good_values_are_normalised() -> None:
    assert parse_field_value("amount", "4,197.17元", today=TODAY) == Decimal("4197.17")
    assert parse_field_value("issue_date", "2026年11月3日", today=TODAY) == dt.date(
        2026, 11, 3
    )
    assert (
        parse_field_value(
            "seller_tax_id", "９１１１０１０８６９００１７７８１Ｂ", today=TODAY
        )
        == "91110108690017781B"
    )
    assert parse_field_value("check_code", "", today=TODAY) == ""


def test_reason_is_required_and_nothing_changes_without_it(misread, reviewer) -> None:
    _invoice, task = misread
    with pytest.raises(InvalidValueError):
        invoice_field_correct(
            actor=reviewer, task_id=task.pk, field="buyer_name", value="X", reason=" "
        )
    assert not AuditEntry.objects.filter(action="invoice.field_corrected").exists()


def test_only_the_claimant_corrects(misread, supervisor, own_org_supervisor) -> None:
    _invoice, task = misread
    with pytest.raises(ConflictError):
        invoice_field_correct(
            actor=supervisor,
            task_id=task.pk,
            field="buyer_name",
            value="甲",
            reason="r",
        )
    with pytest.raises(PermissionDeniedError):
        invoice_field_correct(
            actor=own_org_supervisor,
            task_id=task.pk,
            field="buyer_name",
            value="甲",
            reason="r",
        )


def test_unchanged_value_is_refused(misread, reviewer) -> None:
    invoice, task = misread
    with pytest.raises(InvalidValueError) as caught:
        invoice_field_correct(
            actor=reviewer,
            task_id=task.pk,
            field="buyer_name",
            value=invoice.buyer_name,
            reason="same",
        )
    assert caught.value.code == "unchanged"


def test_correction_page_flow_with_csrf_and_htmx(
    misread, reviewer, organization, client
) -> None:
    invoice, task = misread
    csrf_client = client.__class__(enforce_csrf_checks=True)
    csrf_client.force_login(reviewer)
    url = f"/reviews/tasks/{task.pk}/correct/"
    refused = csrf_client.post(
        url, {"field": "buyer_name", "value": "x", "reason": "y"}
    )
    assert refused.status_code == 403  # no CSRF token

    client.force_login(reviewer)
    bad = client.post(
        url,
        {"field": "total_amount", "value": "1.234", "reason": "typo"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200
    html = bad.content.decode()
    assert 'id="correction-error"' in html and 'id="workbench-fields"' in html
    assert 'value="1.234"' in html  # what was typed is kept

    good = client.post(
        url,
        {"field": "buyer_name", "value": organization.name, "reason": "原件清晰"},
        HTTP_HX_REQUEST="true",
    )
    assert good.status_code == 204
    assert good["HX-Redirect"] == f"/reviews/tasks/{task.pk}/"
    invoice.refresh_from_db()
    assert invoice.buyer_name == organization.name

    plain = client.post(
        url, {"field": "total_amount", "value": "1.234", "reason": "typo"}
    )
    assert plain.status_code == 302 and plain.url == f"/reviews/tasks/{task.pk}/"


def test_corrected_field_is_marked_in_the_fields_panel(
    misread, reviewer, organization
) -> None:
    from .test_rendering import workbench_html

    _invoice, task = misread
    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="buyer_name",
        value=organization.name,
        reason="原件清晰",
    )
    task.refresh_from_db()
    html = workbench_html(task, reviewer)
    row = html[html.index('data-field="buyer_name" tabindex="0"') :]
    row = row[: row.index("</li>")]
    assert "wb-corrected" in row and "manual" in row and "100%" in row


def test_corrected_fields_are_in_the_api_and_the_reason_is_not(
    misread, reviewer, organization, submitter
) -> None:
    from tests.conftest import api_as

    invoice, task = misread
    url = f"/api/v1/invoices/{invoice.pk}/"
    assert api_as(submitter).get(url).json()["corrected_fields"] == []
    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="buyer_name",
        value=organization.name,
        reason="审核人员内部理由",
    )
    body = api_as(submitter).get(url)
    assert body.status_code == 200
    data = body.json()
    assert data["corrected_fields"] == ["buyer_name"]
    assert data["buyer_name"] == organization.name
    assert "审核人员内部理由" not in body.content.decode()
    staff = api_as(reviewer).get(url).json()
    assert staff["corrected_fields"] == ["buyer_name"]
