"""Submitting invoices: from uploaded bytes (or typed-in fields) to a stored Invoice.

Unsafe or unreadable files are refused here, synchronously, before anything is stored.
A stored invoice starts at ``received``; screening is queued when the transaction
commits.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ApplicationError, PermissionDeniedError

from .extraction.bounds import memory_bounded
from .extraction.dispatch import check_declared_type, extract, iter_batch_archive
from .extraction.errors import MESSAGES as ERROR_MESSAGES
from .extraction.errors import ExtractionError, refuse
from .extraction.image_reader import load_readers, open_image
from .extraction.safety import Limits, check_size
from .extraction.sniff import DocumentFormat, check_filename, sniff
from .extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .lifecycle import TIMELINE_MESSAGES, invoice_transition
from .models import Document, Invoice, InvoiceLine, ReferenceCounter, TimelineEvent
from .status import LIVE, InvoiceStatus

logger = logging.getLogger(__name__)

SCREENING_TASK = "invoiceportal.invoices.tasks.process_invoice"
# Formats read in the worker, not in the request; their Document waits as PENDING.
DEFERRED_FORMATS = frozenset({DocumentFormat.JPEG, DocumentFormat.PNG})
PENDING = "pending"

CONTENT_TYPES = {
    DocumentFormat.XML: "application/xml",
    DocumentFormat.OFD: "application/ofd",
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.JPEG: "image/jpeg",
    DocumentFormat.PNG: "image/png",
}


@dataclass(frozen=True)
class SubmitResult:
    """What happened to one submitted file."""

    invoice: Invoice
    created: bool
    # "created", "same_key" (idempotency key seen before), "same_file" (these bytes
    # were submitted before), "duplicate" (the same invoice is already live)
    outcome: str


class DuplicateElsewhereError(ApplicationError):
    status_code = 409
    default_code = "duplicate_invoice"


def upload_limits() -> Limits:
    mb = settings.MAX_UPLOAD_MB * 1024 * 1024
    return Limits(max_bytes=mb, max_member_bytes=mb)


def require_submitter(user: Any) -> None:
    if not user_can(user, Perm.SUBMIT) or not getattr(user, "organization_id", None):
        raise PermissionDeniedError(
            _("Only members of an organization with the submitter role can submit."),
        )


def _next_reference() -> str:
    year = timezone.localdate().year
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(
        year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INV-{year}-{counter.last:06d}"


def identity_of(extracted: ExtractedInvoice) -> str:
    """The invoice identity a duplicate is recognised by ("" without a number)."""
    return extracted.identity if extracted.number else ""


def invoice_fields_from(extracted: ExtractedInvoice) -> dict[str, Any]:
    return {
        "kind": str(extracted.kind),
        "code": extracted.code,
        "number": extracted.number,
        "identity": identity_of(extracted),
        "issue_date": extracted.issue_date,
        "check_code": extracted.check_code,
        "seller_name": extracted.seller_name[:200],
        "seller_tax_id": extracted.seller_tax_id[:20],
        "buyer_name": extracted.buyer_name[:200],
        "buyer_tax_id": extracted.buyer_tax_id[:20],
        "amount": extracted.amount,
        "tax_amount": extracted.tax_amount,
        "total_amount": extracted.total_amount,
        "total_in_words": extracted.total_in_words[:100],
        "remarks": extracted.remarks,
        "is_red": extracted.is_red,
        "qr_payload": extracted.qr_payload.strip()[:300],
        "extras": extracted.extras,
    }


def readings_from(extracted: ExtractedInvoice) -> dict[str, Any]:
    return {
        name: {"source": str(r.source), "confidence": r.confidence}
        for name, r in extracted.readings.items()
    }


def _existing_for(org_id: int, *, key: str, sha256: str) -> SubmitResult | None:
    if key:
        found = Invoice.objects.filter(organization_id=org_id, idempotency_key=key)
        if invoice := found.first():
            return SubmitResult(invoice, False, "same_key")
    document = (
        Document.objects.filter(invoice__organization_id=org_id, sha256=sha256)
        .select_related("invoice")
        .order_by("uploaded_at")
        .first()
    )
    if document is not None:
        return SubmitResult(document.invoice, False, "same_file")
    return None


def _live_with(identity: str) -> Invoice | None:
    """The live invoice with this identity, if any."""
    return (
        Invoice.objects.filter(identity=identity, status__in=sorted(LIVE))
        .select_related("organization")
        .first()
    )


def _live_duplicate(user: Any, live: Invoice | None) -> SubmitResult:
    """The same invoice is already live: point to it if it is ours, else refuse."""
    if live is not None and live.organization_id == user.organization_id:
        return SubmitResult(live, False, "duplicate")
    raise DuplicateElsewhereError(
        _(
            "This invoice has already been submitted by another organization. "
            "If it was issued to you, contact the administrator."
        )
    )


def store_lines(invoice: Invoice, extracted: ExtractedInvoice) -> None:
    """Write the extracted lines of ``invoice`` (which has none yet)."""
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=i,
            name=line.name[:200],
            spec=line.spec[:100],
            unit=line.unit[:20],
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_rate=line.tax_rate,
            tax_amount=line.tax_amount,
            tax_exempt=line.tax_exempt,
        )
        for i, line in enumerate(extracted.lines, start=1)
    )


def _store(
    *,
    user: Any,
    extracted: ExtractedInvoice,
    fmt: str,
    data: bytes | None,
    filename: str,
    sha256: str,
    idempotency_key: str,
    resubmission_of: Invoice | None = None,
    pending: bool = False,
) -> Invoice:
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.create(
            reference=_next_reference(),
            organization_id=user.organization_id,
            submitted_by=user,
            status=InvoiceStatus.RECEIVED,
            idempotency_key=idempotency_key,
            resubmission_of=resubmission_of,
            **invoice_fields_from(extracted),
        )
        store_lines(invoice, extracted)
        if data is not None:
            document = Document(
                invoice=invoice,
                original_name=filename,
                content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
                size=len(data),
                sha256=sha256,
                format=fmt,
                extractor=PENDING if pending else fmt,
                field_readings=readings_from(extracted),
            )
            document.file.save(f"{invoice.id}.{fmt}", ContentFile(data), save=False)
            document.save()
        TimelineEvent.objects.create(
            invoice=invoice,
            status=InvoiceStatus.RECEIVED,
            actor=user,
            code="submitted",
        )
        audit_record(
            actor=user,
            action="invoice.submit",
            obj=invoice,
            data={
                "reference": invoice.reference,
                "identity": invoice.identity,
                "format": fmt,
                "sha256": sha256,
            },
        )
        invoice_id = str(invoice.id)
        transaction.on_commit(lambda: enqueue_processing(invoice_id))
    return invoice


def enqueue_processing(invoice_id: str) -> None:
    from django_q.tasks import async_task

    async_task(SCREENING_TASK, invoice_id, task_name=f"screen-{invoice_id}")


def _submit_extracted(
    *,
    user: Any,
    extracted: ExtractedInvoice,
    fmt: str,
    data: bytes | None,
    filename: str,
    idempotency_key: str,
    resubmission_of: Invoice | None = None,
    pending: bool = False,
    refuse_live: bool = False,
) -> SubmitResult:
    """Store ``extracted`` unless this key or these bytes were submitted before.
    With ``refuse_live``, an invoice whose identity is already live (and not one
    of those) is answered as a duplicate instead of stored."""
    sha256 = hashlib.sha256(data).hexdigest() if data else ""
    existing = _existing_for(user.organization_id, key=idempotency_key, sha256=sha256)
    if existing is not None:
        return existing
    identity = identity_of(extracted)
    if refuse_live and identity and (live := _live_with(identity)) is not None:
        return _live_duplicate(user, live)
    try:
        invoice = _store(
            user=user,
            extracted=extracted,
            fmt=fmt,
            data=data,
            filename=filename,
            sha256=sha256,
            idempotency_key=idempotency_key,
            resubmission_of=resubmission_of,
            pending=pending,
        )
    except IntegrityError:
        # A concurrent request won the race: the key, the file or the identity is
        # already stored. Answer with what it stored.
        existing = _existing_for(
            user.organization_id, key=idempotency_key, sha256=sha256
        )
        if existing is not None:
            return existing
        if identity:
            return _live_duplicate(user, _live_with(identity))
        raise
    return SubmitResult(invoice, True, "created")


def invoice_submit_file(
    *,
    user: Any,
    data: bytes,
    filename: str,
    content_type: str = "",
    idempotency_key: str = "",
    resubmission_of: Invoice | None = None,
) -> SubmitResult:
    """Read one uploaded file and store it as a received invoice.

    Raises ExtractionError (refused: nothing stored) or ApplicationError.
    """
    require_submitter(user)
    limits = upload_limits()
    safe_name = check_filename(
        filename or "upload", max_length=limits.max_filename_length
    )
    check_size(data, limits)
    fmt = sniff(data)
    check_declared_type(fmt, safe_name, content_type)
    if fmt in DEFERRED_FORMATS:
        # OCR takes seconds: check the image opens within limits now, read it in the
        # worker (invoice_extract_pending) before screening.
        open_image(data, limits=limits)
        extracted, pending = ExtractedInvoice(), True
    else:
        fmt, extracted = extract(data, limits=limits)
        pending = False
    return _submit_extracted(
        user=user,
        extracted=extracted,
        fmt=str(fmt),
        data=data,
        filename=safe_name,
        idempotency_key=idempotency_key[:128],
        resubmission_of=resubmission_of,
        pending=pending,
        refuse_live=not idempotency_key,
    )


def extracted_from_manual(
    fields: dict[str, Any], lines: list[dict[str, Any]]
) -> ExtractedInvoice:
    """Typed-in fields (validated by a form or a serializer) as an ExtractedInvoice
    whose every field was read by a person."""
    data = {k: v for k, v in fields.items() if v is not None and k != "lines"}
    data["kind"] = InvoiceKind(data["kind"])
    extracted = ExtractedInvoice(
        lines=[ExtractedLine(**{k: v for k, v in line.items()}) for line in lines],
        **data,
    )
    extracted.is_red = (extracted.total_amount or Decimal(0)) < 0
    manual = FieldReading(FieldSource.MANUAL, 1.0)
    extracted.readings = {key: manual for key in data}
    return extracted


def invoice_submit_manual(
    *,
    user: Any,
    extracted: ExtractedInvoice,
    idempotency_key: str = "",
    scan: tuple[bytes, str, str] | None = None,
) -> SubmitResult:
    """Store a paper invoice typed in by the submitter, with its scan when given."""
    require_submitter(user)
    data = filename = None
    fmt = "manual"
    if scan is not None:
        data, filename, content_type = scan
        limits = upload_limits()
        filename = check_filename(filename, max_length=limits.max_filename_length)
        check_size(data, limits)
        detected = sniff(data)
        if detected not in (
            DocumentFormat.JPEG,
            DocumentFormat.PNG,
            DocumentFormat.PDF,
        ):
            raise refuse("unsupported_type")
        check_declared_type(detected, filename, content_type)
        fmt = str(detected)
    identity = identity_of(extracted)
    if identity and (live := _live_with(identity)) is not None:
        return _live_duplicate(user, live)
    return _submit_extracted(
        user=user,
        extracted=extracted,
        fmt=fmt,
        data=data,
        filename=filename or "",
        idempotency_key=idempotency_key[:128],
    )


@dataclass(frozen=True)
class BatchItem:
    filename: str
    result: SubmitResult | None = None
    error: ExtractionError | ApplicationError | None = None


def invoice_submit_batch(
    *, user: Any, files: list[tuple[str, bytes, str]]
) -> list[BatchItem]:
    """Submit several files, or ZIP archives of them; one failure stops nothing."""
    require_submitter(user)
    items: list[BatchItem] = []
    for filename, data, content_type in files:
        members: list[tuple[str, bytes, str]]
        try:
            if sniff(data) is DocumentFormat.ZIP:
                members = [
                    (name, content, "")
                    for name, content in iter_batch_archive(data, upload_limits())
                ]
            else:
                members = [(filename, data, content_type)]
        except (ExtractionError, ApplicationError) as exc:
            items.append(BatchItem(filename, error=exc))
            continue
        for name, content, ctype in members:
            try:
                result = invoice_submit_file(
                    user=user, data=content, filename=name, content_type=ctype
                )
                items.append(BatchItem(name, result=result))
            except (ExtractionError, ApplicationError) as exc:
                items.append(BatchItem(name, error=exc))
    return items


def invoice_extract_pending(*, invoice_id: str) -> None:
    """Read a document left for the worker (photos, scans), then store its fields.

    Idempotent: only a received invoice whose document is still pending is read. An
    unreadable document, or one that turns out to be an invoice already live, ends
    the invoice as rejected with the reason, so the submitter knows at once.
    """
    document = (
        Document.objects.filter(invoice_id=invoice_id, extractor=PENDING)
        .select_related("invoice")
        .first()
    )
    if document is None or document.invoice.status != InvoiceStatus.RECEIVED:
        return
    with document.file.open("rb") as handle:
        data = handle.read()
    load_readers()  # libraries and models load outside the document's memory bound
    try:
        with memory_bounded(settings.EXTRACTION_MEMORY_MB):
            fmt, extracted = extract(data, limits=upload_limits())
    except ExtractionError as exc:
        _reject_unreadable(invoice_id, "unreadable", _in_both_languages(exc))
        return
    except Exception as exc:
        # Reading is computation on the stored bytes: a failure would repeat on every
        # retry, so the invoice ends rejected with a clear reason instead of stuck.
        logger.exception("Reading the document of %s failed", invoice_id)
        _reject_unreadable(
            invoice_id,
            "unreadable",
            _in_both_languages(refuse("not_an_invoice", detail=type(exc).__name__)),
        )
        return
    identity = identity_of(extracted)
    try:
        with transaction.atomic(durable=True):
            invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_id)
            doc = Document.objects.select_for_update().get(pk=document.pk)
            if invoice.status != InvoiceStatus.RECEIVED or doc.extractor != PENDING:
                return
            fields = invoice_fields_from(extracted)
            for key, value in fields.items():
                setattr(invoice, key, value)
            invoice.save(update_fields=[*fields, "updated_at"])
            store_lines(invoice, extracted)
            doc.extractor = str(fmt)
            doc.field_readings = readings_from(extracted)
            doc.save(update_fields=["extractor", "field_readings"])
            audit_record(
                actor=None,
                action="invoice.extract",
                obj=invoice,
                data={"identity": identity, "format": str(fmt)},
            )
    except IntegrityError:
        live = Invoice.objects.filter(identity=identity, status__in=sorted(LIVE))
        first = live.exclude(pk=invoice_id).first()
        _reject_unreadable(
            invoice_id,
            "duplicate_of",
            {"reference": first.reference if first else ""},
        )


def _in_both_languages(exc: ExtractionError) -> dict[str, str]:
    """The refusal's message in Chinese and in English, for the timeline."""
    template = ERROR_MESSAGES.get(exc.code)
    texts = {}
    for key, language in (("reason", "zh-hans"), ("reason_en", "en")):
        with translation.override(language):
            if template is None:
                texts[key] = str(exc.message)
            else:
                text = str(template)
                texts[key] = text % exc.details if "%(" in text else text
    return texts


def _reject_unreadable(invoice_id: str, code: str, params: dict[str, Any]) -> None:
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice_id)
        if invoice.status != InvoiceStatus.RECEIVED:
            return
        Document.objects.filter(invoice=invoice, extractor=PENDING).update(
            extractor="failed"
        )
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.SCREENING,
            actor=None,
            code="screening_started",
        )
        reason = str(TIMELINE_MESSAGES[code]) % params
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.REJECTED,
            actor=None,
            code=code,
            params=params,
            extra_fields={
                "decision_source": "automatic",
                "decision_reason": reason,
            },
        )
