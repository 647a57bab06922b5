from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Perm, user_can
from invoiceportal.common.language import is_english
from invoiceportal.common.models import ChoiceLabels

from .status import LIVE, DecisionSource, InvoiceKindChoice, InvoiceStatus, Priority

MONEY = {"max_digits": 14, "decimal_places": 2, "null": True, "blank": True}


class InvoiceQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> InvoiceQuerySet:
        """One scoping rule: staff roles see all, submitters their organization's."""
        if (
            user_can(user, Perm.REVIEW)
            or user_can(user, Perm.SUPERVISE)
            or user_can(user, Perm.ADMINISTER)
        ):
            return self.all()
        if user_can(user, Perm.SUBMIT) and user.organization_id:
            return self.filter(organization_id=user.organization_id)
        return self.none()


class Invoice(ChoiceLabels, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("organization"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="submitted_invoices",
        verbose_name=_("submitted by"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.RECEIVED,
        db_index=True,
    )
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=InvoiceKindChoice.choices,
        default=InvoiceKindChoice.OTHER,
    )
    code = models.CharField(_("invoice code"), max_length=12, blank=True)
    number = models.CharField(_("invoice number"), max_length=20, blank=True)
    identity = models.CharField(max_length=40, blank=True, db_index=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    check_code = models.CharField(_("check code"), max_length=20, blank=True)
    seller_name = models.CharField(_("seller"), max_length=200, blank=True)
    seller_tax_id = models.CharField(
        _("seller taxpayer ID"), max_length=20, blank=True, db_index=True
    )
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    buyer_tax_id = models.CharField(_("buyer taxpayer ID"), max_length=20, blank=True)
    amount = models.DecimalField(_("amount excluding tax"), **MONEY)
    tax_amount = models.DecimalField(_("tax"), **MONEY)
    total_amount = models.DecimalField(_("total"), **MONEY)
    total_in_words = models.CharField(_("total in words"), max_length=100, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    is_red = models.BooleanField(_("red-letter"), default=False)
    # The QR payload decoded from the document, as printed (domain/einvoice.md §11).
    qr_payload = models.CharField(_("QR payload"), max_length=300, blank=True)
    # Special-business data (toll, rail, air): see ExtractedInvoice.extras.
    extras = models.JSONField(_("special business data"), default=dict, blank=True)
    # Fields a reviewer corrected on the workbench: {field: {"at", "by", "original"}}
    # (reviews.workbench.services.invoice_field_correct; the audit log has the rest).
    corrected_fields = models.JSONField(_("corrected fields"), default=dict, blank=True)
    decision_source = models.CharField(
        _("decided by"), max_length=16, choices=DecisionSource.choices, blank=True
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    priority = models.IntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    expedite_reason = models.TextField(_("reason for urgency"), blank=True)
    resubmission_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resubmissions",
        verbose_name=_("resubmission of"),
    )
    idempotency_key = models.CharField(max_length=128, blank=True)
    # SHA-256 of what was sent with the key: the same key with another body is refused.
    idempotency_fingerprint = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["organization", "-submitted_at"]),
            models.Index(fields=["organization", "status", "-submitted_at"]),
        ]
        constraints = [
            # Per organization: another organization's copy (typed in first, or
            # genuine) never blocks a submission; screening sends the collision to
            # review as a fraud signal (issue 16).
            models.UniqueConstraint(
                fields=["organization", "identity"],
                condition=Q(status__in=sorted(LIVE)) & ~Q(identity=""),
                name="one_live_invoice_per_identity_and_organization",
            ),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_invoice_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def reason_for_reader(self) -> str:
        """The decision's reason in the reader's language: automatic decisions keep
        both languages on their timeline event; a reviewer's words stay as written."""
        if self.decision_source != DecisionSource.AUTOMATIC:
            return self.decision_reason
        event = self.timeline.filter(status=self.status).order_by("-at", "-id").first()
        if event is None:
            return self.decision_reason
        english = is_english()
        params = event.params or {}
        if "reasons" in params:
            return params.get("reasons_en") if english else params["reasons"]
        from .lifecycle import timeline_message

        return timeline_message(event)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("item"), max_length=200, blank=True)
    spec = models.CharField(_("specification"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=24, decimal_places=8, null=True, blank=True
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=24, decimal_places=8, null=True, blank=True
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_rate = models.DecimalField(
        _("tax rate"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    tax_amount = models.DecimalField(_("tax"), **MONEY)
    tax_exempt = models.BooleanField(_("tax exempt"), default=False)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="one_line_per_position"
            )
        ]


class Document(ChoiceLabels, models.Model):
    """The original file as uploaded, and how it was read."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="documents"
    )
    file = models.FileField(upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=10, blank=True)
    extractor = models.CharField(max_length=40, blank=True)
    field_readings = models.JSONField(default=dict, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]


class TimelineEvent(ChoiceLabels, models.Model):
    """One step in an invoice's life, written in the transaction of the change."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="timeline"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    visible_to_submitter = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]


class ReferenceCounter(models.Model):
    """The last reference number issued per year (INV-2026-000123)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class ExpediteState(models.TextChoices):
    PENDING = "pending", _("Waiting for a supervisor")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class ExpediteRequest(models.Model):
    """A submitter's request for urgent handling. The invoice's priority rises only
    when it is approved (by a supervisor, or at once by an auto-approval rule)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="expedite_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason for urgency"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ExpediteState.choices,
        default=ExpediteState.PENDING,
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    automatic = models.BooleanField(_("approved by a rule"), default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("urgent handling request")
        verbose_name_plural = _("urgent handling requests")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(state="pending"),
                name="one_pending_expedite_request_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.state}"


class ExpediteAutoApproval(models.Model):
    """Admin rule: urgent-handling requests of this organization (or of every
    organization, when empty) are approved at once."""

    organization = models.OneToOneField(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("organization"),
        help_text=_("Leave empty to approve every organization's requests at once."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("urgent handling auto-approval")
        verbose_name_plural = _("urgent handling auto-approvals")

    def __str__(self) -> str:
        return str(self.organization or _("every organization"))


class Feedback(models.Model):
    """A submitter's 1-5 rating of how an invoice was handled, after its decision."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="feedback"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("given"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "user"], name="one_feedback_per_invoice_and_user"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5),
                name="feedback_rating_1_to_5",
            ),
        ]
        indexes = [models.Index(fields=["-created_at"], name="feedback_recent")]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.rating}"


class AnswerAttachment(models.Model):
    """A file a submitter sent with an answer to a reviewer's question (a contract,
    an approval form): not an invoice, never read as one. Stored through the same
    storage as the invoice documents; checked before it is stored
    (``invoices.attachments``)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="answer_attachments"
    )
    # The answer it came with: the ``info_provided`` timeline event.
    event = models.ForeignKey(
        TimelineEvent, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("answer attachment")
        verbose_name_plural = _("answer attachments")

    def __str__(self) -> str:
        return self.original_name
