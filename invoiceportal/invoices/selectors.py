"""Reads of invoices alone, for the pages, exports and the API built on them.

The screens that also show the review (ETA, checks, the composed timeline) are read
in ``portal.submitter.selectors``. Everything here starts from
``Invoice.objects.visible_to(user)`` (through ``invoice_get_for_user`` /
``invoice_list_for_user``): one scoping rule, and 404 for someone else's invoice.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.roles import Perm, user_can
from invoiceportal.common.errors import NotFoundError

from .models import Document, Invoice, TimelineEvent
from .status import InvoiceStatus

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


def same_file_documents(sha256: str, organization_id: int) -> list[Document]:
    """The organization's documents with this content (sha256), oldest first.

    Read by the sha256 index alone and matched to the organization here: joined with
    the organization's invoices in SQL, PostgreSQL walked every invoice of a large
    organization to find the one file (the soak's uploads slowed as the table grew:
    30 ms at 6,000 invoices). Few organizations ever hold the same file."""
    return [
        document
        for document in Document.objects.filter(sha256=sha256)
        .select_related("invoice")
        .order_by("uploaded_at", "pk")
        if document.invoice.organization_id == organization_id
    ]


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
        qs = qs.filter(reference__icontains=reference)
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
    """The free-text search of the list and the API: part of a reference
    ("000012" finds INV-2026-000012), the start of an invoice number, part of the
    seller's name or the seller's taxpayer ID."""
    return (
        Q(reference__icontains=value)
        | Q(number__startswith=value)
        | Q(seller_name__icontains=value)
        | Q(seller_tax_id=value.upper())
    )


# ------------------------------------------------------------------ keyset pages


# Orderings a list may be read in (the API's ``ordering`` filter); each is a keyset
# on (field, id), NULLs last whatever the direction.
KEYSET_ORDERINGS = frozenset(
    {
        f"{sign}{name}"
        for name in (
            "submitted_at",
            "issue_date",
            "total_amount",
            "reference",
            "status",
        )
        for sign in ("", "-")
    }
)
DEFAULT_ORDERING = "-submitted_at"


class InvalidCursor(ValueError):
    """A cursor that this ordering did not write (tampered, or another ordering's)."""


def _field_of(ordering: str) -> tuple[str, bool, Any]:
    if ordering not in KEYSET_ORDERINGS:
        raise InvalidCursor(ordering)
    name = ordering.lstrip("-")
    return name, ordering.startswith("-"), Invoice._meta.get_field(name)


def _encode_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def encode_cursor(invoice: Invoice, ordering: str = DEFAULT_ORDERING) -> str:
    """An opaque cursor at ``invoice`` in ``ordering`` (the sort value and the id)."""
    name, _desc, _field = _field_of(ordering)
    raw = f"{_encode_value(getattr(invoice, name))}|{invoice.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    token: str, ordering: str = DEFAULT_ORDERING
) -> tuple[Any, uuid.UUID] | None:
    """(sort value, id) of a cursor, or None when it is not one of ``ordering``."""
    try:
        _name, _desc, field = _field_of(ordering)
        padded = token + "=" * (-len(token) % 4)
        raw, pk = base64.urlsafe_b64decode(padded.encode()).decode().rsplit("|", 1)
        if raw == "":
            if not field.null:
                return None
            return None, uuid.UUID(pk)
        if isinstance(field, models.DateTimeField):
            value: Any = dt.datetime.fromisoformat(raw)
            if timezone.is_naive(value):
                return None
        else:
            value = field.to_python(raw)
        return value, uuid.UUID(pk)
    except (ValueError, UnicodeDecodeError, ValidationError, InvalidCursor):
        return None


@dataclass
class KeysetPage:
    rows: list[Invoice]
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    count_capped: bool


def _sorted(
    qs: Any, name: str, desc: bool, *, nullable: bool, reverse: bool = False
) -> Any:
    """``qs`` in the keyset's order (NULLs last), or exactly reversed. A column
    without NULLs gets no NULLS clause, so PostgreSQL can read its index in order."""
    down = desc != reverse
    nulls: dict[str, bool] = {}
    if nullable:
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    key = F(name).desc(**nulls) if down else F(name).asc(**nulls)
    return qs.order_by(key, "-id" if down else "id")


