"""Reads of invoices for submitters' pages, exports and the API.

Everything starts from ``Invoice.objects.visible_to(user)`` (through
``invoice_get_for_user`` / ``invoice_list_for_user``): one scoping rule, and 404 for
someone else's invoice.
"""

from __future__ import annotations

import base64
import datetime as dt
import statistics
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from invoiceportal.common.errors import NotFoundError

from .models import (
    Document,
    ExpediteRequest,
    ExpediteState,
    Feedback,
    Invoice,
    TimelineEvent,
)
from .status import DECIDED, OPEN, TERMINAL, InvoiceStatus

PAGE_SIZE = 50
COUNT_CAP = 1000
LIST_FIELDS = (
    "id",
    "reference",
    "status",
    "kind",
    "code",
    "number",
    "issue_date",
    "seller_name",
    "seller_tax_id",
    "total_amount",
    "priority",
    "submitted_at",
    "decided_at",
)


def parse_invoice_id(invoice_id: uuid.UUID | str) -> uuid.UUID:
    """The invoice id as a UUID; 404 (not a 500) for anything else."""
    try:
        return uuid.UUID(str(invoice_id))
    except ValueError as exc:
        raise NotFoundError() from exc


def invoice_get_for_user(
    *, user: Any, invoice_id: uuid.UUID | str, queryset: Any = None
) -> Invoice:
    """The invoice if this user may see it; 404 for missing and for someone else's.
    ``queryset`` (already scoped with ``visible_to(user)``) adds prefetches."""
    if queryset is None:
        queryset = Invoice.objects.visible_to(user)
    try:
        return queryset.get(pk=parse_invoice_id(invoice_id))
    except Invoice.DoesNotExist as exc:
        raise NotFoundError() from exc


def latest_document(invoice: Invoice) -> Document | None:
    """The invoice's most recently uploaded document (a corrected file replaces the
    original)."""
    return invoice.documents.order_by("-uploaded_at", "-id").first()


def invoice_list_for_user(*, user: Any):
    return Invoice.objects.visible_to(user).select_related("organization")


