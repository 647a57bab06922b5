"""What a submitter can do to an invoice after submitting it (and the supervisor's
answer to an urgent-handling request).

Each service locks the invoice row inside a durable transaction, re-checks its state
under the lock, changes status only through ``invoice_transition``, writes the
timeline and the audit entry in the same transaction, and queues notifications and
screening for after the commit. The invoice is fetched through the one scoping rule
(``Invoice.objects.visible_to``): someone else's invoice is "not found".
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Perm, Role, user_can
from accounts.selectors import users_with_role
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)

from .attachments import (
    AttachmentFile,
    attachments_check,
    attachments_discard,
    attachments_record,
    attachments_store,
)
from .expedite import (
    EXPEDITE_MESSAGES,
    expedite_create,
    expedite_is_pending,
    expedite_latest,
    expedite_request_problem,
    expedite_transition,
)
from .extraction.dispatch import check_declared_type
from .extraction.sniff import check_filename
from .hooks import AnswerReceived, ExpediteApproved, run_event_hooks
from .intake import (
    CONTENT_TYPES,
    SubmitResult,
    document_file_delete,
    document_file_save,
    enqueue_processing,
    invoice_fields_from,
    invoice_submit_file,
    normalize_identifiers,
    note_identifier_changes,
    organization_live_copy,
    read_document,
    readings_from,
    record_identity_collision,
    require_submitter,
    store_lines,
    upload_limits,
)
from .lifecycle import invoice_transition, timeline_note
from .models import (
    Document,
    ExpediteAutoApproval,
    ExpediteRequest,
    ExpediteState,
    Feedback,
    Invoice,
    InvoiceLine,
)
from .notify import notify_about_invoice
from .selectors import invoice_get_for_user, parse_invoice_id
from .separation import require_staff_separation
from .status import DECIDED, LIVE, OPEN, InvoiceStatus, Priority, can_move

# Timeline messages of the events these services write (rendered for the reader).
ACTION_MESSAGES = {
    **EXPEDITE_MESSAGES,
    "resubmitted": _("A corrected invoice was submitted as %(reference)s."),
    "corrected_file": _("You sent a corrected file: %(filename)s."),
}


class InvoiceStateError(ConflictError):
    default_code = "invalid_state"


def _status_label(invoice: Invoice) -> str:
    return str(InvoiceStatus(invoice.status).label)


def _lock_for_user(user: Any, invoice_id: uuid.UUID | str) -> Invoice:
    """The invoice, locked, if ``user`` may see it; 404 otherwise."""
    invoice = (
        Invoice.objects.visible_to(user)
        .select_for_update(of=("self",))
        .filter(pk=parse_invoice_id(invoice_id))
        .first()
    )
    if invoice is None:
        raise NotFoundError()
    return invoice


# ------------------------------------------------------------------- withdraw


def invoice_withdraw(
    *, user: Any, invoice_id: uuid.UUID | str, reason: str = ""
) -> Invoice:
    """Take an open invoice out of processing for good. Its review task closes in
    the same transaction (the reviews layer's transition hook), and a pending
    urgent-handling request is closed."""
    require_submitter(user)
    reason = (reason or "").strip()[:1000]
    with transaction.atomic(durable=True):
        invoice = _lock_for_user(user, invoice_id)
        if not can_move(invoice.status, InvoiceStatus.WITHDRAWN):
            raise InvoiceStateError(
                _("This invoice is %(status)s already; it can no longer be withdrawn.")
                % {"status": _status_label(invoice)},
                details={"status": invoice.status},
            )
        invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.WITHDRAWN,
            actor=user,
            code="withdrawn",
            note=reason,
        )
        pending = ExpediteRequest.objects.select_for_update(of=("self",)).filter(
            invoice=invoice, state=ExpediteState.PENDING
        )
        for request in pending:
            expedite_transition(
                request,
                invoice=invoice,
                to=ExpediteState.DECLINED,
                actor=user,
                code="expedite_closed",
                record_decider=False,
            )
    return invoice


# -------------------------------------------------------------------- respond


@dataclass(frozen=True)
class CorrectedFile:
    data: bytes
    filename: str
    content_type: str = ""


def _read_corrected(file: CorrectedFile) -> tuple[str, Any, str]:
    """Read the file like an upload (refusing unsafe or unreadable files) before any
    lock is taken: (format, extracted, safe filename)."""
    limits = upload_limits()
    safe_name = check_filename(
        file.filename or "upload", max_length=limits.max_filename_length
    )
    fmt, extracted = read_document(file.data, limits=limits)
    check_declared_type(fmt, safe_name, file.content_type)
    return str(fmt), extracted, safe_name


def _apply_corrected(
    invoice: Invoice,
    *,
    user: Any,
    fmt: str,
    extracted: Any,
    data: bytes,
    name: str,
    stored_name: str,
) -> Document:
    cleaned = normalize_identifiers(extracted)
    fields = invoice_fields_from(extracted)
    new_identity = fields["identity"] != invoice.identity
    twin = organization_live_copy(
        fields["identity"], invoice.organization_id, exclude=invoice.pk
    )
    if new_identity and twin is not None:
        # Issue 16: answered 500 (IntegrityError) before.
        raise ApplicationError(
            _(
                "This file is invoice %(reference)s, which you already submitted. "
                "Send a corrected copy of this invoice instead."
            )
            % {"reference": twin.reference},
            code="already_submitted",
            details={"invoice": str(twin.pk)},
        )
    if (
        fields["identity"]
        and invoice.identity
        and fields["identity"] != invoice.identity
    ):
        raise ApplicationError(
            _(
                "This file is a different invoice (number %(number)s). Send a "
                "corrected copy of invoice %(expected)s, or submit the other invoice "
                "as a new one."
            )
            % {"number": extracted.number, "expected": invoice.number},
            code="different_invoice",
        )
    for key, value in fields.items():
        setattr(invoice, key, value)
    invoice.save(update_fields=[*fields, "updated_at"])
    InvoiceLine.objects.filter(invoice=invoice).delete()
    store_lines(invoice, extracted)
    note_identifier_changes(invoice, cleaned, actor=user)
    if new_identity:
        record_identity_collision(invoice, actor=user)
    document = Document(
        invoice=invoice,
        original_name=name,
        content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        extractor=fmt,
        field_readings=readings_from(extracted),
    )
    document.file.name = stored_name  # written before the transaction opened
    document.save()
    return document


def _asker_id(invoice: Invoice) -> int | None:
    """Who asked the pending question: the actor of the latest ``info_requested``
    event (read from the invoice's own timeline)."""
    return (
        invoice.timeline.filter(code="info_requested")
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )


def invoice_respond(
    *,
    user: Any,
    invoice_id: uuid.UUID | str,
    message: str,
    file: CorrectedFile | None = None,
    attachments: Sequence[AttachmentFile] = (),
) -> Invoice:
    """Answer the reviewer's question. The invoice goes back to screening; with a
    corrected file it is screened again (and, still needing review, returns to its
    reviewer's queue), without one it returns to the review queue at once. Either
    way the SLA clock runs again from here.

    ``attachments`` (a contract, an approval form: PDF, JPEG or PNG) are checked
    before anything is written, stored before the transaction opens and recorded
    with the answer in its transaction; when the answer fails they are deleted
    again, so a refused answer leaves nothing behind."""
    require_submitter(user)
    message = (message or "").strip()
    if not message:
        raise ApplicationError(
            _("Write an answer to the reviewer's question."),
            code="message_required",
        )
    message = message[:4000]
    read = _read_corrected(file) if file is not None else None
    checked = attachments_check(list(attachments))
    stored: list[str] = []
    corrected_name = ""
    if checked or read is not None:
        # Someone else's invoice: 404 before anything is written.
        invoice_get_for_user(user=user, invoice_id=invoice_id)
    # Files first, before the transaction opens (issue 15): no row lock is held while
    # the storage answers; a failed answer deletes them again.
    if checked:
        stored = attachments_store(checked, invoice_id=parse_invoice_id(invoice_id))
    try:
        if read is not None:
            corrected_name = document_file_save(
                f"{parse_invoice_id(invoice_id)}-{uuid.uuid4().hex[:8]}.{read[0]}",
                file.data,
            )
        return _respond(
            user=user,
            invoice_id=invoice_id,
            message=message,
            file=file,
            read=read,
            checked=checked,
            stored=stored,
            corrected_name=corrected_name,
        )
    except BaseException:
        attachments_discard(stored)
        if corrected_name:
            document_file_delete(corrected_name)
        raise


def _respond(
    *,
    user: Any,
    invoice_id: uuid.UUID | str,
    message: str,
    file: CorrectedFile | None,
    read: tuple[str, Any, str] | None,
    checked: list[Any],
    stored: list[str],
    corrected_name: str,
) -> Invoice:
    with transaction.atomic(durable=True):
        invoice = _lock_for_user(user, invoice_id)
        if invoice.status != InvoiceStatus.NEEDS_INFO:
            raise InvoiceStateError(
                _("Nobody is waiting for an answer on this invoice: it is %(status)s.")
                % {"status": _status_label(invoice)},
                details={"status": invoice.status},
            )
        asker_id = _asker_id(invoice)
        document = None
        if read is not None:
            fmt, extracted, name = read
            document = _apply_corrected(
                invoice,
                user=user,
                fmt=fmt,
                extracted=extracted,
                data=file.data,
                name=name,
                stored_name=corrected_name,
            )
        params: dict[str, Any] = {}
        if document is not None:
            params["file"] = document.original_name
        if checked:
            params["attachments"] = [item.name for item in checked]
        answer = invoice_transition(
            invoice=invoice,
            to=InvoiceStatus.SCREENING,
            actor=user,
            code="info_provided",
            note=message,
            params=params or None,
        )
        rows = attachments_record(
            checked, stored, invoice=invoice, event=answer, user=user
        )
        if document is not None:
            timeline_note(
                invoice,
                "corrected_file",
                actor=user,
                params={"filename": document.original_name},
                visible=True,
            )
            invoice_id_str = str(invoice.pk)
            transaction.on_commit(lambda: enqueue_processing(invoice_id_str))
        else:
            # Nothing to screen again: back to the reviewer's queue (reviews' hook).
            run_event_hooks(AnswerReceived(invoice=invoice, actor=user))
        audit_record(
            actor=user,
            action="invoice.respond",
            obj=invoice,
            data={
                "message_chars": len(message),
                "sha256": document.sha256 if document else "",
                "attachments": [
                    {"id": row.pk, "name": row.original_name, "sha256": row.sha256}
                    for row in rows
                ],
            },
        )
        if asker_id:
            notify_about_invoice(
                users=list(User.objects.filter(pk=asker_id)),
                invoice=invoice,
                kind="info_provided",
                context={"reference": invoice.reference},
            )
    return invoice


# ------------------------------------------------------------------- expedite


def _auto_approves(invoice: Invoice) -> bool:
    return (
        ExpediteAutoApproval.objects.filter(enabled=True)
        .filter(
            Q(organization_id=invoice.organization_id) | Q(organization__isnull=True)
        )
        .exists()
    )


def _approve(
    request: ExpediteRequest,
    invoice: Invoice,
    *,
    actor: Any,
    automatic: bool,
    note: str = "",
) -> None:
    """The request is approved: the invoice becomes urgent, its open review task
    too (the reviews layer's event hook), in the caller's transaction."""
    now = timezone.now()
    invoice.priority = Priority.URGENT
    invoice.expedite_reason = request.reason
    invoice.save(update_fields=["priority", "expedite_reason", "updated_at"])
    run_event_hooks(
        ExpediteApproved(invoice=invoice, actor=actor, priority=Priority.URGENT, at=now)
    )
    expedite_transition(
        request,
        invoice=invoice,
        to=ExpediteState.APPROVED,
        actor=actor,
        code="expedite_auto_approved" if automatic else "expedite_approved",
        note=note,
        automatic=automatic,
    )


def invoice_expedite_request(
    *, user: Any, invoice_id: uuid.UUID | str, reason: str
) -> ExpediteRequest:
    """Ask for urgent handling. A supervisor approves it, unless an admin rule
    approves this organization's requests at once."""
    require_submitter(user)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ApplicationError(
            _("Say why the invoice is urgent (at least a few words)."),
            code="reason_required",
        )
    reason = reason[:1000]
    with transaction.atomic(durable=True):
        invoice = _lock_for_user(user, invoice_id)
        problem = expedite_request_problem(invoice, latest=expedite_latest(invoice))
        if problem is not None:
            code, message = problem
            raise InvoiceStateError(
                message, code=code, details={"status": invoice.status}
            )
        request, _event_row = expedite_create(invoice=invoice, user=user, reason=reason)
        if _auto_approves(invoice):
            _approve(request, invoice, actor=user, automatic=True)
        else:
            notify_about_invoice(
                users=list(users_with_role(Role.SUPERVISOR)),
                invoice=invoice,
                kind="expedite_requested",
                context={"user": user.get_username(), "reason": reason},
            )
    return request


def invoice_expedite_decide(
    *, actor: Any, request_id: int, approve: bool, note: str = ""
) -> ExpediteRequest:
    """A supervisor approves (priority becomes urgent) or declines a request."""
    if not user_can(actor, Perm.SUPERVISE):
        raise PermissionDeniedError(
            _("Only supervisors answer urgent-handling requests.")
        )
    note = (note or "").strip()[:1000]
    invoice_id = (
        ExpediteRequest.objects.filter(pk=request_id)
        .values_list("invoice_id", flat=True)
        .first()
    )
    if invoice_id is None:
        raise NotFoundError()
    with transaction.atomic(durable=True):
        invoice = _lock_for_user(actor, invoice_id)
        request = (
            ExpediteRequest.objects.select_for_update(of=("self",))
            .select_related("requested_by")
            .get(pk=request_id)
        )
        if not expedite_is_pending(request):
            raise InvoiceStateError(
                _("This request was already answered."), code="already_answered"
            )
        require_staff_separation(
            user=actor,
            organization_id=invoice.organization_id,
            submitted_by_id=invoice.submitted_by_id,
        )
        if approve and invoice.status in OPEN:
            _approve(request, invoice, actor=actor, automatic=False, note=note)
        else:
            expedite_transition(
                request,
                invoice=invoice,
                to=ExpediteState.DECLINED,
                actor=actor,
                code="expedite_declined",
                note=note,
            )
        notify_about_invoice(
            users=[request.requested_by],
            invoice=invoice,
            kind="expedite_decided",
            context={"state": request.state, "note": note},
        )
    return request


def invoice_expedite_approve(
    *, actor: Any, request_id: int, note: str = ""
) -> ExpediteRequest:
    return invoice_expedite_decide(
        actor=actor, request_id=request_id, approve=True, note=note
    )


def invoice_expedite_decline(
    *, actor: Any, request_id: int, note: str = ""
) -> ExpediteRequest:
    return invoice_expedite_decide(
        actor=actor, request_id=request_id, approve=False, note=note
    )


# ------------------------------------------------------------------- resubmit


def invoice_resubmit(
    *,
    user: Any,
    invoice_id: uuid.UUID | str,
    data: bytes,
    filename: str,
    content_type: str = "",
) -> SubmitResult:
    """Submit a corrected copy of a rejected invoice, linked to the original."""
    require_submitter(user)
    original = invoice_get_for_user(user=user, invoice_id=invoice_id)
    if original.status != InvoiceStatus.REJECTED:
        raise InvoiceStateError(
            _(
                "Only a rejected invoice can be corrected and resubmitted; this one is "
                "%(status)s."
            )
            % {"status": _status_label(original)},
            details={"status": original.status},
        )
    live = original.resubmissions.filter(status__in=LIVE).only("reference").first()
    if live is not None:
        raise InvoiceStateError(
            _("This invoice was already resubmitted as %(reference)s.")
            % {"reference": live.reference},
            code="already_resubmitted",
            details={"invoice": str(live.pk)},
        )
    result = invoice_submit_file(
        user=user,
        data=data,
        filename=filename,
        content_type=content_type,
        resubmission_of=original,
    )
    if not result.created:
        if result.invoice.pk == original.pk:
            raise ApplicationError(
                _(
                    "This is the file that was rejected. Fix what the rejection "
                    "explains (usually: ask the seller for a corrected invoice) and "
                    "upload the corrected file."
                ),
                code="same_file",
            )
        raise InvoiceStateError(
            _("This file was already submitted as %(reference)s.")
            % {"reference": result.invoice.reference},
            code="already_submitted",
            details={"invoice": str(result.invoice.pk)},
        )
    with transaction.atomic(durable=True):
        locked = Invoice.objects.select_for_update(of=("self",)).get(pk=original.pk)
        timeline_note(
            locked,
            "resubmitted",
            actor=user,
            params={"reference": result.invoice.reference},
            visible=True,
        )
        audit_record(
            actor=user,
            action="invoice.resubmitted",
            obj=locked,
            data={"new": str(result.invoice.pk)},
        )
    return result


# ------------------------------------------------------------------- feedback


def invoice_feedback_give(
    *, user: Any, invoice_id: uuid.UUID | str, rating: int, comment: str = ""
) -> Feedback:
    """Rate how a decided invoice was handled (1-5); a second rating replaces the
    first."""
    require_submitter(user)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ApplicationError(_("Choose a rating from 1 to 5."), code="invalid_rating")
    comment = (comment or "").strip()[:2000]
    with transaction.atomic(durable=True):
        invoice = _lock_for_user(user, invoice_id)
        if invoice.status not in DECIDED:
            raise InvoiceStateError(
                _("You can rate the handling once the invoice is decided."),
                code="not_decided",
            )
        try:
            with transaction.atomic():
                feedback, _created = Feedback.objects.update_or_create(
                    invoice=invoice,
                    user=user,
                    defaults={
                        "rating": rating,
                        "comment": comment,
                        "created_at": timezone.now(),
                    },
                )
        except IntegrityError as exc:  # pragma: no cover - the lock serialises
            raise InvoiceStateError(_("Try again.")) from exc
        audit_record(
            actor=user,
            action="invoice.feedback",
            obj=invoice,
            data={"rating": rating},
        )
    return feedback
