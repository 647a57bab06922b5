"""What a notification says, rendered in its reader's language, and where it links.

A context value is a string or a ``{language: text}`` dict (the notifying layer stores
labels in every language; the reader's is picked when rendering).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    Kind.TASK_AT_RISK: gettext_lazy(
        "Review of invoice %(reference)s may miss its deadline"
    ),
    Kind.TASK_BREACHED: gettext_lazy(
        "Review of invoice %(reference)s missed its deadline"
    ),
    Kind.TASK_ASSIGNED: gettext_lazy("Review of invoice %(reference)s assigned to you"),
    Kind.WEBHOOK_PAUSED: gettext_lazy("Webhook endpoint paused: %(url)s"),
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
    Kind.TASK_AT_RISK: gettext_lazy(
        "The review is due %(due)s and most of its time is used. Open the task to "
        "assign it or raise its priority."
    ),
    Kind.TASK_BREACHED: gettext_lazy(
        "The review was due %(due)s. Its priority has been raised; open the task to "
        "reassign it."
    ),
    Kind.TASK_ASSIGNED: gettext_lazy(
        "%(by)s assigned you the review of invoice %(reference)s, due %(due)s."
    ),
    Kind.WEBHOOK_PAUSED: gettext_lazy(
        "Deliveries to %(url)s failed for %(hours)s hours: the endpoint is paused and "
        "keeps its events. Fix the receiver, then resume it on the delivery log. "
        "Last error: %(reason)s"
    ),
}

EXPEDITE_STATES = {
    "approved": gettext_lazy("approved"),
    "declined": gettext_lazy("declined"),
}


# Context values that are data (written by people or read from the invoice), not
# interface text: the HTML body marks them ``translate="no"``.
DATA_KEYS = frozenset({"seller", "reason", "question", "user", "note", "by", "url"})


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    url: str
    body_html: str = ""  # the body as HTML, data marked translate="no"


def localized(value: Any, language: str | None = None) -> str:
    """A context value in ``language`` (default: the active one): a plain value as
    it is, a ``{language: text}`` dict in the closest language it has."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    if not value:
        return ""
    language = (language or translation.get_language() or "").lower()
    for key in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if key in value:
            return str(value[key])
    for key, text in value.items():
        if key.split("-")[0] == language.split("-")[0]:
            return str(text)
    return str(next(iter(value.values())))


def _values(notification: Notification) -> dict[str, Any]:
    context = {
        key: localized(value) for key, value in (notification.context or {}).items()
    }
    values: dict[str, Any] = {
        "reference": context.get("reference", ""),
        "seller": context.get("seller", "") or "—",
        "total": context.get("total", "") or "—",
        "reason": context.get("reason", ""),
        "question": context.get("question", ""),
        "due": context.get("due", "") or "—",
        "user": context.get("user", ""),
        "note": context.get("note", ""),
        "by": context.get("by", ""),
        "url": context.get("url", ""),
        "hours": context.get("hours", ""),
        "status": context.get("status", ""),
    }
    state = context.get("state", "")
    values["state"] = str(EXPEDITE_STATES.get(state, state))
    return values


def _with_reason(kind: str, values: dict[str, Any], wrap: Any = str) -> dict:
    """``values`` with a decision's reason introduced ("Reason: ..."), each data
    value passed through ``wrap`` first."""
    out = {k: (wrap(v) if k in DATA_KEYS and v else v) for k, v in values.items()}
    if kind == Kind.DECIDED and values["reason"]:
        label = _("Reason: %(reason)s")
        if wrap is not str:
            label = conditional_escape(label)
        out["reason"] = label % {"reason": out["reason"]}
    return out


def _data_span(value: Any) -> str:
    return format_html('<span translate="no">{}</span>', value)


def link_of(notification: Notification) -> str:
    """The page the reader opens: the notification's link, else the centre."""
    return notification.link or reverse("notifications:centre")


def render(notification: Notification, *, language: str | None = None) -> Rendered:
    """Title, body and link of a notification, in ``language`` (or the current)."""
    with translation.override(language or translation.get_language()):
        values = _values(notification)
        kind = Kind(notification.kind)
        plain = _with_reason(kind, values)
        title = str(TITLES[kind]) % plain
        body = (str(BODIES[kind]) % plain).strip()
        escaped = {k: conditional_escape(v) for k, v in values.items()}
        html = conditional_escape(str(BODIES[kind])) % _with_reason(
            kind, escaped, _data_span
        )
        body_html = mark_safe(html.strip())  # noqa: S308 - every part is escaped
    return Rendered(
        title=title, body=body, url=link_of(notification), body_html=body_html
    )


def absolute_url(path: str) -> str:
    """``path`` on the portal's configured address (``PORTAL_BASE_URL``)."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path