def _beyond(name: str, desc: bool, value: Any, pk: uuid.UUID, *, forward: bool) -> Q:
    """The rows after (``forward``) or before the row (``value``, ``pk``)."""
    later = "lt" if desc else "gt"  # further along the order
    earlier = "gt" if desc else "lt"
    if forward:
        if value is None:  # among the NULLs at the end
            return Q(**{f"{name}__isnull": True, f"id__{later}": pk})
        return (
            Q(**{f"{name}__{later}": value})
            | Q(**{name: value, f"id__{later}": pk})
            | Q(**{f"{name}__isnull": True})
        )
    if value is None:
        return Q(**{f"{name}__isnull": False}) | Q(
            **{f"{name}__isnull": True, f"id__{earlier}": pk}
        )
    return Q(**{f"{name}__{earlier}": value}) | Q(**{name: value, f"id__{earlier}": pk})


def keyset_page(
    qs: Any,
    *,
    after: str = "",
    before: str = "",
    size: int | None = None,
    ordering: str = DEFAULT_ORDERING,
    strict: bool = False,
) -> KeysetPage:
    """``size`` rows in ``ordering`` (newest first by default), after (or before) a
    cursor. No OFFSET and no full COUNT(*): the cost is the page, whatever the
    organization's total; the count is exact up to ``COUNT_CAP`` and shown as
    "1000+" beyond. A cursor that does not decode starts from the first page, or
    raises ``InvalidCursor`` when ``strict`` (the API answers 400)."""
    size = size or PAGE_SIZE  # read at call time: the list pages' size
    name, desc, field = _field_of(ordering)
    cursor = decode_cursor(after, ordering) if after else None
    back = decode_cursor(before, ordering) if before and not cursor else None
    if strict and ((after and cursor is None) or (before and not after and not back)):
        raise InvalidCursor(after or before)
    in_order = _sorted(qs, name, desc, nullable=field.null)
    if cursor:
        value, pk = cursor
        page_qs = in_order
        if not field.null:
            # The redundant range bound lets the (organization, -submitted_at)
            # index start at the cursor instead of scanning from the first row.
            page_qs = page_qs.filter(**{f"{name}__{'lte' if desc else 'gte'}": value})
        page_qs = page_qs.filter(_beyond(name, desc, value, pk, forward=True))
        rows = list(page_qs[: size + 1])
        has_more, has_less = len(rows) > size, True
        rows = rows[:size]
    elif back:
        value, pk = back
        page_qs = _sorted(qs, name, desc, nullable=field.null, reverse=True)
        if not field.null:
            page_qs = page_qs.filter(**{f"{name}__{'gte' if desc else 'lte'}": value})
        page_qs = page_qs.filter(_beyond(name, desc, value, pk, forward=False))
        rows = list(page_qs[: size + 1])
        has_less = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_more = True
    else:
        rows = list(in_order[: size + 1])
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
        next_cursor=encode_cursor(rows[-1], ordering) if has_more and rows else None,
        prev_cursor=encode_cursor(rows[0], ordering) if has_less and rows else None,
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


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


# ------------------------------------------------------------------- timeline


def timeline_visible_to(invoice: Invoice, *, user: Any) -> Any:
    """The invoice's timeline events this user may read, oldest first: everything
    for reviewers and admins, only the events meant for submitters otherwise. The
    one visibility rule of the page, the API and the status poll."""
    events = invoice.timeline.select_related("actor").order_by("at", "id")
    if user_can(user, Perm.REVIEW) or user_can(user, Perm.ADMINISTER):
        return events
    return events.filter(visible_to_submitter=True)


def pending_question(invoice: Invoice) -> TimelineEvent | None:
    """The reviewer's open question (the latest ``info_requested`` event) while the
    invoice waits for the submitter's answer."""
    if invoice.status != InvoiceStatus.NEEDS_INFO:
        return None
    return invoice.timeline.filter(code="info_requested").order_by("-at", "-id").first()
