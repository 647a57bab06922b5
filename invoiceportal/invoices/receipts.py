"""The decision receipt: a one-page PDF with the invoice's identity, the decision and
its reasons, who decided (a reviewer or the automatic checks), when, and the audit
hash that anchors the decision in the hash-chained audit log.

Drawn with reportlab in an embedded CJK TrueType subset (``receipt_font``; the
non-embedded CID font STSong-Light only when no source font is installed). Times
are Beijing time, labelled in both languages. A QR code opens the invoice page
(``PORTAL_BASE_URL``; the reader signs in) and carries the decision's audit hash.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ConflictError

from .models import Invoice
from .receipt_font import receipt_font
from .status import DECIDED, DecisionSource, InvoiceStatus
from .templatetags.invoice_display import money

FONT = "STSong-Light"


@dataclass(frozen=True)
class DecisionRecord:
    status: str
    source: str
    decided_by: str
    decided_at: Any
    reason: str
    audit_seq: int | None
    audit_hash: str


def decision_record(invoice: Invoice) -> DecisionRecord:
    if invoice.status not in DECIDED:
        raise ConflictError(
            _("A receipt exists once the invoice is approved or rejected."),
            code="not_decided",
        )
    # Sealed or not: an entry is sealed after its commit (``audit_seal``), and until
    # then it still says who decided; the hash and place come with the seal.
    entry = (
        AuditEntry.all_rows.filter(
            object_type=Invoice._meta.label_lower,
            object_id=str(invoice.pk),
            action=f"invoice.{invoice.status}",
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    automatic = invoice.decision_source == DecisionSource.AUTOMATIC
    if automatic or entry is None or entry.actor is None:
        who = _("Automatic checks")
    else:
        who = _("Tax reviewer %(name)s") % {
            "name": entry.actor.get_full_name() or entry.actor.get_username()
        }
    return DecisionRecord(
        status=str(InvoiceStatus(invoice.status).label),
        source=str(DecisionSource(invoice.decision_source).label)
        if invoice.decision_source
        else "",
        decided_by=who,
        decided_at=invoice.decided_at,
        reason=invoice.decision_reason,
        audit_seq=entry.seq if entry else None,
        audit_hash=(entry.hash or "") if entry else "",
    )


# Not "CST" (also US Central and Cuba): the zone in both languages with its offset.
TIME_LABEL = "北京时间 / China Standard Time (UTC+8)"


def _local(moment: Any) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def receipt_link(invoice: Invoice, record: DecisionRecord) -> str:
    """What the receipt's QR code holds: the invoice page on the portal's address,
    with the decision's audit hash (the page ignores it; a reader compares it)."""
    path = reverse("invoices:detail", args=[invoice.pk])
    url = settings.PORTAL_BASE_URL.rstrip("/") + path
    return f"{url}?audit={record.audit_hash}" if record.audit_hash else url


def _draw_qr(pdf: Any, data: str, x: float, y: float, size: float) -> None:
    """``data`` as a QR code, drawn as vector squares at (x, y) bottom-left."""
    import segno

    code = segno.make_qr(data, error="m")
    matrix = [list(row) for row in code.matrix]
    border = 4
    modules = len(matrix) + 2 * border
    cell = size / modules
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                top = y + size - (r + border + 1) * cell
                pdf.rect(x + (c + border) * cell, top, cell, cell, stroke=0, fill=1)


def _wrap(text: str, width: float, size: float, font: str = FONT) -> list[str]:
    """Break text to fit ``width`` points (character by character: Chinese has no
    spaces)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        current = ""
        for char in paragraph:
            if stringWidth(current + char, font, size) > width:
                lines.append(current)
                current = char
            else:
                current += char
        lines.append(current)
    return lines


def _sections(invoice: Invoice, record: DecisionRecord) -> list[tuple[str, list]]:
    return [
        (
            _("Invoice"),
            [
                (_("Reference"), invoice.reference),
                (_("Kind"), invoice.get_kind_display()),
                (_("Invoice code"), invoice.code),
                (_("Invoice number"), invoice.number),
                (
                    _("Issue date"),
                    invoice.issue_date and invoice.issue_date.isoformat(),
                ),
                (_("Seller"), f"{invoice.seller_name} {invoice.seller_tax_id}".strip()),
                (_("Buyer"), f"{invoice.buyer_name} {invoice.buyer_tax_id}".strip()),
                (_("Amount excluding tax"), money(invoice.amount)),
                (_("Tax"), money(invoice.tax_amount)),
                (_("Total"), money(invoice.total_amount)),
                (_("Organization"), invoice.organization.name),
            ],
        ),
        (
            _("Decision"),
            [
                (_("Decision"), record.status),
                (_("Decided by"), record.decided_by),
                (_("Reasons"), record.reason or _("None given")),
                (_("Submitted"), _local(invoice.submitted_at)),
                (_("Decided"), _local(record.decided_at)),
                (_("Time zone"), TIME_LABEL),
            ],
        ),
        (
            _("Audit"),
            [
                (_("Audit entry"), record.audit_seq),
                (_("Audit hash (SHA-256)"), record.audit_hash),
                (_("Issued"), _local(timezone.now())),
            ],
        ),
    ]


def receipt_pdf(invoice: Invoice) -> bytes:
    """The receipt of a decided invoice, as PDF bytes, its font embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    record = decision_record(invoice)
    sections = _sections(invoice, record)
    title, portal = _("Decision receipt"), _("Invoice review portal")
    footnote = _(
        "The audit hash identifies the decision in the portal's hash-chained "
        "audit log; an administrator can verify the chain at any time."
    )
    qr_caption = _("Scan to open the invoice page (sign in first)")
    texts = [title, portal, footnote, qr_caption, invoice.reference]
    for heading_text, rows in sections:
        texts.append(heading_text)
        texts += [f"{label}{'' if value is None else value}" for label, value in rows]
    font = receipt_font("".join(texts))
    if font is None:
        font = FONT
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{invoice.reference} {title}")
    pdf.setAuthor(portal)
    width, height = A4
    left, y = 20 * mm, height - 25 * mm
    label_w = 45 * mm
    value_w = width - left * 2 - label_w

    pdf.setFont(font, 16)
    pdf.drawString(left, y, title)
    y -= 8 * mm
    pdf.setFont(font, 10)
    pdf.drawString(left, y, portal)
    y -= 10 * mm

    for heading_text, rows in sections:
        y -= 3 * mm
        pdf.setFont(font, 12)
        pdf.drawString(left, y, heading_text)
        y -= 2 * mm
        pdf.line(left, y, width - left, y)
        y -= 6 * mm
        for label, value in rows:
            text = "—" if value in (None, "") else str(value)
            pdf.setFont(font, 10)
            pdf.drawString(left, y, label)
            for line in _wrap(text, value_w, 10, font):
                pdf.drawString(left + label_w, y, line)
                y -= 5.5 * mm
            y -= 1 * mm
    y -= 4 * mm
    pdf.setFont(font, 8)
    for line in _wrap(footnote, width - 2 * left, 8, font):
        pdf.drawString(left, y, line)
        y -= 4 * mm
    qr_size = 32 * mm
    _draw_qr(
        pdf, receipt_link(invoice, record), width - left - qr_size, 15 * mm, qr_size
    )
    pdf.setFont(font, 8)
    pdf.drawRightString(
        width - left - qr_size - 3 * mm, 15 * mm + qr_size / 2, qr_caption
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
