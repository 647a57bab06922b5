"""What a notification says, rendered in its reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from invoiceportal.invoices.status import InvoiceStatus

from .models import Kind, Notification

TITLES = {
    Kind.DECIDED: gettext_lazy("Invoice %(reference)s: %(status)s"),
    Kind.INFO_REQUESTED: gettext_lazy(
        "Invoice %(reference)s: the reviewer needs information"
    ),
    Kind.SLA_AT_RISK: gettext_lazy(
        "Invoice %(reference)s may miss its decision deadline"
    ),
    Kind.SLA_BREACHED: gettext_lazy(
        "Invoice %(reference)s missed its decision deadline"
    ),
    Kind.EXPEDITE_REQUESTED: gettext_lazy(
        "Urgent handling requested for invoice %(reference)s"
    ),
    Kind.EXPEDITE_DECIDED: gettext_lazy(
        "Urgent handling of invoice %(reference)s: %(state)s"
    ),
    Kind.INFO_PROVIDED: gettext_lazy("Invoice %(reference)s: the submitter answered"),
}

BODIES = {
    Kind.DECIDED: gettext_lazy(
        "Invoice %(reference)s (%(seller)s, total %(total)s) is %(status)s. %(reason)s"
    ),
    Kind.INFO_REQUESTED: gettext_lazy(
        "The reviewer asks: %(question)s Answer on the invoice page; the decision "
        "clock is paused until you do."
    ),
    Kind.SLA_AT_RISK: gettext_lazy(
        "The decision is due %(due)s. The review team has been alerted; you can ask "
        "for urgent handling on the invoice page."
    ),
    Kind.SLA_BREACHED: gettext_lazy(
        "The decision was due %(due)s. It has been escalated to a supervisor."
    ),
    Kind.EXPEDITE_REQUESTED: gettext_lazy(
        "%(user)s asks for urgent handling: %(reason)s"
    ),
    Kind.EXPEDITE_DECIDED: gettext_lazy(
        "Your request for urgent handling was %(state)s. %(note)s"
    ),
    Kind.INFO_PROVIDED: gettext_lazy(
        "The submitter answered the question; the invoice is back in review."
    ),
}

EXPEDITE_STATES = {
    "approved": gettext_lazy("approved"),
    "declined": gettext_lazy("declined"),
}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    url: str


def _values(notification: Notification) -> dict[str, Any]:
    context = dict(notification.context or {})
    invoice = notification.invoice
    values: dict[str, Any] = {
        "reference": context.get("reference", ""),
        "seller": context.get("seller", "") or "—",
        "total": context.get("total", "") or "—",
        "reason": context.get("reason", ""),
        "question": context.get("question", ""),
        "due": context.get("due", "") or "—",
        "user": context.get("user", ""),
        "note": context.get("note", ""),
        "state": "",
        "status": "",
    }
    if invoice is not None and not values["reference"]:
        values["reference"] = invoice.reference
    status = context.get("status", "")
    if status in InvoiceStatus.values:
        values["status"] = str(InvoiceStatus(status).label)
    state = context.get("state", "")
    values["state"] = str(EXPEDITE_STATES.get(state, state))
    if notification.kind == Kind.DECIDED and values["reason"]:
        values["reason"] = _("Reason: %(reason)s") % {"reason": values["reason"]}
    return values


def invoice_path(notification: Notification) -> str:
    if notification.invoice_id is None:
        return reverse("notifications:centre")
    return reverse("invoices:detail", args=[notification.invoice_id])


def render(notification: Notification, *, language: str | None = None) -> Rendered:
    """Title, body and link of a notification, in ``language`` (or the current)."""
    with translation.override(language or translation.get_language()):
        values = _values(notification)
        kind = Kind(notification.kind)
        title = str(TITLES[kind]) % values
        body = (str(BODIES[kind]) % values).strip()
    return Rendered(title=title, body=body, url=invoice_path(notification))


def absolute_url(path: str) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + path
