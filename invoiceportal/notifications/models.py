"""In-app, email and SMS notifications, and what each user wants by email or SMS.

A notification knows its reader, its kind, its message context and the link the reader
opens; what it is about is an opaque ``subject`` key ("invoice:<hex>"), set by the layer
that notifies (invoices) and used only to group, scope and mark rows read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the portal")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Kind(models.TextChoices):
    DECIDED = "decided", _("Invoice decided")
    INFO_REQUESTED = "info_requested", _("Information requested")
    SLA_AT_RISK = "sla_at_risk", _("Decision deadline at risk")
    SLA_BREACHED = "sla_breached", _("Decision deadline missed")
    EXPEDITE_REQUESTED = "expedite_requested", _("Urgent handling requested")
    EXPEDITE_DECIDED = "expedite_decided", _("Urgent handling answered")
    INFO_PROVIDED = "info_provided", _("Submitter answered")
    # Written for reviewers and supervisors (never sent to a submitter).
    TASK_AT_RISK = "task_at_risk", _("Review deadline at risk")
    TASK_BREACHED = "task_breached", _("Review deadline missed")
    TASK_ASSIGNED = "task_assigned", _("Review task assigned")
    # Written for administrators (webhooks app).
    WEBHOOK_PAUSED = "webhook_paused", _("Webhook endpoint paused")


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(channel=Channel.IN_APP, read_at__isnull=True)


class Notification(models.Model):
    """One message to one user on one channel. In-app rows are the notification
    centre; email and SMS rows are the delivery log (``sent_at`` once delivered)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.IN_APP
    )
    context = models.JSONField(default=dict, blank=True)
    # What the notification is about, as an opaque key of the notifying layer
    # ("invoice:<hex>"): groups rows, scopes the centre, marks a subject's rows read.
    subject = models.CharField(_("subject"), max_length=64, blank=True, default="")
    # The page the reader opens (a path, made absolute for email and SMS).
    link = models.CharField(_("link"), max_length=300, blank=True, default="")
    # The event this notification reports ("timeline:<id>"), when it reports one:
    # the same event never notifies the same user twice on a channel.
    source = models.CharField(_("source"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    last_error = models.TextField(blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "user", "channel"],
                condition=~Q(source=""),
                name="one_notification_per_source_user_channel",
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "-id"],
                condition=Q(channel="in_app"),
                name="notification_centre",
            ),
            models.Index(
                fields=["user"],
                condition=Q(channel="in_app", read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True) & ~Q(channel="in_app"),
                name="notification_undelivered",
            ),
            models.Index(
                fields=["user", "subject"],
                condition=Q(channel="in_app", read_at__isnull=True),
                name="notification_unread_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.channel}"


class NotificationPreference(models.Model):
    """Which events a user also wants by email or SMS (in-app always happens)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    email_decided = models.BooleanField(
        _("Email me when an invoice is decided"), default=True
    )
    email_info_requested = models.BooleanField(
        _("Email me when a reviewer asks for information"), default=True
    )
    email_sla_at_risk = models.BooleanField(
        _("Email me when a decision deadline is at risk"), default=False
    )
    sms_decided = models.BooleanField(
        _("Text me when an invoice is decided"), default=False
    )
    sms_info_requested = models.BooleanField(
        _("Text me when a reviewer asks for information"), default=False
    )
    sms_sla_at_risk = models.BooleanField(
        _("Text me when a decision deadline is at risk"), default=False
    )

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user_id)


class SweepCursor(models.Model):
    """How far a catch-up sweep has read its source (one row per sweep name)."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}@{self.position}"
