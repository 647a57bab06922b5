"""Issue 12: the receipt embeds its CJK font, labels Beijing time in both languages
(not "CST"), and its QR code opens the invoice page with the audit hash."""

from __future__ import annotations

import io

import pypdfium2
import pytest
import zxingcpp
from django.urls import reverse
from pypdf import PdfReader

from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_seal
from invoiceportal.invoices.receipts import decision_record

from .helpers import make_invoice, reviewer_decides, to_review


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory):
    """One fresh cache for the session: the common font is converted once."""
    return tmp_path_factory.mktemp("fonts")


@pytest.fixture(autouse=True)
def _settings(settings, font_cache):
    settings.RECEIPT_FONT_CACHE = font_cache
    settings.PORTAL_BASE_URL = "https://portal.example.cn"


def _fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = [f.get_object() for f in font.get("/DescendantFonts", [])]
            for desc in [font.get("/FontDescriptor")] + [
                d.get("/FontDescriptor") for d in descendants
            ]:
                if desc is not None:
                    found.append(desc.get_object())
    return found


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_receipt_embeds_its_font_labels_times_and_carries_a_qr(
    client, submitter, reviewer, language
):
    submitter.language = language
    submitter.save(update_fields=["language"])
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")
    client.force_login(submitter)
    response = client.get(reverse("invoices:receipt", args=[invoice.id]))
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))

    descriptors = _fonts(reader)
    assert descriptors and all(
        "/FontFile2" in d or "/FontFile3" in d for d in descriptors
    ), "every font is embedded"

    text = reader.pages[0].extract_text()
    assert "北京时间 / China Standard Time (UTC+8)" in text
    assert "CST" not in text
    labels = (
        ("发票号码", "审核决定")
        if language == "zh-hans"
        else (
            "Invoice number",
            "Decided by",
        )
    )
    for label in labels:
        assert label in text
    assert invoice.seller_name in text  # CJK data is drawn with the same font
    assert "4,449.00" in text  # amounts with thousands separators

    entry = AuditEntry.objects.get(object_id=str(invoice.pk), action="invoice.rejected")
    image = pypdfium2.PdfDocument(response.content)[0].render(scale=3).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [
        f"https://portal.example.cn/invoices/{invoice.pk}/?audit={entry.hash}"
    ]


def test_rare_characters_get_a_font_of_their_own(font_cache):
    from reportlab.pdfbase.pdfmetrics import getFont

    from invoiceportal.invoices.receipt_font import COMMON_CHARACTERS, receipt_font

    common = receipt_font("发票审核回执")
    assert "龑" not in COMMON_CHARACTERS  # a rare hanzi (a name, say), not in GB 2312
    rare = receipt_font("刘龑 发票")
    assert rare != common
    assert ord("龑") in getFont(rare).face.charToGlyph


def test_the_receipt_names_the_reviewer_while_the_audit_entry_awaits_its_seal(
    settings, submitter, reviewer
):
    """Entries are sealed after the commit (issue 15): until then the receipt still
    says who decided, and carries the hash once the entry is sealed."""
    settings.AUDIT_SEAL_INLINE = False  # the test's transaction never commits
    invoice = to_review(make_invoice(submitter.organization, submitter))
    reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")

    waiting = decision_record(invoice)
    assert reviewer.get_username() in waiting.decided_by
    assert (waiting.audit_seq, waiting.audit_hash) == (None, "")

    audit_seal()
    entry = AuditEntry.objects.get(object_id=str(invoice.pk), action="invoice.rejected")
    sealed = decision_record(invoice)
    assert reviewer.get_username() in sealed.decided_by
    assert (sealed.audit_seq, sealed.audit_hash) == (entry.seq, entry.hash)
