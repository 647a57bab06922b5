"""Read models of the submitter's screens: an invoice with its review.

One read model per screen, used by the page and the API alike: ``invoice_page`` (the
invoice page and ``GET /api/v1/invoices/{id}/``), ``invoice_etas`` (the list's ETA
column), ``typical_decision_times`` (the help centre). Invoice-only reads (scoping,
filters, keyset pages, the status version) stay in ``invoiceportal.invoices.selectors``;
check explanations come from ``reviews.checks.explain``.
"""

from __future__ import annotations

import datetime as dt
from collections import ChainMap
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from invoiceportal.common.language import is_english
from invoiceportal.invoices.actions import ACTION_MESSAGES
from invoiceportal.invoices.attachments import answer_attachments
from invoiceportal.invoices.expedite import (
    expedite_is_pending,
    expedite_latest,
    expedite_request_problem,
)
from invoiceportal.invoices.lifecycle import TIMELINE_MESSAGES, timeline_message
from invoiceportal.invoices.models import (
    AnswerAttachment,
    Document,
    ExpediteRequest,
    Feedback,
    Invoice,
    InvoiceLine,
    TimelineEvent,
)
from invoiceportal.invoices.selectors import (
    pending_question,
    status_version,
    timeline_visible_to,
)
from invoiceportal.invoices.status import (
    DECIDED,
    LIVE,
    TERMINAL,
    InvoiceStatus,
    can_move,
)
from reviews.checks.explain import CheckExplanation, explain_checks
from reviews.models import CheckResult, ReviewTask, TaskState, ahead_in_queue_q
from reviews.queue.calendar import business_calendar
from reviews.queue.messages import QUEUE_MESSAGES, readable_event
from reviews.queue.selectors import recent_throughput_and_handle
from reviews.sla.calendar import business_minutes_between
from reviews.sla.eta import EtaEstimate, estimate_completion
from reviews.sla.stats import median_and_p90

# Every timeline code an invoice can carry: the submitter's actions, the review
# queue's, and the lifecycle's and intake's (a live view: later registrations count).
MESSAGES = ChainMap(ACTION_MESSAGES, QUEUE_MESSAGES, TIMELINE_MESSAGES)

IN_QUEUE = (InvoiceStatus.IN_REVIEW, InvoiceStatus.NEEDS_INFO)
BEING_SCREENED = (InvoiceStatus.RECEIVED, InvoiceStatus.SCREENING)


# ------------------------------------------------------------------------- ETA


@dataclass(frozen=True)
class RowEta:
    """The review clock of one open invoice, as every screen shows it."""

    expected_at: dt.datetime | None
    due_at: dt.datetime | None
    paused: bool
    text: str
    queue_position: int | None = None  # 1 = next to be claimed, 0 = in hand
    estimate: EtaEstimate | None = None


def _queue_positions(tasks: list[ReviewTask]) -> dict[int, int]:
    """Each queued task's place in the WHOLE queue (1 = next to be claimed), by the
    queue's own order (``reviews.models.ahead_in_queue_q``): one query whatever the
    number of tasks, counting the queued tasks ahead of each."""
    queued = [t for t in tasks if t.state == TaskState.QUEUED]
    if not queued:
        return {}
    counts = ReviewTask.objects.queued().aggregate(
        **{f"t{t.pk}": Count("pk", filter=ahead_in_queue_q(t)) for t in queued}
    )
    return {t.pk: counts[f"t{t.pk}"] + 1 for t in queued}


def invoice_etas(invoices: list[Invoice], *, now: dt.datetime | None = None) -> dict:
    """The one ETA of the submitter's screens (the list, the invoice page, the
    API): the expected completion of the open invoices among ``invoices``, their
    places counted over the whole review queue, in a fixed number of queries
    whatever the page size. Decided invoices get no entry (they show when they
    were decided)."""
    now = now or timezone.now()
    result: dict[Any, RowEta] = {}
    for invoice in invoices:
        if invoice.status in BEING_SCREENED:
            result[invoice.pk] = RowEta(
                None, None, False, _("Automatic checks: within minutes")
            )
    in_review = [i.pk for i in invoices if i.status in IN_QUEUE]
    if not in_review:
        return result
    tasks = list(
        ReviewTask.objects.open()
        .filter(invoice_id__in=in_review)
        .only("id", "invoice_id", "state", "due_at", "priority")
    )
    positions = _queue_positions(tasks)
    cal = business_calendar()
    throughput, handle = recent_throughput_and_handle(cal, now)
    for task in tasks:
        paused = task.state == TaskState.WAITING
        position = None if paused else positions.get(task.pk, 0)
        eta = estimate_completion(
            cal, now, position or 0, throughput, handle, task.due_at, paused
        )
        if paused:
            text = _("Waiting for your answer")
        elif eta.expected_at is not None:
            text = timezone.localtime(eta.expected_at).strftime("%Y-%m-%d %H:%M")
        else:
            text = _("No estimate yet")
        result[task.invoice_id] = RowEta(
            eta.expected_at, task.due_at, paused, text, position, eta
        )
    return result


