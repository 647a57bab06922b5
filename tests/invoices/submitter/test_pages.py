"""My invoices, the invoice page, live status, downloads and the help centre."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from portal.submitter.selectors import typical_decision_times

from .helpers import (
    ask_for_info,
    auto_approve,
    auto_reject,
    make_invoice,
    reviewer_decides,
    to_review,
)

pytestmark = pytest.mark.django_db


def many(org, user, n, **fields):
    base = timezone.now()
    return [
        make_invoice(org, user, submitted_at=base - dt.timedelta(minutes=i), **fields)
        for i in range(n)
    ]


def test_my_invoices_pages_by_cursor_without_gaps_or_repeats(client, submitter):
    many(submitter.organization, submitter, 55)
    client.force_login(submitter)

    first = client.get(reverse("invoices:list"))
    rows_1 = first.context["page"].rows
    second = client.get(
        reverse("invoices:list"), {"after": first.context["page"].next_cursor}
    )
    rows_2 = second.context["page"].rows

    assert len(rows_1) == 50 and len(rows_2) == 5
    assert {r.pk for r in rows_1} | {r.pk for r in rows_2} == set(
        Invoice.objects.values_list("pk", flat=True)
    )
    assert second.context["page"].next_cursor is None
    back = client.get(
        reverse("invoices:list"), {"before": second.context["page"].prev_cursor}
    )
    assert [r.pk for r in back.context["page"].rows] == [r.pk for r in rows_1]
    assert "55" in first.content.decode()


def test_my_invoices_reads_a_fixed_number_of_queries(
    client, submitter, django_assert_max_num_queries
):
    invoices = many(submitter.organization, submitter, 12)
    for invoice in invoices[:4]:
        to_review(invoice)
    client.force_login(submitter)
    client.get(reverse("invoices:list"))  # warm the calendar cache
    with django_assert_max_num_queries(14):
        response = client.get(reverse("invoices:list"))
    assert response.status_code == 200


def test_my_invoices_filters(client, submitter):
    org = submitter.organization
    cheap = make_invoice(org, submitter, total_amount=D("100.00"), seller_name="甲公司")
    dear = make_invoice(org, submitter, total_amount=D("9000.00"), seller_name="乙公司")
    to_review(dear)
    client.force_login(submitter)

    def refs(**params):
        response = client.get(reverse("invoices:list"), params)
        return {r.reference for r in response.context["page"].rows}

    assert refs(status="in_review") == {dear.reference}
    assert refs(amount_min="1000") == {dear.reference}
    assert refs(amount_max="1000") == {cheap.reference}
    assert refs(seller="甲") == {cheap.reference}
    assert refs(reference=cheap.reference.lower()) == {cheap.reference}
    assert refs(number=dear.number[:14]) >= {dear.reference}
    assert refs(q=dear.number) == {dear.reference}
    today = timezone.localdate().isoformat()
    assert refs(submitted_from=today, submitted_to=today) == {
        cheap.reference,
        dear.reference,
    }
    assert refs(kind="paper_special") == set()
    assert (
        "乙公司"
        in client.get(
            reverse("invoices:list"), {"status": "in_review"}
        ).content.decode()
    )


def test_open_invoices_show_their_expected_decision(client, submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    screening = make_invoice(submitter.organization, submitter)
    client.force_login(submitter)
    response = client.get(reverse("invoices:list"))
    rows = {invoice: eta for invoice, eta, _url in response.context["rows"]}
    assert rows[invoice] is not None and rows[invoice].due_at is not None
    assert rows[screening].due_at is None
    assert rows[screening].text == "自动检查：数分钟内"


def test_csv_export_streams_the_filtered_list_only(
    client, submitter, other_organization
):
    from tests.factories import UserFactory

    org = submitter.organization
    mine = make_invoice(org, submitter, seller_name="=HYPERLINK(1)")
    to_review(mine)
    make_invoice(org, submitter)
    stranger = UserFactory(organization=other_organization)
    theirs = make_invoice(other_organization, stranger)
    client.force_login(submitter)

    response = client.get(reverse("invoices:export"), {"status": "in_review"})

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert rows[1][0] == mine.reference
    assert rows[1][6] == "'=HYPERLINK(1)"
    assert theirs.reference not in text


def test_invoice_page_explains_checks_and_shows_eta_and_sla(client, submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)
    page = client.get(reverse("invoices:detail", args=[invoice.id])).content.decode()
    assert "明细金额合计与发票金额不符。" in page
    assert 'data-outcome="fail"' in page
    assert 'id="sla-due"' in page and 'id="eta"' in page
    assert "自动" in page  # the automatic step, by whom
    assert 'hx-trigger="every 3s"' in page


def test_status_poll_is_one_small_query_while_nothing_changes(
    client, submitter, reviewer
):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)
    url = reverse("invoices:status", args=[invoice.id])
    version = client.get(reverse("invoices:detail", args=[invoice.id])).context[
        "version"
    ]
    assert client.get(url, {"v": version}).status_code == 204  # primes the caches

    with CaptureQueriesContext(connection) as queries:
        unchanged = client.get(url, {"v": version})
    invoice_queries = [q for q in queries if "invoices_invoice" in q["sql"]]

    assert unchanged.status_code == 204
    assert len(invoice_queries) == 1
    assert len(queries) <= 3  # the session, the user, the invoice

    reviewer_decides(invoice, reviewer, "approve")
    changed = client.get(url, {"v": version})
    body = changed.content.decode()
    assert changed.status_code == 200
    assert 'data-status="approved"' in body
    assert "hx-trigger" not in body  # decided: polling stops


def test_receipt_pdf_carries_the_decision_and_its_audit_hash(
    client, submitter, reviewer
):
    from pypdf import PdfReader

    invoice = to_review(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)
    not_yet = client.get(reverse("invoices:receipt", args=[invoice.id]))
    assert not_yet.status_code == 302
    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")

    response = client.get(reverse("invoices:receipt", args=[invoice.id]))

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    entry = AuditEntry.objects.filter(
        object_id=str(invoice.pk), action="invoice.rejected"
    ).get()
    assert entry.hash in text.replace("\n", "")
    assert invoice.reference in text


def test_receipt_of_an_automatic_decision(client, submitter):
    invoice = auto_approve(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)
    response = client.get(reverse("invoices:receipt", args=[invoice.id]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_original_document_downloads_and_pdf_previews_inline(client, submitter):
    pdf = make_invoice(
        submitter.organization, submitter, file_format="pdf", file_content=b"%PDF-1.4"
    )
    xml = make_invoice(submitter.organization, submitter)
    client.force_login(submitter)
    download = client.get(reverse("invoices:document", args=[pdf.id]))
    assert "attachment" in download["Content-Disposition"]
    preview = client.get(reverse("invoices:document_preview", args=[pdf.id]))
    assert (
        preview.status_code == 200 and "sandbox" in preview["Content-Security-Policy"]
    )
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert (
        client.get(reverse("invoices:document_preview", args=[xml.id])).status_code
        == 404
    )
    assert (
        "<iframe"
        in client.get(reverse("invoices:detail", args=[pdf.id])).content.decode()
    )


def test_rejected_invoice_page_says_what_to_do(client, submitter):
    invoice = auto_reject(make_invoice(submitter.organization, submitter))
    client.force_login(submitter)
    page = client.get(reverse("invoices:detail", args=[invoice.id])).content.decode()
    assert "购买方税号与贵单位不符。" in page
    assert 'id="resubmit-card"' in page and 'id="receipt-link"' in page


def test_needs_info_page_shows_the_question_and_the_paused_clock(
    client, submitter, reviewer
):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    client.force_login(submitter)
    page = client.get(reverse("invoices:detail", args=[invoice.id])).content.decode()
    assert 'id="question"' in page and "请提供合同编号。" in page
    assert 'id="respond-form"' in page and 'id="pause-reason"' in page


def test_help_centre_in_both_languages_with_live_figures(client, submitter, reviewer):
    auto_approve(make_invoice(submitter.organization, submitter))
    decided = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(decided, reviewer, "approve")
    client.force_login(submitter)
    page = client.get(reverse("invoices:help")).content.decode()
    assert "identity.format" in page and "发票代码与号码格式" in page
    assert 'id="times-automatic"' in page and 'id="times-reviewer"' in page
    assert "No decisions recently." not in page
    submitter.language = "en"
    submitter.save()
    english = client.get(reverse("invoices:help")).content.decode()
    assert "Invoice code and number format" in english
    assert "How review works" in english
    assert Invoice.objects.filter(status=InvoiceStatus.APPROVED).count() == 2


def test_help_centre_times_use_the_portals_one_percentile(submitter):
    """The help centre's p90 is ``reviews.sla.stats.median_and_p90`` (nearest rank),
    not a formula of its own: of 1, 2, 3, 4, 5 and 60 seconds the p90 is 60."""
    now = timezone.now()
    spans = [1, 2, 3, 4, 5, 60]
    for seconds in spans:
        invoice = auto_approve(make_invoice(submitter.organization, submitter))
        Invoice.objects.filter(pk=invoice.pk).update(
            submitted_at=now - dt.timedelta(seconds=seconds), decided_at=now
        )
    figures = typical_decision_times(now=now)
    assert figures["automatic"] == {"count": 6, "median": 3.5, "p90": 60.0}
    assert figures["reviewer"] is None


def test_every_row_of_my_invoices_links_to_its_own_page(client, submitter):
    invoices = [make_invoice(submitter.organization, submitter) for _ in range(3)]
    client.force_login(submitter)
    body = client.get(reverse("invoices:list")).content.decode()
    for invoice in invoices:
        href = f'href="{reverse("invoices:detail", args=[invoice.id])}"'
        assert body.count(href) == 2  # the phone card and the table row
