"""The decision receipt: a one-page PDF with the invoice's identity, the decision and
its reasons, who decided (a reviewer or the automatic checks), when, and the audit
hash that anchors the decision in the hash-chained audit log.

Drawn with reportlab; Chinese text uses the built-in CID font STSong-Light (no font
file needed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import ConflictError

from .models import Invoice
from .status import DECIDED, DecisionSource, InvoiceStatus

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
    entry = (
        AuditEntry.objects.filter(
            object_type=Invoice._meta.label_lower,
            object_id=str(invoice.pk),
            action=f"invoice.{invoice.status}",
        )
        .select_related("actor")
        .order_by("-seq")
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
        audit_hash=entry.hash if entry else "",
    )


def _local(moment: Any) -> str:
    if moment is None:
        return "—"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Break text to fit ``width`` points (character by character: Chinese has no
    spaces)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        current = ""
        for char in paragraph:
            if stringWidth(current + char, FONT, size) > width:
                lines.append(current)
                current = char
            else:
                current += char
        lines.append(current)
    return lines


def receipt_pdf(invoice: Invoice) -> bytes:
    """The receipt of a decided invoice, as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    record = decision_record(invoice)
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{invoice.reference} {_('Decision receipt')}")
    pdf.setAuthor(_("Invoice review portal"))
    width, height = A4
    left, y = 20 * mm, height - 25 * mm
    label_w = 45 * mm
    value_w = width - left * 2 - label_w

    pdf.setFont(FONT, 16)
    pdf.drawString(left, y, _("Decision receipt"))
    y -= 8 * mm
    pdf.setFont(FONT, 10)
    pdf.drawString(left, y, _("Invoice review portal"))
    y -= 10 * mm

    def row(label: str, value: Any) -> None:
        nonlocal y
        text = "—" if value in (None, "") else str(value)
        pdf.setFont(FONT, 10)
        pdf.drawString(left, y, label)
        for line in _wrap(text, value_w, 10):
            pdf.drawString(left + label_w, y, line)
            y -= 5.5 * mm
        y -= 1 * mm

    def heading(text: str) -> None:
        nonlocal y
        y -= 3 * mm
        pdf.setFont(FONT, 12)
        pdf.drawString(left, y, text)
        y -= 2 * mm
        pdf.line(left, y, width - left, y)
        y -= 6 * mm

    heading(_("Invoice"))
    row(_("Reference"), invoice.reference)
    row(_("Kind"), invoice.get_kind_display())
    row(_("Invoice code"), invoice.code)
    row(_("Invoice number"), invoice.number)
    row(_("Issue date"), invoice.issue_date and invoice.issue_date.isoformat())
    row(_("Seller"), f"{invoice.seller_name} {invoice.seller_tax_id}".strip())
    row(_("Buyer"), f"{invoice.buyer_name} {invoice.buyer_tax_id}".strip())
    row(_("Amount excluding tax"), invoice.amount)
    row(_("Tax"), invoice.tax_amount)
    row(_("Total"), invoice.total_amount)
    row(_("Organization"), invoice.organization.name)

    heading(_("Decision"))
    row(_("Decision"), record.status)
    row(_("Decided by"), record.decided_by)
    row(_("Reasons"), record.reason or _("None given"))
    row(_("Submitted"), _local(invoice.submitted_at))
    row(_("Decided"), _local(record.decided_at))

    heading(_("Audit"))
    row(_("Audit entry"), record.audit_seq)
    row(_("Audit hash (SHA-256)"), record.audit_hash)
    row(_("Issued"), _local(timezone.now()))
    y -= 4 * mm
    pdf.setFont(FONT, 8)
    for line in _wrap(
        _(
            "The audit hash identifies the decision in the portal's hash-chained "
            "audit log; an administrator can verify the chain at any time."
        ),
        width - 2 * left,
        8,
    ):
        pdf.drawString(left, y, line)
        y -= 4 * mm
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
