"""Endpoints, the outbox of events, and their deliveries (with every attempt)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    INVOICE_DECIDED = "invoice.decided", _("Invoice decided (approved or rejected)")
    INVOICE_NEEDS_INFO = "invoice.needs_info", _("Reviewer asked for information")
    INVOICE_WITHDRAWN = "invoice.withdrawn", _("Invoice withdrawn by the submitter")
    TASK_BREACHED = "task.breached", _("Review missed its deadline")


class WebhookEndpointQuerySet(models.QuerySet):
    def receiving(self) -> WebhookEndpointQuerySet:
        """Endpoints that get new events (active; a paused one collects them)."""
        return self.filter(active=True)


class WebhookEndpoint(models.Model):
    """An HTTPS address of one organization's system, with the events it wants.

    ``active`` is the admin's choice: an inactive endpoint gets no new events.
    ``paused_at`` is set by the portal after a delivery failed for
    ``WEBHOOKS_RETRY_HOURS``: a paused endpoint keeps collecting events, sends
    nothing, and catches up once an admin resumes it.
    """

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    # The signing key (HMAC-SHA256). Shown once, when created or replaced.
    secret = models.CharField(max_length=100)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    pause_reason = models.TextField(_("why it was paused"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def wants(self, event_type: str) -> bool:
        return event_type in (self.events or [])


class WebhookEvent(models.Model):
    """The outbox: one row per event, written in the transaction of the change it
    reports (rolled back with it). ``data`` is JSON-ready (dates as ISO strings)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+"
    )
    type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    data = models.JSONField(default=dict)
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class ErrorCode(models.TextChoices):
    ADDRESS_REFUSED = "address_refused", _("Address refused: not a public address")
    UNRESOLVABLE = "unresolvable", _("The host name could not be resolved")
    CONNECTION = "connection", _("Could not connect")
    TIMEOUT = "timeout", _("No answer within 5 seconds")
    TLS = "tls", _("TLS handshake or certificate failed")
    REDIRECT = "redirect", _("Answered with a redirect (not followed)")
    HTTP_STATUS = "http_status", _("Answered with an error status")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


class WebhookDelivery(models.Model):
    """One event to one endpoint. A worker claims it (a conditional update from
    ``pending``, or from a ``sending`` whose lease ran out) before sending, so no two
    workers send it at the same time."""

    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The 24-hour retry window counts from here (reset by a replay or a resume).
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    last_error_code = models.CharField(
        _("last error"), max_length=20, choices=ErrorCode.choices, blank=True
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="one_delivery_per_event_endpoint"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]


class WebhookAttempt(models.Model):
    """One request sent (or refused before sending), for the delivery log."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(default=timezone.now)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=20, choices=ErrorCode.choices, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]
