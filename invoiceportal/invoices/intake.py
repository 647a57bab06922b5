"""Submitting invoices: from uploaded bytes (or typed-in fields) to a stored Invoice.

Unsafe or unreadable files are refused here, synchronously, before anything is stored.
A stored invoice starts at ``received``; screening is queued when the transaction
commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.models import F
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common import identifiers
from invoiceportal.common.errors import ApplicationError, PermissionDeniedError
from invoiceportal.common.task_queue import queue_task

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
from .lifecycle import (
    TIMELINE_MESSAGES,
    invoice_transition,
    register_timeline_messages,
    timeline_note,
)
from .models import Document, Invoice, InvoiceLine, ReferenceCounter, TimelineEvent
from .selectors import same_file_documents
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
    # When created: the rows this submission wrote, so that the answer is built
    # without reading them back
    written: WrittenRows | None = None


@dataclass(frozen=True)
class WrittenRows:
    """The lines and documents a new submission wrote (as written)."""

    lines: list[InvoiceLine]
    documents: list[Document]


MAX_IDEMPOTENCY_KEY = 128


class IdempotencyKeyReusedError(ApplicationError):
    status_code = 422
    default_code = "idempotency_key_reused"


def check_idempotency_key(key: str) -> str:
    """The ``Idempotency-Key`` as given, or a clear refusal: at most 128 printable
    ASCII characters (never cut: a cut key would match another request's)."""
    key = (key or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ApplicationError(
            _("The Idempotency-Key header is longer than %(limit)s characters.")
            % {"limit": MAX_IDEMPOTENCY_KEY},
            code="invalid_idempotency_key",
            details={"max_length": MAX_IDEMPOTENCY_KEY},
        )
    if any(not (" " <= ch <= "~") for ch in key):
        raise ApplicationError(
            _(
                "The Idempotency-Key header may contain only printable ASCII "
                "characters (letters, digits and punctuation)."
            ),
            code="invalid_idempotency_key",
        )
    return key


def manual_fingerprint(extracted: ExtractedInvoice, scan_sha256: str = "") -> str:
    """What a typed-in request carried, for comparing two requests with one key."""
    fields = json.dumps(
        dataclasses.asdict(extracted), sort_keys=True, default=str, ensure_ascii=True
    )
    return hashlib.sha256(f"{scan_sha256}\n{fields}".encode()).hexdigest()


def upload_limits() -> Limits:
    mb = settings.MAX_UPLOAD_MB * 1024 * 1024
    return Limits(max_bytes=mb, max_member_bytes=mb)


def require_submitter(user: Any) -> None:
    if not user_can(user, Perm.SUBMIT) or not getattr(user, "organization_id", None):
        raise PermissionDeniedError(
            _("Only members of an organization with the submitter role can submit."),
        )


REFERENCE_SEQUENCE = "invoice_reference_{year}"


def _next_reference() -> str:
    """The next reference of the year (INV-2026-000123), taken before the invoice's
    transaction opens so that no upload waits on another's. PostgreSQL: one SEQUENCE
    per year, created on first use (numbers are unique and never reused; a
    rolled-back upload leaves a gap). Elsewhere (SQLite, whose writers are
    serialised anyway): the ReferenceCounter row in a short transaction of its own."""
    year = timezone.localdate().year
    if connection.vendor == "postgresql":
        try:
            number = _sequence_next(year)
        except ProgrammingError:  # the year's first reference: no sequence yet
            _create_sequence(year)
            number = _sequence_next(year)
        return f"INV-{year}-{number:06d}"
    with transaction.atomic():
        ReferenceCounter.objects.select_for_update().get_or_create(year=year)
        ReferenceCounter.objects.filter(pk=year).update(last=F("last") + 1)
        last = ReferenceCounter.objects.get(pk=year).last
    return f"INV-{year}-{last:06d}"


def _sequence_next(year: int) -> int:
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint if nested
        cursor.execute("SELECT nextval(%s)", [REFERENCE_SEQUENCE.format(year=year)])
        return int(cursor.fetchone()[0])


def _create_sequence(year: int) -> None:
    """CREATE SEQUENCE IF NOT EXISTS (no row lock), starting after every reference
    already issued that year (by the ReferenceCounter of before, or stored)."""
    prefix = f"INV-{year}-"
    latest = (
        Invoice.objects.filter(reference__startswith=prefix)
        .order_by(Length("reference").desc(), "-reference")
        .values_list("reference", flat=True)
        .first()
    )
    issued = latest[len(prefix) :] if latest else ""
    counter = ReferenceCounter.objects.filter(year=year).first()
    start = (
        max(
            int(issued) if issued.isdigit() else 0,
            counter.last if counter else 0,
        )
        + 1
    )
    name = connection.ops.quote_name(REFERENCE_SEQUENCE.format(year=year))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {start:d}")
    except (IntegrityError, ProgrammingError):
        pass  # two processes created it at the same moment: the other one won


def identity_of(extracted: ExtractedInvoice) -> str:
    """The invoice identity a duplicate is recognised by ("" without a number)."""
    return extracted.identity if extracted.number else ""


# Identifiers compared exactly (blocklist, duplicates, registry): cleaned at intake.
IDENTIFIER_FIELDS = (
    "code",
    "number",
    "check_code",
    "seller_tax_id",
    "buyer_tax_id",
    "red_of_number",
)
IDENTIFIER_LABELS = {
    "code": gettext_lazy("invoice code"),
    "number": gettext_lazy("invoice number"),
    "check_code": gettext_lazy("check code"),
    "seller_tax_id": gettext_lazy("seller taxpayer ID"),
    "buyer_tax_id": gettext_lazy("buyer taxpayer ID"),
    "red_of_number": gettext_lazy("number of the reversed invoice"),
}
CLEANING_REASONS = {
    identifiers.COMPATIBILITY: gettext_lazy("full-width characters made half-width"),
    identifiers.INVISIBLE: gettext_lazy("invisible characters removed"),
    identifiers.SPACES: gettext_lazy("spaces removed"),
    identifiers.LOOK_ALIKES: gettext_lazy(
        "Cyrillic or Greek look-alike characters replaced by Latin ones"
    ),
    identifiers.CASE: gettext_lazy("made upper case"),
}
register_timeline_messages(
    {
        "identifiers_cleaned": gettext_lazy(
            "Identifiers were cleaned on receipt: %(changes)s. The checks use the "
            "cleaned values."
        )
    }
)


@dataclass(frozen=True)
class IdentifierChange:
    field: str
    original: str  # as received, with invisible characters spelled out
    cleaned: str
    reasons: tuple[str, ...]


def normalize_identifiers(extracted: ExtractedInvoice) -> list[IdentifierChange]:
    """Clean the identifiers of ``extracted`` in place (``common.identifiers``: NFKC,
    invisible characters and spaces removed, Cyrillic and Greek look-alikes mapped
    to Latin, upper case) and say what changed. Every intake path (file, photo read
    later, manual entry, corrected file) passes here before an identity is computed;
    a second call changes nothing."""
    changes = []
    for name in IDENTIFIER_FIELDS:
        value = getattr(extracted, name) or ""
        cleaned = identifiers.clean_identifier(value)
        if cleaned.value != value:
            setattr(extracted, name, cleaned.value)
        if cleaned.reasons:
            changes.append(
                IdentifierChange(
                    field=name,
                    original=identifiers.visible(value.strip()),
                    cleaned=cleaned.value,
                    reasons=cleaned.reasons,
                )
            )
    return changes


def _changes_text(changes: list[IdentifierChange], language: str) -> str:
    with translation.override(language):
        return "; ".join(
            f"{IDENTIFIER_LABELS[c.field]} {c.original} → {c.cleaned} ("
            + ", ".join(str(CLEANING_REASONS[r]) for r in c.reasons)
            + ")"
            for c in changes
        )


def note_identifier_changes(
    invoice: Invoice, changes: list[IdentifierChange], *, actor: Any = None
) -> None:
    """A timeline event, seen by the submitter and the reviewer, saying what intake
    changed in the identifiers (inside the caller's transaction)."""
    if not changes:
        return
    timeline_note(
        invoice,
        "identifiers_cleaned",
        actor=actor,
        params={
            "changes": _changes_text(changes, "zh-hans"),
            "changes_en": _changes_text(changes, "en"),
            "fields": {
                c.field: {
                    "original": c.original,
                    "cleaned": c.cleaned,
                    "reasons": list(c.reasons),
                }
                for c in changes
            },
        },
        visible=True,
    )


# What the columns hold: longer identifiers or larger amounts are refused, never
# cut (a cut number is another invoice's) and never a database error.
MAX_LENGTHS = {"code": 12, "number": 20, "check_code": 20}
MONEY_LIMIT = Decimal(10) ** 12  # max_digits 14, 2 decimal places
LINE_LIMITS = {
    "quantity": Decimal(10) ** 16,
    "unit_price": Decimal(10) ** 16,
    "amount": MONEY_LIMIT,
    "tax_amount": MONEY_LIMIT,
    "tax_rate": Decimal(10),
}
FIELD_LABELS = {
    **IDENTIFIER_LABELS,
    "amount": gettext_lazy("amount excluding tax"),
    "tax_amount": gettext_lazy("tax"),
    "total_amount": gettext_lazy("total"),
    "quantity": gettext_lazy("quantity"),
    "unit_price": gettext_lazy("unit price"),
    "tax_rate": gettext_lazy("tax rate"),
}


def _out_of_range(field: str) -> ExtractionError:
    return refuse("value_out_of_range", field=str(FIELD_LABELS.get(field, field)))


def _too_large(value: Decimal | None, limit: Decimal) -> bool:
    return value is not None and (not value.is_finite() or abs(value) >= limit)


def check_storable(extracted: ExtractedInvoice) -> None:
    """Refuse (422, value_out_of_range) a value the invoice's columns cannot hold:
    a 25-digit number, a 30-digit amount."""
    for name, length in MAX_LENGTHS.items():
        value = identifiers.clean_identifier(getattr(extracted, name) or "").value
        if len(value) > length:
            raise _out_of_range(name)
    for name in ("amount", "tax_amount", "total_amount"):
        if _too_large(getattr(extracted, name), MONEY_LIMIT):
            raise _out_of_range(name)
    for line in extracted.lines:
        for name, limit in LINE_LIMITS.items():
            if _too_large(getattr(line, name), limit):
                raise _out_of_range(name)


def read_document(data: bytes, *, limits: Limits) -> tuple[Any, ExtractedInvoice]:
    """``extract`` with the values checked against what can be stored; a number too
    large for decimal arithmetic in a reader is the same refusal, not a crash."""
    try:
        fmt, extracted = extract(data, limits=limits)
    except ArithmeticError:  # decimal.InvalidOperation, Overflow: a 30-digit amount
        raise _out_of_range("amount") from None
    check_storable(extracted)
    return fmt, extracted


def invoice_fields_from(extracted: ExtractedInvoice) -> dict[str, Any]:
    normalize_identifiers(extracted)  # already done by intake; a corrected file too
    check_storable(extracted)
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


def _existing_for(
    org_id: int, *, key: str, sha256: str, fingerprint: str = ""
) -> SubmitResult | None:
    if key:
        found = Invoice.objects.filter(organization_id=org_id, idempotency_key=key)
        if invoice := found.first():
            stored = invoice.idempotency_fingerprint
            if stored and fingerprint and stored != fingerprint:
                raise IdempotencyKeyReusedError(
                    _(
                        "This Idempotency-Key was already used for a different "
                        "request. Use a new key for a new submission."
                    ),
                    details={"invoice": str(invoice.pk)},
                )
            return SubmitResult(invoice, False, "same_key")
    same_file = same_file_documents(sha256, org_id)
    if same_file:
        return SubmitResult(same_file[0].invoice, False, "same_file")
    return None


def _live_with(identity: str, organization_id: int) -> Invoice | None:
    """The organization's live invoice with this identity, if any. Another
    organization's copy is never looked at here: answering differently because of
    it would tell the caller that the number exists elsewhere, and refusing because
    of it would let whoever types a number in first block its genuine buyer."""
    return Invoice.objects.filter(
        identity=identity,
        organization_id=organization_id,
        status__in=sorted(LIVE),
    ).first()


def organization_live_copy(
    identity: str, organization_id: int, *, exclude: Any = None
) -> Invoice | None:
    """The organization's live invoice with ``identity`` other than ``exclude``."""
    if not identity:
        return None
    return (
        Invoice.objects.filter(
            identity=identity,
            organization_id=organization_id,
            status__in=sorted(LIVE),
        )
        .exclude(pk=exclude)
        .first()
    )


def _duplicate(live: Invoice) -> SubmitResult:
    return SubmitResult(live, False, "duplicate")


register_timeline_messages(
    {
        "identity_collision": gettext_lazy(
            "Another organization holds an invoice with the same number "
            "(%(references)s): a possible fraud signal. Check which organization the "
            "invoice was issued to."
        )
    }
)


def record_identity_collision(invoice: Invoice, *, actor: Any = None) -> list[str]:
    """Inside the caller's transaction: when other organizations hold a live invoice
    with the identity of ``invoice``, note it on every copy for reviewers only (the
    submitters never see it) and audit it. Screening's duplicate rule sends such an
    invoice to review instead of rejecting it. Returns the other references."""
    if not invoice.identity:
        return []
    others = list(
        Invoice.objects.filter(identity=invoice.identity, status__in=sorted(LIVE))
        .exclude(organization_id=invoice.organization_id)
        .order_by("submitted_at", "pk")
        .only("pk", "reference", "status", "organization_id")
    )
    if not others:
        return []
    references = [other.reference for other in others]
    timeline_note(
        invoice,
        "identity_collision",
        actor=actor,
        params={"references": ", ".join(references)},
        visible=False,
    )
    for other in others:
        timeline_note(
            other,
            "identity_collision",
            params={"references": invoice.reference},
            visible=False,
        )
    audit_record(
        actor=actor,
        action="invoice.identity_collision",
        obj=invoice,
        data={
            "identity": invoice.identity,
            "organization": invoice.organization_id,
            "others": [
                {"reference": o.reference, "organization": o.organization_id}
                for o in others
            ],
        },
    )
    return references


def store_lines(invoice: Invoice, extracted: ExtractedInvoice) -> list[InvoiceLine]:
    """Write the extracted lines of ``invoice`` (which has none yet); returns them."""
    return InvoiceLine.objects.bulk_create(
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


@dataclass(frozen=True)
class _Submission:
    """What one submission stores, checked and read: the invoice, its file (none
    when typed in) and how the request is recognised again."""

    user: Any
    extracted: ExtractedInvoice
    fmt: str
    data: bytes | None
    filename: str
    sha256: str
    idempotency_key: str
    resubmission_of: Invoice | None
    pending: bool
    changes: list[IdentifierChange]
    fingerprint: str


def _store(sub: _Submission) -> tuple[Invoice, WrittenRows]:
    invoice_id = uuid.uuid4()
    reference = _next_reference()
    # The file first, through the storage API (a local disk or an object store),
    # before the transaction opens: no row lock is held while it is written. If the
    # transaction then fails, the file is deleted again.
    stored_name = (
        document_file_save(f"{invoice_id}.{sub.fmt}", sub.data) if sub.data else None
    )
    try:
        return _store_rows(
            sub, invoice_id=invoice_id, reference=reference, stored_name=stored_name
        )
    except BaseException:
        if stored_name:
            document_file_delete(stored_name)
        raise


def _document_storage() -> Any:
    return Document._meta.get_field("file").storage


def document_file_save(name: str, data: bytes) -> str:
    """Write a document's bytes through the storage API (outside any transaction:
    no row lock is held while a disk or an object store answers); the stored name."""
    field = Document._meta.get_field("file")
    return _document_storage().save(
        field.generate_filename(None, name), ContentFile(data)
    )


def document_file_delete(name: str) -> None:
    try:
        _document_storage().delete(name)
    except Exception:  # the store is down: an orphan file, not a lost upload
        logger.exception("Could not delete the orphan document %s", name)


def _store_rows(
    sub: _Submission,
    *,
    invoice_id: uuid.UUID,
    reference: str,
    stored_name: str | None,
) -> tuple[Invoice, WrittenRows]:
    user, extracted, fmt, changes = sub.user, sub.extracted, sub.fmt, sub.changes
    documents: list[Document] = []
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.create(
            id=invoice_id,
            reference=reference,
            organization_id=user.organization_id,
            submitted_by=user,
            status=InvoiceStatus.RECEIVED,
            idempotency_key=sub.idempotency_key,
            idempotency_fingerprint=sub.fingerprint if sub.idempotency_key else "",
            resubmission_of=sub.resubmission_of,
            **invoice_fields_from(extracted),
        )
        lines = store_lines(invoice, extracted)
        if sub.data is not None:
            document = Document(
                invoice=invoice,
                original_name=sub.filename,
                content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
                size=len(sub.data),
                sha256=sub.sha256,
                format=fmt,
                extractor=PENDING if sub.pending else fmt,
                field_readings=readings_from(extracted),
            )
            document.file.name = stored_name
            document.save()
            documents.append(document)
        TimelineEvent.objects.create(
            invoice=invoice,
            status=InvoiceStatus.RECEIVED,
            actor=user,
            code="submitted",
        )
        note_identifier_changes(invoice, changes, actor=user)
        audit_record(
            actor=user,
            action="invoice.submit",
            obj=invoice,
            data={
                "reference": invoice.reference,
                "identity": invoice.identity,
                "format": fmt,
                "sha256": sub.sha256,
                **(
                    {"identifiers_cleaned": {c.field: c.original for c in changes}}
                    if changes
                    else {}
                ),
            },
        )
        record_identity_collision(invoice, actor=user)
        invoice_id = str(invoice.id)
        transaction.on_commit(lambda: enqueue_processing(invoice_id))
    return invoice, WrittenRows(lines=lines, documents=documents)


NOT_QUEUED = "screening_not_queued"
REQUEUED = "screening_requeued"


def enqueue_processing(invoice_id: str) -> bool:
    """Queue screening (called once the invoice is committed). A broker that is
    down must not turn a stored submission into an error: the failure is logged and
    noted on the timeline (for staff), and ``requeue_unqueued`` queues it again
    within a minute or two (the screening sweep catches anything else)."""
    try:
        queue_task(SCREENING_TASK, invoice_id, task_name=f"screen-{invoice_id}")
    except Exception:
        logger.exception("Could not queue screening of %s", invoice_id)
        _note_queueing(invoice_id, NOT_QUEUED)
        return False
    return True


def _note_queueing(invoice_id: str, code: str) -> None:
    try:
        with transaction.atomic():
            invoice = Invoice.objects.only("pk", "status").get(pk=invoice_id)
            timeline_note(invoice, code, visible=False)
    except Exception:  # the database may be the thing that is down
        logger.exception("Could not note %s on %s", code, invoice_id)


register_timeline_messages(
    {
        NOT_QUEUED: gettext_lazy(
            "Screening could not be queued (the task broker did not answer); it "
            "is retried automatically."
        ),
        REQUEUED: gettext_lazy("Screening queued again."),
    }
)


def invoices_not_queued() -> Any:
    """Invoices waiting for screening (received, or screening again after an answer
    with a corrected file) whose screening could not be queued, and not queued again
    since."""
    from django.db.models import Max, Q

    return (
        Invoice.objects.filter(
            status__in=[InvoiceStatus.RECEIVED, InvoiceStatus.SCREENING]
        )
        .annotate(
            failed_at=Max("timeline__at", filter=Q(timeline__code=NOT_QUEUED)),
            requeued_at=Max("timeline__at", filter=Q(timeline__code=REQUEUED)),
        )
        .filter(failed_at__isnull=False)
        .filter(Q(requeued_at__isnull=True) | Q(requeued_at__lt=F("failed_at")))
        .order_by("failed_at")
    )


def requeue_unqueued(*, limit: int = 500) -> list[str]:
    """Queue screening again for the invoices ``enqueue_processing`` could not
    queue; stops at the first failure (the broker is still down)."""
    done = []
    for pk in invoices_not_queued().values_list("pk", flat=True)[:limit]:
        invoice_id = str(pk)
        if not enqueue_processing(invoice_id):
            break
        _note_queueing(invoice_id, REQUEUED)
        done.append(invoice_id)
    return done


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
    identifier_changes: list[IdentifierChange] | None = None,
    fingerprint: str = "",
) -> SubmitResult:
    """Store ``extracted`` unless this key or these bytes were submitted before.
    With ``refuse_live``, an invoice whose identity the organization already holds
    live (and not one of those) is answered as a duplicate instead of stored.
    ``fingerprint`` identifies the request (the file's SHA-256 unless given): a key
    seen before with another fingerprint is refused."""
    changes = [*(identifier_changes or []), *normalize_identifiers(extracted)]
    sha256 = hashlib.sha256(data).hexdigest() if data else ""
    fingerprint = fingerprint or sha256
    org_id = user.organization_id
    existing = _existing_for(
        org_id, key=idempotency_key, sha256=sha256, fingerprint=fingerprint
    )
    if existing is not None:
        return existing
    identity = identity_of(extracted)
    if refuse_live and identity and (live := _live_with(identity, org_id)):
        return _duplicate(live)
    try:
        invoice, written = _store(
            _Submission(
                user=user,
                extracted=extracted,
                fmt=fmt,
                data=data,
                filename=filename,
                sha256=sha256,
                idempotency_key=idempotency_key,
                resubmission_of=resubmission_of,
                pending=pending,
                changes=changes,
                fingerprint=fingerprint,
            )
        )
    except IntegrityError:
        # A concurrent request of the organization won the race: the key, the file
        # or the identity is already stored. Answer with what it stored.
        existing = _existing_for(
            org_id, key=idempotency_key, sha256=sha256, fingerprint=fingerprint
        )
        if existing is not None:
            return existing
        if identity and (live := _live_with(identity, org_id)):
            return _duplicate(live)
        raise
    return SubmitResult(invoice, True, "created", written)


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
    idempotency_key = check_idempotency_key(idempotency_key)
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
        fmt, extracted = read_document(data, limits=limits)
        pending = False
    return _submit_extracted(
        user=user,
        extracted=extracted,
        fmt=str(fmt),
        data=data,
        filename=safe_name,
        idempotency_key=idempotency_key,
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
    idempotency_key = check_idempotency_key(idempotency_key)
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
    fingerprint = manual_fingerprint(
        extracted, hashlib.sha256(data).hexdigest() if data else ""
    )
    changes = normalize_identifiers(extracted)
    return _submit_extracted(
        user=user,
        extracted=extracted,
        fmt=fmt,
        data=data,
        filename=filename or "",
        idempotency_key=idempotency_key,
        refuse_live=True,
        identifier_changes=changes,
        fingerprint=fingerprint,
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
    # libraries and models load outside the document's memory bound
    load_readers(ocr_threads=settings.OCR_THREADS)
    try:
        with memory_bounded(settings.EXTRACTION_MEMORY_MB):
            fmt, extracted = extract(data, limits=upload_limits())
        check_storable(extracted)
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
    changes = normalize_identifiers(extracted)
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
            note_identifier_changes(invoice, changes)
            record_identity_collision(invoice)
            audit_record(
                actor=None,
                action="invoice.extract",
                obj=invoice,
                data={"identity": identity, "format": str(fmt)},
            )
    except IntegrityError:
        org_id = document.invoice.organization_id
        first = _live_with(identity, org_id) if identity else None
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
