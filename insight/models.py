"""The daily rollup behind the performance page, and the forecast alert's state.

``RollupFact`` is one number of one local (Asia/Shanghai) day for one organization:
``metric`` says what is counted and ``key`` along which dimension (an invoice kind, a
decision source, a rule code, a reviewer id...). Written only by
``insight.rollup.rollup_refresh``; the page sums rows, it never scans invoices for
past days.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    VOLUME = "volume", _("Invoices submitted")  # key: invoice kind
    DECIDED = "decided", _("Invoices decided")  # key: decision source; durations
    SLA = "sla", _("Review tasks decided")  # key: "met" / "breached"
    RULE_FAIL = "rule_fail", _("Failed checks")  # key: rule code
    REJECTION = "rejection", _("Rejections")  # key: reason code
    REVIEWER = "reviewer", _("Reviewer decisions")  # key: reviewer id
    SECOND = "second", _("Second reviews")  # key: first reviewer id; total: disagreed
    FEEDBACK = "feedback", _("Feedback")  # key: ""; total: sum of ratings


class RollupFact(models.Model):
    day = models.DateField()
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(max_length=16, choices=Metric.choices)
    key = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    # Durations in seconds at two significant figures -> how many (DECIDED only).
    durations = models.JSONField(default=dict, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "organization", "metric", "key"],
                name="one_rollup_fact_per_day_org_metric_key",
            )
        ]
        indexes = [
            models.Index(fields=["day", "metric"], name="rollup_by_day"),
            models.Index(
                fields=["organization", "day", "metric"], name="rollup_by_org_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id} {self.metric}:{self.key}"


class ForecastAlert(models.Model):
    """One crossing of the forecast threshold: opened when the forecast reaches it
    (supervisors notified once), closed when it falls back below."""

    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    breaching = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    extra_reviewers = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("breach forecast alert")
        verbose_name_plural = _("breach forecast alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["is_open"],
                condition=models.Q(is_open=True),
                name="one_open_forecast_alert",
            )
        ]

    def __str__(self) -> str:
        return f"{self.opened_at:%Y-%m-%d %H:%M} {self.breaching}/{self.threshold}"
