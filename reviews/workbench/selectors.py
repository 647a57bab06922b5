"""Reads of the workbench: the document with its pages and field boxes, the fields
panel, internal notes, and the access check of its routes."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from invoiceportal.common.errors import PermissionDeniedError
from invoiceportal.common.language import is_english
from invoiceportal.invoices.attachments import answer_attachments
from invoiceportal.invoices.models import Document, Invoice
from invoiceportal.invoices.separation import staff_action_problem
from reviews.context import latest_document
from reviews.models import ReviewTask, TaskState
from reviews.queue.selectors import review_task_get_for_user

from .locate import FieldBox, locate_fields
from .models import ReviewNote
from .rendering import LAYOUT_VERSION, document_kind, document_layout
from .services import FIELD_SPECS

LOW_CONFIDENCE = 0.8


@dataclass(frozen=True)
class PageView:
    number: int
    url: str
    width: float
    height: float

    @property
    def img_width(self) -> int:
        return max(1, round(self.width))

    @property
    def img_height(self) -> int:
        return max(1, round(self.height))


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    value: str
    source: str
    confidence: float | None
    corrected: bool
    box: FieldBox | None

    @property
    def percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)

    @property
    def low(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


@dataclass(frozen=True)
class WorkbenchDocument:
    kind: str  # pdf | image | ofd | xml | other | "" (typed in by hand)
    document: Document | None
    pages: list[PageView] = field(default_factory=list)
    fields: list[FieldView] = field(default_factory=list)
    error: str = ""


def separation_refusal(task: ReviewTask, user: Any) -> str | None:
    """Why ``user`` may not see the task's document and notes (staff of the
    submitter's organization, or its submitter), or None."""
    return staff_action_problem(
        user=user,
        organization_id=task.organization_id,
        submitted_by_id=task.submitted_by_id,
    )


def workbench_task_get(*, user: Any, task_id: int) -> ReviewTask:
    """The task if ``user`` may work on its document: it must be visible to them
    (404 otherwise, as for a missing one) and they must not be staff of the
    submitter's organization or its submitter (403, the separation guard)."""
    task = review_task_get_for_user(user=user, task_id=task_id)
    problem = separation_refusal(task, user)
    if problem:
        raise PermissionDeniedError(problem, code="separation_of_duties")
    return task


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _reading(readings: dict[str, Any], name: str) -> tuple[str, float | None]:
    reading = readings.get(name)
    if isinstance(reading, dict):
        source, confidence = reading.get("source", ""), reading.get("confidence")
    elif isinstance(reading, list | tuple) and len(reading) == 2:
        source, confidence = reading
    elif reading is None:
        return "", None
    else:
        source, confidence = "", reading
    try:
        number = float(confidence)
    except (TypeError, ValueError):
        number = 0.0
    return str(source), number if 0.0 <= number <= 1.0 else 0.0


def _placed(
    document: Document, values: dict[str, Any]
) -> tuple[tuple[tuple[float, float], ...], str, dict[str, FieldBox]]:
    """Page sizes, render error and field boxes of ``document`` showing ``values``:
    from Django's cache, keyed by the document's SHA-256 and the values (a
    correction changes the key), else from the layout."""
    digest = hashlib.sha256(
        repr(sorted((k, _display(v)) for k, v in values.items())).encode()
    ).hexdigest()[:32]
    key = f"workbench:boxes:v{LAYOUT_VERSION}:{document.sha256}:{digest}"
    found = cache.get(key)
    if found is None:
        layout = document_layout(document)
        boxes = (
            {} if layout.error else locate_fields(layout.boxes, layout.sizes, values)
        )
        found = (layout.sizes, layout.error, boxes)
        cache.set(key, found, settings.WORKBENCH_CACHE_SECONDS)
    return found


def workbench_document(
    task: ReviewTask, *, document: Document | None = None
) -> WorkbenchDocument:
    """The task's document as the workbench shows it: page images (url, size) and
    every correctable field with its source, confidence, correction mark and the
    box where it was read (None where it was not found on the page)."""
    invoice: Invoice = task.invoice
    if document is None:
        document = latest_document(invoice)
    kind = document_kind(document)
    english = is_english()
    values = {name: getattr(invoice, name) for name in FIELD_SPECS}
    pages: list[PageView] = []
    boxes: dict[str, FieldBox] = {}
    error = ""
    if kind in ("pdf", "image", "ofd"):
        sizes, error, boxes = _placed(document, values)
        base = reverse("workbench:page", kwargs={"task_id": task.pk})
        version = document.sha256[:12]
        pages = [
            PageView(
                number,
                f"{base}?page={number}&scale={settings.WORKBENCH_DEFAULT_SCALE:g}"
                f"&v={version}",
                width,
                height,
            )
            for number, (width, height) in enumerate(sizes, start=1)
        ]
    readings = dict((document.field_readings if document else None) or {})
    corrected = invoice.corrected_fields or {}
    rows = []
    for name, spec in FIELD_SPECS.items():
        source, confidence = _reading(readings, name)
        rows.append(
            FieldView(
                name=name,
                label=spec.label_en if english else spec.label_zh,
                value=_display(values[name]),
                source=source,
                confidence=confidence,
                corrected=name in corrected,
                box=boxes.get(name),
            )
        )
    return WorkbenchDocument(
        kind=kind, document=document, pages=pages, fields=rows, error=error
    )


def can_correct(task: ReviewTask, user: Any) -> bool:
    """Whether the page offers the correction form: the claimant, in review."""
    return (
        task.state == TaskState.CLAIMED
        and task.assigned_to_id == user.pk
        and task.invoice.status == "in_review"
    )


def review_notes(invoice: Invoice) -> list[ReviewNote]:
    return list(
        ReviewNote.objects.filter(invoice=invoice)
        .select_related("author")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class AnswerWithAttachments:
    """One answer of the submitter (an ``info_provided`` event) and its files."""

    event: Any
    attachments: list[Any]


def answers_with_attachments(invoice: Invoice) -> list[AnswerWithAttachments]:
    """The answers that came with files, newest first (one query)."""
    grouped: dict[int, AnswerWithAttachments] = {}
    for item in answer_attachments(invoice):
        entry = grouped.get(item.event_id)
        if entry is None:
            entry = grouped[item.event_id] = AnswerWithAttachments(item.event, [])
        entry.attachments.append(item)
    return sorted(
        grouped.values(), key=lambda a: (a.event.at, a.event.pk), reverse=True
    )
