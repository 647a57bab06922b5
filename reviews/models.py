"""Screening rules and their history, check results, seller lists and the registry of
issued invoices (DESIGN.md sections 3 and 5).

The checks themselves are pure functions in ``reviews.checks``; these models are what
they are configured from and what their verdicts are stored in.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RuleAction(models.TextChoices):
    """What a failed rule does to the invoice (``reviews.checks.base.Action``)."""

    REJECT = "reject", _("Reject")
    REVIEW = "review", _("Send to review")
    INFO = "info", _("Note only")


class CheckOutcomeChoice(models.TextChoices):
    PASS = "pass", _("Passed")
    FAIL = "fail", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ActionTaken(models.TextChoices):
    """The consequence a stored result had (``reviews.checks.base.Severity``)."""

    NONE = "none", _("None")
    INFO = "info", _("Note")
    REVIEW = "review", _("Review")
    REJECT = "reject", _("Reject")


class Rule(models.Model):
    """A screening rule as configured by admins. Changed only by ``rule_update``."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    outcome_on_fail = models.CharField(
        _("on failure"), max_length=8, choices=RuleAction.choices
    )
    params = models.JSONField(
        _("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    change_note = models.TextField(_("change note"), blank=True)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("screening rule")
        verbose_name_plural = _("screening rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome_on_fail__in=RuleAction.values),
                name="rule_outcome_on_fail_valid",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="rule_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class RuleVersion(models.Model):
    """One saved state of a rule: version 1 is the catalog default."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    enabled = models.BooleanField()
    outcome_on_fail = models.CharField(max_length=8, choices=RuleAction.choices)
    params = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    change_note = models.TextField(blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rule", "version"]
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "version"], name="one_rule_version_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


class CheckResultQuerySet(models.QuerySet):
    def latest_round(self, invoice_id: uuid.UUID | str) -> CheckResultQuerySet:
        """The results of the invoice's most recent screening round, catalog order."""
        rows = self.filter(invoice_id=invoice_id)
        last = rows.aggregate(last=Max("round"))["last"]
        return rows.filter(round=last or 0).order_by("id")


class CheckResult(models.Model):
    """One rule's verdict on one invoice in one screening round.

    A round is one entry of the invoice into ``screening`` (the first screening, then
    each answer to a reviewer's question). A doubled or retried run of the same round
    cannot store a second row: ``(invoice, round, rule_code)`` is unique.
    """

    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.CASCADE, related_name="check_results"
    )
    round = models.PositiveIntegerField(_("screening round"), default=1)
    run_id = models.UUIDField(_("run"), default=uuid.uuid4, editable=False)
    rule_code = models.CharField(_("rule"), max_length=64)
    rule_version = models.PositiveIntegerField(_("rule version"))
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=CheckOutcomeChoice.choices
    )
    action = models.CharField(
        _("action taken"),
        max_length=8,
        choices=ActionTaken.choices,
        default=ActionTaken.NONE,
    )
    configured_action = models.CharField(
        _("rule's action on failure"),
        max_length=8,
        choices=RuleAction.choices,
        blank=True,
    )
    message_zh = models.TextField(blank=True)
    message_en = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CheckResultQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "round", "id"]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "round", "rule_code"],
                name="one_check_result_per_rule_and_round",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_code}: {self.outcome}"

    @property
    def severity(self) -> str:
        """The API's name for the action taken (DESIGN.md section 7)."""
        return self.action


class SellerList(models.TextChoices):
    WATCH = "watch", _("Watchlist")
    BLOCK = "block", _("Blocklist")


class SellerListEntry(models.Model):
    """A seller on the admin-managed watchlist or blocklist, by tax ID."""

    seller_tax_id = models.CharField(_("seller taxpayer ID"), max_length=20)
    list = models.CharField(_("list"), max_length=8, choices=SellerList.choices)
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["list", "seller_tax_id"]
        verbose_name = _("seller list entry")
        verbose_name_plural = _("seller list entries")
        constraints = [
            models.UniqueConstraint(
                fields=["seller_tax_id", "list"], name="one_entry_per_seller_and_list"
            )
        ]

    def __str__(self) -> str:
        return f"{self.list}: {self.seller_tax_id}"


class RegistryStatusChoice(models.TextChoices):
    NORMAL = "normal", _("Normal")
    VOID = "void", _("Void")
    RED_FLUSHED = "red_flushed", _("Red-flushed")


MONEY = {"max_digits": 14, "decimal_places": 2, "null": True, "blank": True}


def registry_identity(*, code: str, number: str) -> str:
    """The duplicate key of domain/einvoice.md section 1: the number of a 数电票
    (which has no code), ``code:number`` for the others."""
    code, number = (code or "").strip(), (number or "").strip()
    return f"{code}:{number}" if code else number


class RegistryRecord(models.Model):
    """An issued invoice as the tax authority's registry (查验) knows it, imported by
    admins. ``identity`` is :func:`registry_identity` of code and number."""

    identity = models.CharField(max_length=40, unique=True)
    code = models.CharField(_("invoice code"), max_length=12, blank=True)
    number = models.CharField(_("invoice number"), max_length=20)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    seller_tax_id = models.CharField(_("seller taxpayer ID"), max_length=20, blank=True)
    seller_name = models.CharField(_("seller"), max_length=200, blank=True)
    buyer_tax_id = models.CharField(_("buyer taxpayer ID"), max_length=20, blank=True)
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount excluding tax"), **MONEY)
    tax_amount = models.DecimalField(_("tax"), **MONEY)
    total_amount = models.DecimalField(_("total"), **MONEY)
    check_code = models.CharField(_("check code"), max_length=20, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RegistryStatusChoice.choices,
        default=RegistryStatusChoice.NORMAL,
    )
    red_flushed_amount = models.DecimalField(_("red-flushed amount"), **MONEY)
    imported_at = models.DateTimeField(_("imported"), default=timezone.now)

    class Meta:
        ordering = ["identity"]
        verbose_name = _("registry record")
        verbose_name_plural = _("registry records")
        constraints = [
            models.CheckConstraint(
                condition=~Q(identity=""), name="registry_identity_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.identity