# --------------------------------------------------------------------- filters


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def invoice_filter(qs: Any, data: dict[str, Any]) -> Any:
    """Apply the list's filters (``InvoiceFilterForm.cleaned_data``)."""
    if data.get("status"):
        qs = qs.filter(status__in=data["status"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    seller = (data.get("seller") or "").strip()
    if seller:
        qs = qs.filter(
            Q(seller_tax_id=seller.upper()) | Q(seller_name__icontains=seller)
        )
    if reference := (data.get("reference") or "").strip():
        qs = qs.filter(reference__iexact=reference)
    if number := (data.get("number") or "").strip():
        qs = qs.filter(number__startswith=number)
    if data.get("issued_from"):
        qs = qs.filter(issue_date__gte=data["issued_from"])
    if data.get("issued_to"):
        qs = qs.filter(issue_date__lte=data["issued_to"])
    if data.get("submitted_from"):
        qs = qs.filter(submitted_at__gte=_day_start(data["submitted_from"]))
    if data.get("submitted_to"):
        end = data["submitted_to"] + dt.timedelta(days=1)
        qs = qs.filter(submitted_at__lt=_day_start(end))
    if data.get("amount_min") is not None:
        qs = qs.filter(total_amount__gte=data["amount_min"])
    if data.get("amount_max") is not None:
        qs = qs.filter(total_amount__lte=data["amount_max"])
    q = (data.get("q") or "").strip()
    if q:
        qs = qs.filter(search_q(q))
    return qs


def search_q(value: str) -> Q:
    """The free-text search of the list and the API: a reference, the start of an
    invoice number, part of the seller's name or the seller's taxpayer ID."""
    return (
        Q(reference__iexact=value)
        | Q(number__startswith=value)
        | Q(seller_name__icontains=value)
        | Q(seller_tax_id=value.upper())
    )


# ------------------------------------------------------------------ keyset pages


def encode_cursor(invoice: Invoice) -> str:
    raw = f"{invoice.submitted_at.isoformat()}|{invoice.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[dt.datetime, uuid.UUID] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        at, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        moment = dt.datetime.fromisoformat(at)
        if timezone.is_naive(moment):
            return None
        return moment, uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class KeysetPage:
    rows: list[Invoice]
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    count_capped: bool


def keyset_page(
    qs: Any, *, after: str = "", before: str = "", size: int = PAGE_SIZE
) -> KeysetPage:
    """Newest first, ``size`` rows after (or before) a cursor. No OFFSET and no full
    COUNT(*): the cost is the page, whatever the organization's total; the count
    is exact up to ``COUNT_CAP`` and shown as "1000+" beyond."""
    newest_first = qs.order_by("-submitted_at", "-id")
    cursor = decode_cursor(after) if after else None
    back = decode_cursor(before) if before and not cursor else None
    if cursor:
        at, pk = cursor
        # The redundant range bound lets the (organization, -submitted_at) index
        # start at the cursor instead of scanning from the newest row.
        page_qs = newest_first.filter(submitted_at__lte=at).filter(
            Q(submitted_at__lt=at) | Q(submitted_at=at, id__lt=pk)
        )
        rows = list(page_qs[: size + 1])
        has_more, has_less = len(rows) > size, True
        rows = rows[:size]
    elif back:
        at, pk = back
        page_qs = (
            qs.order_by("submitted_at", "id")
            .filter(submitted_at__gte=at)
            .filter(Q(submitted_at__gt=at) | Q(submitted_at=at, id__gt=pk))
        )
        rows = list(page_qs[: size + 1])
        has_less = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_more = True
    else:
        rows = list(newest_first[: size + 1])
        has_more, has_less = len(rows) > size, False
        rows = rows[:size]
    if not rows:
        has_more = has_less = False
    if not cursor and not back and len(rows) < size:
        count = len(rows)
    else:
        count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return KeysetPage(
        rows=rows,
        next_cursor=encode_cursor(rows[-1]) if has_more and rows else None,
        prev_cursor=encode_cursor(rows[0]) if has_less and rows else None,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


# ------------------------------------------------------------------------- ETA


def _english() -> bool:
    return (get_language() or "").startswith("en")


@dataclass(frozen=True)
class RowEta:
    expected_at: dt.datetime | None
    due_at: dt.datetime | None
    paused: bool
    text: str


def invoice_etas(invoices: list[Invoice], *, now: dt.datetime | None = None) -> dict:
    """Expected completion of the open invoices among ``invoices`` (a list page),
    in a fixed number of queries whatever the page size: their open tasks, their
    queue positions (one window query), the recent throughput."""
    from reviews.models import ReviewTask, TaskState
    from reviews.queue.calendar import business_calendar
    from reviews.queue.selectors import recent_throughput_and_handle
    from reviews.sla.eta import estimate_completion

    now = now or timezone.now()
    result: dict[Any, RowEta] = {}
    screening = [
        i.pk
        for i in invoices
        if i.status in (InvoiceStatus.RECEIVED, InvoiceStatus.SCREENING)
    ]
    for pk in screening:
        result[pk] = RowEta(None, None, False, _("Automatic checks: within minutes"))
    in_review = [
        i.pk
        for i in invoices
        if i.status in (InvoiceStatus.IN_REVIEW, InvoiceStatus.NEEDS_INFO)
    ]
    if not in_review:
        return result
    tasks = list(
        ReviewTask.objects.open()
        .filter(invoice_id__in=in_review)
        .only("id", "invoice_id", "state", "due_at", "priority")
    )
    queued_ids = [t.pk for t in tasks if t.state == TaskState.QUEUED]
    positions: dict[int, int] = {}
    if queued_ids:
        ranked = ReviewTask.objects.queued().annotate(
            position=Window(
                RowNumber(),
                order_by=[
                    F("due_at").asc(nulls_last=True),
                    F("priority").desc(),
                    F("id").asc(),
                ],
            )
        )
        positions = dict(ranked.filter(pk__in=queued_ids).values_list("pk", "position"))
    cal = business_calendar()
    throughput, handle = recent_throughput_and_handle(cal, now)
    for task in tasks:
        paused = task.state == TaskState.WAITING
        position = positions.get(task.pk, 1) if task.state == TaskState.QUEUED else 0
        eta = estimate_completion(
            cal, now, position, throughput, handle, task.due_at, paused
        )
        if paused:
            text = _("Waiting for your answer")
        elif eta.expected_at is not None:
            text = timezone.localtime(eta.expected_at).strftime("%Y-%m-%d %H:%M")
        else:
            text = _("No estimate yet")
        result[task.invoice_id] = RowEta(eta.expected_at, task.due_at, paused, text)
    return result


def invoice_eta(invoice: Invoice) -> dict[str, Any]:
    """The review clock of one invoice (``reviews.queue.selectors``)."""
    if invoice.status not in (InvoiceStatus.IN_REVIEW, InvoiceStatus.NEEDS_INFO):
        return {
            "due_at": None,
            "paused": False,
            "pause_reason": "",
            "queue_position": None,
            "eta": None,
        }
    from reviews.queue.selectors import invoice_sla_summary

    return invoice_sla_summary(invoice)


# ------------------------------------------------------------- the status poll


def invoice_status_version(*, user: Any, invoice_id: uuid.UUID | str) -> str | None:
    """The invoice's status version (status and last change), or None when the
    user may not see it. One indexed primary-key read of two columns."""
    row = (
        Invoice.objects.visible_to(user)
        .filter(pk=invoice_id)
        .values_list("status", "updated_at")
        .first()
    )
    if row is None:
        return None
    return status_version(*row)


def status_version(status: str, updated_at: dt.datetime) -> str:
    return f"{status}.{int(updated_at.timestamp() * 1_000_000)}"


# --------------------------------------------------------------- invoice page


def event_message(event: TimelineEvent) -> str:
    from reviews.queue.messages import event_message as queue_message

    from .actions import ACTION_MESSAGES

    template = ACTION_MESSAGES.get(event.code)
    if template is None:
        return queue_message(event)
    try:
        return str(template) % event.params if event.params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def actor_label(event: TimelineEvent, invoice: Invoice) -> str:
    """Who did it, as the submitter may know: colleagues by name, the review team
    by role, the portal itself as automatic."""
    actor = event.actor
    if actor is None:
        return _("Automatic")
    if actor.organization_id == invoice.organization_id:
        return actor.get_full_name() or actor.get_username()
    return str(actor.get_effective_role_display())


def timeline_for(invoice: Invoice, *, user: Any) -> list[dict[str, Any]]:
    from accounts.roles import Perm, user_can

    staff = user_can(user, Perm.REVIEW) or user_can(user, Perm.ADMINISTER)
    events = invoice.timeline.select_related("actor").order_by("at", "id")
    if not staff:
        events = events.filter(visible_to_submitter=True)
    return [
        {
            "event": e,
            "at": e.at,
            "status": e.status,
            "status_label": InvoiceStatus(e.status).label,
            "message": event_message(e),
            "note": e.note,
            "who": actor_label(e, invoice),
        }
        for e in events
    ]


def latest_checks(invoice: Invoice) -> list[Any]:
    from reviews.models import CheckResult

    return list(CheckResult.objects.latest_round(invoice.pk))


def explained_checks(invoice: Invoice) -> list[dict[str, Any]]:
    """The latest screening round in plain words: what was checked, what it found,
    what it means and what to do. Failures first."""
    from reviews.checks.catalog import RULES_BY_CODE

    english = _english()
    rows = []
    for result in latest_checks(invoice):
        spec = RULES_BY_CODE.get(result.rule_code)
        rows.append(
            {
                "rule": result.rule_code,
                "outcome": result.outcome,
                "severity": result.action,
                "details": result.details,
                "title": (
                    (spec.title_en if english else spec.title_zh)
                    if spec
                    else result.rule_code
                ),
                "message": (result.message_en if english else result.message_zh)
                or result.message_zh
                or result.message_en,
                "meaning": (
                    (spec.description_en if english else spec.description_zh)
                    if spec
                    else ""
                ),
                "fix": (
                    (spec.how_to_fix_en if english else spec.how_to_fix_zh)
                    if spec and result.outcome == "fail"
                    else ""
                ),
            }
        )
    rank = {"reject": 0, "review": 1, "info": 2, "none": 3}
    rows.sort(key=lambda r: (r["outcome"] != "fail", rank.get(r["severity"], 9)))
    return rows


def pending_question(invoice: Invoice) -> TimelineEvent | None:
    if invoice.status != InvoiceStatus.NEEDS_INFO:
        return None
    return invoice.timeline.filter(code="info_requested").order_by("-at", "-id").first()


def invoice_page(invoice: Invoice, *, user: Any) -> dict[str, Any]:
    """Everything the invoice page shows."""
    documents = list(invoice.documents.order_by("-uploaded_at", "-id"))
    sla = invoice_eta(invoice)
    expedite = (
        ExpediteRequest.objects.filter(invoice=invoice)
        .order_by("-requested_at")
        .first()
    )
    feedback = (
        Feedback.objects.filter(invoice=invoice, user_id=user.pk).first()
        if invoice.status in DECIDED
        else None
    )
    resubmissions = list(
        invoice.resubmissions.only("id", "reference", "status").order_by(
            "-submitted_at"
        )
    )
    original = (
        Invoice.objects.visible_to(user)
        .filter(pk=invoice.resubmission_of_id)
        .only("id", "reference", "status")
        .first()
        if invoice.resubmission_of_id
        else None
    )
    eta = sla.get("eta")
    return {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "document": documents[0] if documents else None,
        "documents": documents,
        "events": timeline_for(invoice, user=user),
        "checks": explained_checks(invoice),
        "sla": sla,
        "eta": eta,
        "eta_message": sla.get("eta_message", ""),
        "question": pending_question(invoice),
        "expedite": expedite,
        "expedite_pending": bool(expedite and expedite.state == ExpediteState.PENDING),
        "feedback": feedback,
        "resubmissions": resubmissions,
        "original": original,
        "is_open": invoice.status in OPEN,
        "is_terminal": invoice.status in TERMINAL,
        "can_respond": invoice.status == InvoiceStatus.NEEDS_INFO,
        "can_withdraw": invoice.status in OPEN,
        "can_expedite": invoice.status in OPEN
        and not (expedite and expedite.state == ExpediteState.PENDING)
        and not invoice.expedite_reason,
        "can_resubmit": invoice.status == InvoiceStatus.REJECTED
        and not any(
            r.status not in (InvoiceStatus.REJECTED, InvoiceStatus.WITHDRAWN)
            for r in resubmissions
        ),
        "can_rate": invoice.status in DECIDED,
        "has_receipt": invoice.status in DECIDED,
        "version": status_version(invoice.status, invoice.updated_at),
    }


# ---------------------------------------------------------- help-centre figures


def typical_decision_times(
    *, now: dt.datetime | None = None, days: int = 30, sample: int = 500
) -> dict[str, Any]:
    """Median and 90th-percentile time from submission to decision over the last
    ``days`` (at most ``sample`` recent decisions of each kind), from live data."""
    from reviews.queue.calendar import business_calendar
    from reviews.sla.calendar import business_minutes_between

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
        if spans:
            spans.sort()
            p90 = spans[min(len(spans) - 1, round(0.9 * (len(spans) - 1)))]
            figures[source] = {
                "count": len(spans),
                "median": statistics.median(spans),
                "p90": p90,
            }
        else:
            figures[source] = None
    return figures
