"""Issue 12: a passed check reads as the passed fact ("No duplicate found", not
"疑似重复报销" with a green tick), and "No QR code was read" is not shown on an XML
or OFD file, which has no QR code."""

from __future__ import annotations

from django.utils import translation

from reviews.models import CheckResult

from .helpers import make_invoice, to_review


def _passed_and_skipped(invoice):
    CheckResult.objects.create(
        invoice=invoice,
        round=1,
        rule_code="duplicates.near",
        rule_version=1,
        outcome="pass",
        action="none",
    )
    CheckResult.objects.create(
        invoice=invoice,
        round=1,
        rule_code="qr.consistent",
        rule_version=1,
        outcome="skipped",
        action="none",
        message_zh="未读到二维码。",
        message_en="No QR code was read.",
    )


def test_passed_titles_state_the_fact_in_both_languages(client, submitter):
    invoice = to_review(make_invoice(submitter.organization, submitter))
    _passed_and_skipped(invoice)
    assert invoice.documents.get().format == "xml"
    client.force_login(submitter)
    zh = client.get(f"/invoices/{invoice.id}/").content.decode()
    assert "未发现重复报销" in zh and "疑似重复报销" not in zh
    assert "未读到二维码" not in zh
    submitter.language = "en"
    submitter.save(update_fields=["language"])
    with translation.override("en"):
        en = client.get(f"/invoices/{invoice.id}/").content.decode()
    assert "No duplicate found" in en and "Possible duplicate" not in en
    assert "No QR code was read" not in en
    api = client.get(f"/api/v1/invoices/{invoice.id}/").json()
    assert "qr.consistent" not in {c["rule"] for c in api["checks"]}


def test_a_failed_check_keeps_its_title_and_a_scan_keeps_its_qr_result(
    client, submitter
):
    scan = make_invoice(
        submitter.organization, submitter, file_format="pdf", file_content=b"%PDF-1.4"
    )
    invoice = to_review(scan, failing_rule="duplicates.near")
    CheckResult.objects.create(
        invoice=invoice,
        round=1,
        rule_code="qr.consistent",
        rule_version=1,
        outcome="skipped",
        action="none",
        message_zh="未读到二维码。",
        message_en="No QR code was read.",
    )
    client.force_login(submitter)
    html = client.get(f"/invoices/{invoice.id}/").content.decode()
    assert "疑似重复报销" in html  # failed: the title names what was found
    assert "未读到二维码" in html  # a PDF may carry a QR code: worth saying
