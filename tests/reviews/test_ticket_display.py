"""The deductible input VAT of a ticket and the special-business data (toll passages,
rail trip, air segments) on the submitter's invoice page, the reviewer's task page and
in the API detail: screened by the real service, read back through the real pages."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.urls import reverse

from invoiceportal.invoices.models import Invoice
from reviews.queue.services import review_task_claim_next
from tests.conftest import api_as

from .test_real_variants_routing import (  # noqa: F401 - the autouse fixtures too
    _frozen_clock,
    _media,
    _no_random_audit,
    air_itinerary,
    rail_ticket,
    register,
    screened,
    submit_manual,
    toll_invoice,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_four_eyes(db: Any) -> None:
    from reviews.models import SecondReviewRule

    SecondReviewRule.objects.update(enabled=False)


def test_the_submitter_sees_a_rail_tickets_deductible_tax_and_trip(
    client, submitter, django_capture_on_commit_callbacks
):
    inv = rail_ticket(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "approved"
    client.force_login(submitter)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert 'id="deductible-tax"' in html
    assert "可抵扣进项税额" in html and "¥6.03" in html
    # the rule's explanation, in Chinese: fare / (1 + 9 %) x 9 %
    assert "票面金额73.00÷(1+9%)×9%" in html
    assert 'data-section="rail"' in html
    for label, value in (
        ("旅客", "张三"),
        ("行程", "南京南 → 常州"),
        ("出发时间", "2026-03-02 12:12"),
        ("车次", "G7575"),
        ("席别", "二等座"),
    ):
        assert (
            f'<dt class="col-sm-4">{label}</dt><dd class="col-sm-8">{value}</dd>'
            in (html)
        ), label


def test_the_submitter_sees_toll_passages_and_no_deduction_line(
    client, submitter, django_capture_on_commit_callbacks
):
    inv = toll_invoice(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    client.force_login(submitter)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert 'data-section="toll"' in html
    assert "通行费信息" in html and "车牌号" in html and "浙A12345" in html
    assert "<td>2026-02-27</td><td>2026-02-28</td>" in html
    assert 'id="deductible-tax"' not in html  # a VAT invoice prints its own tax


def test_an_invoice_without_special_business_shows_no_such_card(
    client, submitter, django_capture_on_commit_callbacks
):
    inv = dataclasses.replace(toll_invoice(submitter.organization), extras={})
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    client.force_login(submitter)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert 'id="special-business"' not in html


def test_the_reviewer_sees_the_itinerary_segments_and_deductible_tax(
    client, submitter, reviewer, no_four_eyes, django_capture_on_commit_callbacks
):
    # not in the registry yet: goes to review
    inv = air_itinerary(submitter.organization)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    assert invoice.status == "in_review"
    task = review_task_claim_next(user=reviewer)
    assert task is not None and task.invoice_id == invoice.pk
    client.force_login(reviewer)
    response = client.get(f"/reviews/tasks/{task.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "可抵扣进项税额" in html and "¥87.52" in html
    assert 'data-section="air"' in html
    assert "<td>杭州萧山</td><td>北京首都</td><td>国航</td><td>CA1701</td>" in html
    assert "民航发展基金" in html and "50.00" in html
    assert "航班号" in html


def test_the_api_detail_gives_the_deductible_tax_and_extras(
    submitter, django_capture_on_commit_callbacks
):
    org = submitter.organization
    ticket = air_itinerary(org)
    register(ticket)
    toll = toll_invoice(org)
    register(toll)
    air_invoice = screened(
        submit_manual(submitter, ticket), django_capture_on_commit_callbacks
    )
    toll_invoice_row = screened(
        submit_manual(submitter, toll), django_capture_on_commit_callbacks
    )
    client = api_as(submitter)
    air_json = client.get(f"/api/v1/invoices/{air_invoice.pk}/").json()
    assert air_json["deductible_tax"] == "87.52"
    assert air_json["extras"] == ticket.extras
    toll_json = client.get(f"/api/v1/invoices/{toll_invoice_row.pk}/").json()
    assert toll_json["deductible_tax"] is None
    assert toll_json["extras"]["toll"]["passages"][0]["from"] == "2026-02-27"
    # the list keeps its contract: no detail-only fields
    listed = client.get("/api/v1/invoices/").json()["results"][0]
    assert "deductible_tax" not in listed and "extras" not in listed


def test_an_unscreened_ticket_says_the_deduction_comes_with_the_checks(
    client, submitter
):
    from invoiceportal.invoices.intake import invoice_submit_manual

    result = invoice_submit_manual(
        user=submitter, extracted=rail_ticket(submitter.organization)
    )
    invoice = Invoice.objects.get(pk=result.invoice.pk)
    assert invoice.status == "received"
    client.force_login(submitter)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "自动检查运行后计算" in html


def test_an_english_reader_sees_english_labels_and_explanation(
    client, submitter, django_capture_on_commit_callbacks
):
    submitter.language = "en"
    submitter.save(update_fields=["language"])
    inv = air_itinerary(submitter.organization)
    register(inv)
    invoice = screened(
        submit_manual(submitter, inv), django_capture_on_commit_callbacks
    )
    client.force_login(submitter)
    html = client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "Deductible input VAT" in html and "¥87.52" in html
    assert "the VAT printed on the itinerary" in html
    assert "<th>Flight</th>" in html and "Civil aviation development fund" in html
