"""Telling supervisors about SLA warnings and breaches.

``notify`` records an internal timeline event, hands the alert to the notifications
app and logs. ``notify_supervisors`` is the single call site.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from accounts.roles import Role
from accounts.selectors import users_with_role
from invoiceportal.invoices.lifecycle import timeline_note
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.notify import notify_about_invoice

logger = logging.getLogger(__name__)


def notify(
    *, users: Iterable[Any], invoice: Invoice, kind: str, context: dict[str, Any]
) -> None:
    """Record the alert on the invoice's internal timeline, then notify the users
    (in-app at once, email and SMS after commit, as each user chose)."""
    users = list(users)
    usernames = sorted(u.username for u in users)
    timeline_note(
        invoice,
        "supervisors_notified",
        params={"kind": kind, "users": usernames, **context},
        visible=False,
    )
    notify_about_invoice(users=users, invoice=invoice, kind=kind, context=context)
    logger.warning(
        "Review queue: %s on %s; supervisors %s notified.",
        kind,
        invoice.reference,
        ", ".join(usernames) or "(none)",
    )


def supervisors():
    """The active supervisors (id and username loaded)."""
    return users_with_role(Role.SUPERVISOR)


def notify_supervisors(
    *, invoice: Invoice, kind: str, context: dict[str, Any]
) -> list[Any]:
    """Run inside the transaction of the change being reported; returns the
    supervisors told."""
    users = list(supervisors())
    notify(users=users, invoice=invoice, kind=kind, context=context)
    return users