NO_CLOCK: dict[str, Any] = {
    "due_at": None,
    "paused": False,
    "pause_reason": "",
    "queue_position": None,
    "eta": None,
    "eta_message": "",
}


def invoice_eta(invoice: Invoice, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The review clock of one invoice, from ``invoice_etas`` (the list's)."""
    row = invoice_etas([invoice], now=now).get(invoice.pk)
    if invoice.status not in IN_QUEUE or row is None:
        return dict(NO_CLOCK)
    eta = row.estimate
    return {
        "due_at": row.due_at,
        "paused": row.paused,
        "pause_reason": (
            _(
                "The reviewer asked you for information: the clock is paused until "
                "you answer."
            )
            if row.paused
            else ""
        ),
        "queue_position": row.queue_position,
        "eta": eta,
        "eta_message": ""
        if eta is None
        else (eta.message_en if is_english() else eta.message_zh),
    }


# --------------------------------------------------------------------- timeline


def event_message(event: TimelineEvent) -> str:
    """Any timeline event's message in the reader's language."""
    return timeline_message(readable_event(event), MESSAGES)


def actor_label(event: TimelineEvent, invoice: Invoice) -> str:
    """Who did it, as the submitter may know: colleagues by name, the review team
    by role, the portal itself as automatic."""
    actor = event.actor
    if actor is None:
        return _("Automatic")
    if actor.organization_id == invoice.organization_id:
        return actor.get_full_name() or actor.get_username()
    return str(actor.get_effective_role_display())


@dataclass(frozen=True)
class TimelineEntry:
    event: TimelineEvent
    at: dt.datetime
    status: str
    status_label: str
    message: str
    note: str
    who: str


def timeline_for(invoice: Invoice, *, user: Any) -> list[TimelineEntry]:
    """The timeline this user may read (``timeline_visible_to``), each event with
    its message and who did it."""
    return [
        TimelineEntry(
            event=e,
            at=e.at,
            status=e.status,
            status_label=str(InvoiceStatus(e.status).label),
            message=event_message(e),
            note=e.note,
            who=actor_label(e, invoice),
        )
        for e in timeline_visible_to(invoice, user=user)
    ]


@dataclass(frozen=True)
class DecisionReason:
    """Why an invoice was rejected, for its reader: the coded or automatic reason in
    the reader's language, and the reviewer's own words (data) as written."""

    text: str
    note: str = ""


def decision_reason(invoice: Invoice) -> DecisionReason:
    if invoice.status != InvoiceStatus.REJECTED or not invoice.decision_reason:
        return DecisionReason("")
    event = (
        invoice.timeline.filter(code="rejected").order_by("-at", "-id").first()
        if invoice.decision_source != "automatic"
        else None
    )
    params = (event.params or {}) if event else {}
    if event is None or not params.get("reason_code"):
        return DecisionReason(invoice.reason_for_reader)
    label = (params.get("reason_en") if is_english() else "") or params.get(
        "reason", ""
    )
    return DecisionReason(str(label), event.note)


# ----------------------------------------------------------------------- checks


def latest_checks(invoice: Invoice) -> list[CheckResult]:
    return list(CheckResult.objects.latest_round(invoice.pk))


def explained_checks(
    invoice: Invoice, *, document: Document | None
) -> list[CheckExplanation]:
    """The latest screening round in plain words, failures first (``document``: the
    invoice's latest, whose format some explanations name)."""
    return explain_checks(
        latest_checks(invoice), document_format=document.format if document else None
    )


# ------------------------------------------------------------------ invoice page


class InvoicePage:
    """Everything the invoice page (and the API's invoice detail) shows.

    Each part is read when first used and kept: the page reads them all
    (``context()``), the API's detail only the lines, checks, timeline and ETA (an
    upload's response is built from it, so the parts it does not show cost nothing).
    What the submitter may do comes from the transition tables (invoices'
    ``ALLOWED_TRANSITIONS``, ``EXPEDITE_TRANSITIONS``)."""

    PARTS = (
        "invoice",
        "lines",
        "document",
        "documents",
        "events",
        "checks",
        "sla",
        "eta",
        "eta_message",
        "question",
        "reason",
        "expedite",
        "expedite_pending",
        "feedback",
        "resubmissions",
        "original",
        "is_open",
        "is_terminal",
        "can_respond",
        "can_withdraw",
        "can_expedite",
        "can_resubmit",
        "can_rate",
        "has_receipt",
        "version",
    )

    def __init__(self, invoice: Invoice, *, user: Any) -> None:
        self.invoice = invoice
        self.user = user
        self.status = InvoiceStatus(invoice.status)

    def context(self) -> dict[str, Any]:
        """The page's template context: every part (the page shows them all)."""
        return {name: getattr(self, name) for name in self.PARTS}

    @cached_property
    def lines(self) -> list[InvoiceLine]:
        return list(self.invoice.lines.all())

    @cached_property
    def documents(self) -> list[Document]:
        return list(self.invoice.documents.order_by("-uploaded_at", "-id"))

    @property
    def document(self) -> Document | None:
        return self.documents[0] if self.documents else None

    @cached_property
    def events(self) -> list[TimelineEntry]:
        return timeline_for(self.invoice, user=self.user)

    @cached_property
    def checks(self) -> list[CheckExplanation]:
        return explained_checks(self.invoice, document=self.document)

    @cached_property
    def sla(self) -> dict[str, Any]:
        return invoice_eta(self.invoice)

    @property
    def eta(self) -> Any:
        return self.sla.get("eta")

    @property
    def eta_message(self) -> str:
        return self.sla.get("eta_message", "")

    @cached_property
    def answer_attachments(self) -> list[AnswerAttachment]:
        return answer_attachments(self.invoice)

    @cached_property
    def question(self) -> TimelineEvent | None:
        return pending_question(self.invoice)

    @cached_property
    def reason(self) -> DecisionReason:
        return decision_reason(self.invoice)

    @cached_property
    def expedite(self) -> ExpediteRequest | None:
        return expedite_latest(self.invoice)

    @property
    def expedite_pending(self) -> bool:
        return expedite_is_pending(self.expedite)

    @cached_property
    def feedback(self) -> Feedback | None:
        if self.status not in DECIDED:
            return None
        return Feedback.objects.filter(
            invoice=self.invoice, user_id=self.user.pk
        ).first()

    @cached_property
    def resubmissions(self) -> list[Invoice]:
        return list(
            self.invoice.resubmissions.only("id", "reference", "status").order_by(
                "-submitted_at"
            )
        )

    @cached_property
    def original(self) -> Invoice | None:
        if not self.invoice.resubmission_of_id:
            return None
        return (
            Invoice.objects.visible_to(self.user)
            .filter(pk=self.invoice.resubmission_of_id)
            .only("id", "reference", "status")
            .first()
        )

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def can_respond(self) -> bool:
        return self.status == InvoiceStatus.NEEDS_INFO and can_move(
            self.status, InvoiceStatus.SCREENING
        )

    @property
    def can_withdraw(self) -> bool:
        return can_move(self.status, InvoiceStatus.WITHDRAWN)

    @cached_property
    def can_expedite(self) -> bool:
        return expedite_request_problem(self.invoice, latest=self.expedite) is None

    @property
    def can_resubmit(self) -> bool:
        return self.status == InvoiceStatus.REJECTED and not any(
            r.status in LIVE for r in self.resubmissions
        )

    @property
    def can_rate(self) -> bool:
        return self.status in DECIDED

    @property
    def has_receipt(self) -> bool:
        return self.status in DECIDED

    @property
    def version(self) -> str:
        return status_version(self.invoice.status, self.invoice.updated_at)


def invoice_page(invoice: Invoice, *, user: Any) -> InvoicePage:
    """The invoice page's read model (its parts read on first use)."""
    return InvoicePage(invoice, user=user)


def invoice_page_just_stored(
    invoice: Invoice,
    *,
    user: Any,
    lines: list[InvoiceLine],
    documents: list[Document],
) -> InvoicePage:
    """The read model of an invoice this request has just stored: its lines and
    documents are the rows it wrote, and it has no screening round and no answered
    question yet, so none of them is read back (an upload's answer)."""
    page = InvoicePage(invoice, user=user)
    page.lines = list(lines)
    page.documents = list(documents)
    page.checks = []
    page.answer_attachments = []
    return page


# ---------------------------------------------------------- help-centre figures


def typical_decision_times(
    *, now: dt.datetime | None = None, days: int = 30, sample: int = 500
) -> dict[str, Any]:
    """Median and 90th-percentile time from submission to decision over the last
    ``days`` (at most ``sample`` recent decisions of each kind), from live data."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    cal = business_calendar()
    figures: dict[str, Any] = {"days": days}
    for source in ("automatic", "reviewer"):
        rows = list(
            Invoice.objects.filter(
                decided_at__gte=since,
                decided_at__lte=now,
                decision_source=source,
                status__in=[InvoiceStatus.APPROVED, InvoiceStatus.REJECTED],
            )
            .order_by("-decided_at")
            .values_list("submitted_at", "decided_at")[:sample]
        )
        if source == "automatic":
            spans = [(d - s).total_seconds() for s, d in rows if d >= s]
        else:
            spans = [
                business_minutes_between(cal, s, d) / 60.0 for s, d in rows if d >= s
            ]
        median, p90 = median_and_p90(spans)
        figures[source] = (
            {"count": len(spans), "median": median, "p90": p90} if spans else None
        )
    return figures
