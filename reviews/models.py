"""Screening rules and their history, check results, seller lists and the registry of
issued invoices (DESIGN.md sections 3 and 5).

The checks themselves are pure functions in ``reviews.checks``; these models are what
they are configured from and what their verdicts are stored in.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Perm, user_can
from invoiceportal.common.language import is_english
from invoiceportal.common.models import ChoiceLabels
from invoiceportal.invoices.status import Priority


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


# ------------------------------------------------------------------ review queue
# The review queue and its SLA (DESIGN.md sections 3, 4 and 6): tasks, SLA policies,
# the business calendar admins edit, rejection reasons, four-eyes rules. Tasks are
# changed only by the services in ``reviews.queue.services``.


class SLAPolicy(models.Model):
    """How long a review may take at a priority, in business minutes."""

    priority = models.IntegerField(_("priority"), choices=Priority.choices, unique=True)
    name = models.CharField(_("name"), max_length=100)
    target_business_minutes = models.PositiveIntegerField(
        _("target (business minutes)")
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), default=75
    )
    min_amount = models.DecimalField(
        _("from amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Invoices whose total reaches this amount get at least this priority. "
            "Leave empty to apply the priority only when asked for."
        ),
    )
    # When the values in force took effect: tasks opened from then on take them;
    # tasks already open keep the target they were opened with (ReviewTask.sla_*).
    # Set by ``reviews.adminpages.services.sla_policy_update`` only.
    effective_from = models.DateTimeField(
        _("in force since"), default=timezone.now, editable=False
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        ordering = ["-priority"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1) & Q(warn_at_percent__lte=100),
                name="sla_warn_percent_in_range",
            ),
            models.CheckConstraint(
                condition=Q(target_business_minutes__gte=1),
                name="sla_target_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.name)


class WorkingPeriod(models.Model):
    """One period of a working day, local time (Asia/Shanghai)."""

    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")),
                name="working_period_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A named date of the business calendar (the days below)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        abstract = True
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Holiday(CalendarDay):
    """A public holiday: no working hours, even on a weekday."""

    class Meta(CalendarDay.Meta):
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")


class MakeupWorkday(CalendarDay):
    """A weekend day worked with normal hours (调休上班)."""

    class Meta(CalendarDay.Meta):
        verbose_name = _("make-up workday")
        verbose_name_plural = _("make-up workdays")


def in_language(language: str | None, *, zh: str, en: str) -> str:
    """The English text for an English ``language`` code, else the Chinese."""
    return en if is_english(language or "") else zh


class RejectionReason(models.Model):
    """A reason code a reviewer picks when rejecting; managed by admins."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200)
    label_en = models.CharField(_("label (English)"), max_length=200)
    comment_required = models.BooleanField(
        _("comment required"),
        default=False,
        help_text=_("The reviewer must explain the rejection in a comment."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")

    def __str__(self) -> str:
        return f"{self.code}: {self.label_zh}"

    def label(self, language: str | None = None) -> str:
        return in_language(language, zh=self.label_zh, en=self.label_en)


class CannedReply(models.Model):
    """A ready-made request for information a reviewer can start from; admins manage
    the texts in both languages."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_zh = models.TextField(_("text (Chinese)"))
    body_en = models.TextField(_("text (English)"))
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return f"{self.code}: {self.title_zh}"

    def title(self, language: str | None = None) -> str:
        return in_language(language, zh=self.title_zh, en=self.title_en)

    def body(self, language: str | None = None) -> str:
        return in_language(language, zh=self.body_zh, en=self.body_en)


class SecondReviewRuleCode(models.TextChoices):
    AMOUNT_OVER = "amount_over", _("Total amount at or above a threshold")
    FIRST_FROM_SELLER = (
        "first_from_seller",
        _("First invoice from this seller to the organization"),
    )


class SecondReviewRule(models.Model):
    """Four-eyes: when an approval needs a second, independent reviewer."""

    code = models.CharField(
        _("rule"), max_length=24, choices=SecondReviewRuleCode.choices, unique=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    amount_threshold = models.DecimalField(
        _("amount threshold"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("second review rule")
        verbose_name_plural = _("second review rules")

    def __str__(self) -> str:
        return str(self.get_code_display())


class TaskStage(models.TextChoices):
    FIRST = "first", _("First review")
    SECOND = "second", _("Second review")


class TaskState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CLAIMED = "claimed", _("Claimed")
    WAITING = "waiting", _("Waiting for the submitter")
    DONE = "done", _("Done")


class TaskDecision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    REQUEST_INFO = "request_info", _("Request information")
    CLOSED = "closed", _("Closed without a decision")


OPEN_STATES = (TaskState.QUEUED, TaskState.CLAIMED, TaskState.WAITING)
# The states whose SLA clock runs (a waiting task's clock is paused).
RUNNING_STATES = (TaskState.QUEUED, TaskState.CLAIMED)
# The queue order, the one definition (claim order, lists, the board, the API):
# time to breach first; the same due time goes to the higher priority; then age.
QUEUE_ORDER = (models.F("due_at").asc(nulls_last=True), "-priority", "id")


def after_in_queue_q(due_at: datetime.datetime | None, priority: int, pk: int) -> Q:
    """The rows after ``(due_at, priority, pk)`` in :data:`QUEUE_ORDER` (keyset
    pages of the queue)."""
    if due_at is None:
        return Q(due_at__isnull=True) & (
            Q(priority__lt=priority) | Q(priority=priority, pk__gt=pk)
        )
    return (
        Q(due_at__gt=due_at)
        | Q(due_at__isnull=True)
        | Q(due_at=due_at, priority__lt=priority)
        | Q(due_at=due_at, priority=priority, pk__gt=pk)
    )


def before_in_queue_q(due_at: datetime.datetime | None, priority: int, pk: int) -> Q:
    """The rows before ``(due_at, priority, pk)`` in :data:`QUEUE_ORDER`."""
    if due_at is None:
        return (
            Q(due_at__isnull=False)
            | Q(due_at__isnull=True, priority__gt=priority)
            | Q(due_at__isnull=True, priority=priority, pk__lt=pk)
        )
    return (
        Q(due_at__lt=due_at)
        | Q(due_at=due_at, priority__gt=priority)
        | Q(due_at=due_at, priority=priority, pk__lt=pk)
    )


def ahead_in_queue_q(task: ReviewTask) -> Q:
    """The tasks ahead of ``task`` in the queue order."""
    return before_in_queue_q(task.due_at, task.priority, task.pk)


def breaching_q(now: datetime.datetime) -> Q:
    """The one definition of "breaching": a running task past its due time, whether
    the sweep has marked it yet or not."""
    return Q(state__in=RUNNING_STATES) & (
        Q(breached_at__isnull=False) | Q(due_at__lte=now)
    )


def at_risk_q(now: datetime.datetime) -> Q:
    """The one definition of "at risk": a running task past its warning time and
    not breaching yet."""
    return Q(state__in=RUNNING_STATES, breached_at__isnull=True, warn_at__lte=now) & ~Q(
        due_at__lte=now
    )


def task_is_breaching(task: ReviewTask, now: datetime.datetime) -> bool:
    """:func:`breaching_q` for one task in memory."""
    if task.state not in RUNNING_STATES:
        return False
    return task.breached_at is not None or bool(task.due_at and task.due_at <= now)


def task_is_at_risk(task: ReviewTask, now: datetime.datetime) -> bool:
    """:func:`at_risk_q` for one task in memory."""
    return (
        task.state in RUNNING_STATES
        and task.breached_at is None
        and bool(task.warn_at and task.warn_at <= now)
        and not (task.due_at and task.due_at <= now)
    )


class ReviewTaskQuerySet(models.QuerySet):
    def open(self) -> ReviewTaskQuerySet:
        return self.exclude(state=TaskState.DONE)

    def queued(self) -> ReviewTaskQuerySet:
        return self.filter(state=TaskState.QUEUED)

    def in_claim_order(self) -> ReviewTaskQuerySet:
        """:data:`QUEUE_ORDER`."""
        return self.order_by(*QUEUE_ORDER)

    def breaching_sla(self, *, now: datetime.datetime) -> ReviewTaskQuerySet:
        """:func:`breaching_q`."""
        return self.filter(breaching_q(now))

    def at_risk(self, *, now: datetime.datetime) -> ReviewTaskQuerySet:
        """:func:`at_risk_q`."""
        return self.filter(at_risk_q(now))

    def not_breaching(self, *, now: datetime.datetime) -> ReviewTaskQuerySet:
        return self.exclude(breaching_q(now))

    def claimable_by(self, user) -> ReviewTaskQuerySet:
        """Separation of duties: never one's own organization's invoices, never one's
        own submissions, never the second review of one's own first review."""
        qs = self.exclude(submitted_by_id=user.pk).exclude(first_reviewer_id=user.pk)
        if user.organization_id:
            qs = qs.exclude(organization_id=user.organization_id)
        return qs

    def visible_to(self, user) -> ReviewTaskQuerySet:
        if user_can(user, Perm.SUPERVISE):
            return self.all()
        if user_can(user, Perm.REVIEW):
            qs = self.exclude(submitted_by_id=user.pk)
            if user.organization_id:
                qs = qs.exclude(organization_id=user.organization_id)
            return qs
        return self.none()


class ReviewTask(ChoiceLabels, models.Model):
    """A reviewer's unit of work on an invoice in review (DESIGN.md section 4).

    ``organization`` and ``submitted_by`` copy the invoice's so that claiming the next
    task reads one table. ``due_at`` and ``warn_at`` are null while the clock is
    paused (waiting on the submitter).
    """

    invoice = models.ForeignKey(
        "invoices.Invoice",
        on_delete=models.CASCADE,
        related_name="review_tasks",
        verbose_name=_("invoice"),
    )
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(
        _("stage"), max_length=8, choices=TaskStage.choices, default=TaskStage.FIRST
    )
    state = models.CharField(
        _("state"), max_length=8, choices=TaskState.choices, default=TaskState.QUEUED
    )
    priority = models.IntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="review_tasks",
        verbose_name=_("assigned to"),
    )
    first_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first reviewer"),
    )
    second_review_reasons = models.JSONField(default=list, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires"), null=True, blank=True)
    sla_policy = models.ForeignKey(
        SLAPolicy, on_delete=models.PROTECT, related_name="+", verbose_name=_("SLA")
    )
    # The policy's values when the task took it (opened or re-prioritised): a later
    # policy change never moves a running task's deadline.
    sla_target_minutes = models.PositiveIntegerField(
        _("target (business minutes)"), null=True, blank=True
    )
    sla_warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), null=True, blank=True
    )
    enqueued_at = models.DateTimeField(_("queued"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(
        _("paused (business seconds)"), default=0
    )
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    decision = models.CharField(
        _("decision"), max_length=16, choices=TaskDecision.choices, blank=True
    )
    reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReviewTaskQuerySet.as_manager()

    class Meta:
        ordering = QUEUE_ORDER
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=~Q(state="done"),
                name="one_open_review_task_per_invoice",
            ),
            models.CheckConstraint(
                condition=Q(state="claimed", assigned_to__isnull=False)
                | ~Q(state="claimed"),
                name="claimed_task_has_assignee",
            ),
            models.CheckConstraint(
                condition=Q(stage="first") | Q(first_reviewer__isnull=False),
                name="second_review_names_first_reviewer",
            ),
        ]
        indexes = [
            models.Index(
                models.F("due_at").asc(),
                models.F("priority").desc(),
                models.F("id").asc(),
                condition=Q(state="queued"),
                name="review_task_claim_order",
            ),
            models.Index(
                models.F("due_at").asc(),
                models.F("priority").desc(),
                models.F("id").asc(),
                # Every open task (queued, claimed, waiting): the queue page's
                # default view and ``ReviewTaskQuerySet.open()`` read by it.
                condition=~Q(state="done"),
                name="review_task_open_order",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(state="claimed"),
                name="review_task_leases",
            ),
            models.Index(
                fields=["assigned_to", "state"], name="review_task_by_assignee"
            ),
            models.Index(fields=["decided_at"], name="review_task_decided_at"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.stage} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state != TaskState.DONE


class ReviewTaskPause(models.Model):
    """An interval the SLA clock stood still: waiting on the submitter."""

    task = models.ForeignKey(
        ReviewTask, on_delete=models.CASCADE, related_name="pauses"
    )
    paused_at = models.DateTimeField(_("paused"))
    resumed_at = models.DateTimeField(_("resumed"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["task", "paused_at"]
        verbose_name = _("SLA pause")
        verbose_name_plural = _("SLA pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(resumed_at__isnull=True),
                name="one_open_pause_per_task",
            )
        ]
