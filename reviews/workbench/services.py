"""Writes of the workbench: correcting a misread field, adding an internal note.

A correction is the claimant's, before deciding: the value is validated with the
portal's parsers, the invoice (then the task) locked, the old and new values and
the reason written to the audit log and to an internal timeline event in the same
transaction, the field marked in ``Invoice.corrected_fields``, its reading on the
document marked as a person's (confidence 1.0, the extractor's reading kept), and
the checks run again as a new screening round, so the task page shows what changed.

The timeline event is internal (``visible_to_submitter=False``): the reason is
written for colleagues and may name a suspicion; the submitter sees the corrected
value marked as corrected on the invoice and in the API, and the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.capitals import parse_capitals
from invoiceportal.common.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.common.identifiers import clean_identifier
from invoiceportal.common.money import to_money
from invoiceportal.common.taxid import TaxIdForm, classify_tax_id
from invoiceportal.invoices.extraction.values import parse_date
from invoiceportal.invoices.lifecycle import timeline_note
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.separation import require_staff_separation
from invoiceportal.invoices.status import InvoiceStatus
from reviews.context import extracted_from_invoice, latest_document
from reviews.models import ReviewTask, TaskState
from reviews.queue.services import separation_problem
from reviews.screening import screening_round

from .models import NOTE_MAX_LENGTH, ReviewNote

MAX_AMOUNT = Decimal("999999999999.99")
REASON_MAX_LENGTH = 1000
EARLIEST_ISSUE_DATE = dt.date(1994, 1, 1)  # VAT invoices start in 1994

WORKBENCH_MESSAGES = {
    "field_corrected": _(
        "A reviewer corrected %(field)s from “%(old)s” to “%(new)s”; the checks ran "
        "again (round %(round)s)."
    ),
}


class InvalidValueError(ApplicationError):
    default_code = "invalid_value"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # amount | date | tax_id | code | number | check_code | text | words
    label_zh: str
    label_en: str
    max_length: int = 200


FIELD_SPECS: dict[str, FieldSpec] = {
    s.name: s
    for s in (
        FieldSpec("code", "code", "发票代码", "invoice code"),
        FieldSpec("number", "number", "发票号码", "invoice number"),
        FieldSpec("issue_date", "date", "开票日期", "issue date"),
        FieldSpec("check_code", "check_code", "校验码", "check code"),
        FieldSpec("seller_name", "text", "销售方名称", "seller"),
        FieldSpec(
            "seller_tax_id", "tax_id", "销售方纳税人识别号", "seller taxpayer ID"
        ),
        FieldSpec("buyer_name", "text", "购买方名称", "buyer"),
        FieldSpec("buyer_tax_id", "tax_id", "购买方纳税人识别号", "buyer taxpayer ID"),
        FieldSpec("amount", "amount", "合计金额", "amount excluding tax"),
        FieldSpec("tax_amount", "amount", "合计税额", "tax"),
        FieldSpec("total_amount", "amount", "价税合计", "total"),
        FieldSpec("total_in_words", "words", "价税合计（大写）", "total in words", 100),
    )
}


def _digits(value: str, lengths: tuple[int, ...], label: str) -> str:
    cleaned = clean_identifier(value).value
    if cleaned and not (cleaned.isdigit() and len(cleaned) in lengths):
        raise InvalidValueError(
            _("%(field)s must be %(lengths)s digits.")
            % {"field": label, "lengths": _(" or ").join(str(n) for n in lengths)}
        )
    return cleaned


def parse_field_value(field: str, raw: str, *, today: dt.date) -> Any:
    """The typed value of ``raw`` for ``field``, or ``InvalidValueError`` saying what
    is wrong. Pure: amounts through ``to_money``, dates through ``parse_date``, tax
    IDs through ``clean_identifier`` and ``classify_tax_id``, capitals through
    ``parse_capitals``."""
    spec = FIELD_SPECS.get(field)
    if spec is None:
        raise InvalidValueError(
            _("This field cannot be corrected here."), code="field_not_correctable"
        )
    label = str(_(spec.label_en))
    text = (raw or "").strip()
    if spec.kind == "amount":
        if not text:
            raise InvalidValueError(_("Enter the amount, for example 4449.00."))
        try:
            value = to_money(text)
        except ValueError:
            raise InvalidValueError(
                _("“%(value)s” is not an amount with at most two decimals.")
                % {"value": text[:40]}
            ) from None
        if abs(value) > MAX_AMOUNT:
            raise InvalidValueError(_("The amount is too large."))
        return value
    if spec.kind == "date":
        value = parse_date(text) if text else None
        if value is None:
            raise InvalidValueError(
                _("“%(value)s” is not a date: write it as 2026-11-03.")
                % {"value": text[:40]}
            )
        if value > today or value < EARLIEST_ISSUE_DATE:
            raise InvalidValueError(
                _("An issue date must lie between 1994-01-01 and today.")
            )
        return value
    if spec.kind == "tax_id":
        cleaned = clean_identifier(text).value
        if classify_tax_id(cleaned) is TaxIdForm.INVALID:
            raise InvalidValueError(
                _(
                    "“%(value)s” is not a valid taxpayer ID: a Unified Social Credit "
                    "Code has 18 characters and a correct check character."
                )
                % {"value": text[:40]}
            )
        return cleaned
    if spec.kind == "code":
        return _digits(text, (10, 12), label)
    if spec.kind == "number":
        value = _digits(text, (8, 20), label)
        if not value:
            raise InvalidValueError(_("Enter the invoice number."))
        return value
    if spec.kind == "check_code":
        return _digits(text, (20,), label)
    if spec.kind == "words":
        if text:
            try:
                parse_capitals(text)
            except ValueError:
                raise InvalidValueError(
                    _(
                        "“%(value)s” is not an amount in Chinese capitals, for example "
                        "肆仟肆佰肆拾玖圆整."
                    )
                    % {"value": text[:40]}
                ) from None
        return text[: spec.max_length]
    if not text:
        raise InvalidValueError(_("Enter the value as printed on the invoice."))
    if len(text) > spec.max_length:
        raise InvalidValueError(
            _("At most %(count)s characters.") % {"count": spec.max_length}
        )
    return text


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def invoice_field_correct(
    *, actor: Any, task_id: int, field: str, value: str, reason: str
) -> Invoice:
    """Correct one misread field of the invoice of task ``task_id`` (held by
    ``actor``), audited, and re-run the checks. Returns the invoice."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValueError(
            _("Say why the value is corrected (what the document shows)."),
            code="reason_required",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidValueError(
            _("At most %(count)s characters.") % {"count": REASON_MAX_LENGTH}
        )
    new = parse_field_value(field, value, today=timezone.localdate())
    spec = FIELD_SPECS[field]
    with transaction.atomic(durable=True):
        task = ReviewTask.objects.filter(pk=task_id).only("invoice_id").first()
        if task is None:
            raise NotFoundError(_("This review task does not exist."))
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=task.invoice_id)
        )
        task = ReviewTask.objects.select_for_update(of=("self",)).get(pk=task_id)
        problem = separation_problem(user=actor, task=task)
        if problem:
            raise PermissionDeniedError(problem, code="separation_of_duties")
        if task.state != TaskState.CLAIMED or task.assigned_to_id != actor.pk:
            raise ConflictError(
                _("Claim this task first: only its reviewer corrects fields."),
                code="not_claimant",
            )
        if invoice.status != InvoiceStatus.IN_REVIEW:
            raise ConflictError(
                _("Only an invoice in review can be corrected."), code="not_in_review"
            )
        old = getattr(invoice, field)
        if old == new:
            raise InvalidValueError(
                _("The invoice already has this value."), code="unchanged"
            )
        now = timezone.now()
        setattr(invoice, field, new)
        fields = [field, "corrected_fields", "updated_at"]
        if field in ("code", "number"):
            invoice.identity = (
                extracted_from_invoice(invoice).identity if invoice.number else ""
            )
            fields.append("identity")
        marks = dict(invoice.corrected_fields or {})
        earlier = marks.get(field) or {}
        marks[field] = {
            "at": now.isoformat(),
            "by": actor.pk,
            "original": earlier.get("original", _shown(old)),
        }
        invoice.corrected_fields = marks
        try:
            with transaction.atomic():
                invoice.save(update_fields=fields)
        except IntegrityError:
            raise ConflictError(
                _(
                    "Another live invoice of this organization already has this "
                    "number: check the value."
                ),
                code="identity_taken",
            ) from None
        document = latest_document(invoice)
        if document is not None:
            readings = dict(document.field_readings or {})
            readings[field] = {
                "source": "manual",
                "confidence": 1.0,
                "corrected": True,
                "read": readings.get(field),
            }
            document.field_readings = readings
            document.save(update_fields=["field_readings"])
        round_number, _routing = screening_round(invoice, document=document)
        timeline_note(
            invoice,
            "field_corrected",
            actor=actor,
            params={
                "field": spec.label_zh,
                "field_en": spec.label_en,
                "name": field,
                "old": _shown(old),
                "new": _shown(new),
                "round": round_number,
            },
            note=reason,
            visible=False,
        )
        audit_record(
            actor=actor,
            action="invoice.field_corrected",
            obj=invoice,
            data={
                "field": field,
                "old": _shown(old),
                "new": _shown(new),
                "reason": reason,
                "task": task.pk,
                "round": round_number,
            },
        )
    return invoice


def review_note_add(*, actor: Any, task_id: int, body: str) -> ReviewNote:
    """An internal note on the task's invoice, for reviewers and supervisors only.
    Staff of the submitter's organization may not write one (separation)."""
    body = (body or "").strip()
    if not body:
        raise InvalidValueError(_("Write the note first."), code="note_empty")
    if len(body) > NOTE_MAX_LENGTH:
        raise InvalidValueError(
            _("At most %(count)s characters.") % {"count": NOTE_MAX_LENGTH}
        )
    with transaction.atomic(durable=True):
        task = ReviewTask.objects.select_related("invoice").filter(pk=task_id).first()
        if task is None:
            raise NotFoundError(_("This review task does not exist."))
        require_staff_separation(
            user=actor,
            organization_id=task.organization_id,
            submitted_by_id=task.submitted_by_id,
        )
        note = ReviewNote.objects.create(
            invoice=task.invoice, task=task, author=actor, body=body
        )
        audit_record(
            actor=actor,
            action="invoice.internal_note",
            obj=task.invoice,
            data={"task": task.pk, "note": note.pk},
        )
    return note
