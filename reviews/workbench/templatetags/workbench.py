"""``{% workbench task %}``: the task page's document, fields and notes (the review
queue's page includes it; reviews.queue never imports this app)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from invoiceportal.common.capitals import amount_to_capitals

from ..selectors import (
    answers_with_attachments,
    can_correct,
    review_notes,
    separation_refusal,
    workbench_document,
)

register = template.Library()


def _capitals(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    try:
        return amount_to_capitals(amount)
    except ValueError:
        return ""


@register.inclusion_tag("reviews/workbench/_document.html", takes_context=True)
def workbench(context: Any, task: Any) -> dict[str, Any]:
    """The task page reached this task through ``review_task_get_for_user``; staff of
    the submitter's organization (and its submitter) get the separation message
    instead of the document and the notes."""
    request = context["request"]
    problem = separation_refusal(task, request.user)
    if problem:
        return {"request": request, "task": task, "refused": problem}
    invoice = task.invoice
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "task": task,
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "wb": workbench_document(task),
        "wb_capitals": _capitals(invoice.total_amount),
        "can_correct": can_correct(task, request.user),
        "notes": review_notes(invoice),
    }


@register.inclusion_tag("reviews/workbench/_attachments.html", takes_context=True)
def workbench_attachments(context: Any, task: Any) -> dict[str, Any]:
    """The files the submitter sent with each answer to a question (issue 11),
    grouped by answer, newest first. Nothing for staff kept off the task's
    documents by separation of duties."""
    request = context["request"]
    if separation_refusal(task, request.user):
        return {"answers": [], "hidden": True}
    return {"answers": answers_with_attachments(task.invoice), "hidden": False}
