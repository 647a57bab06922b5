"""Telling supervisors about SLA warnings and breaches.

``notify`` records an internal timeline event, hands the alert to the notifications
app and logs. ``notify_supervisors`` is the single call site.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from accounts.models import User
from accounts.roles import Role
from invoiceportal.invoices.models import Invoice, TimelineEvent
from invoiceportal.invoices.notify import notify_about_invoice

logger = logging.getLogger(__name__)


def notify(
    *, users: Iterable[Any], invoice: Invoice, kind: str, context: dict[str, Any]
) -> None:
    """Record the alert on the invoice's internal timeline, then notify the users
    (in-app at once, email and SMS after commit, as each user chose)."""
    users = list(users)
    usernames = sorted(u.username for u in users)
    TimelineEvent.objects.create(
        invoice=invoice,
        status=invoice.status,
        code="supervisors_notified",
        params={"kind": kind, "users": usernames, **context},
        visible_to_submitter=False,
    )
    notify_about_invoice(users=users, invoice=invoice, kind=kind, context=context)
    logger.warning(
        "Review queue: %s on %s; supervisors %s notified.",
        kind,
        invoice.reference,
        ", ".join(usernames) or "(none)",
    )


def supervisors():
    return User.objects.filter(role=Role.SUPERVISOR, is_active=True).only(
        "id", "username"
    )


def notify_supervisors(*, invoice: Invoice, kind: str, context: dict[str, Any]) -> None:
    """Run inside the transaction of the change being reported."""
    notify(users=list(supervisors()), invoice=invoice, kind=kind, context=context)
