"""Timeline messages of the review queue's events, by code.

``event_message`` renders any timeline event: the queue's codes here, every other code
through the invoices app's ``timeline_message``.
"""

from __future__ import annotations

import copy
from collections import ChainMap
from typing import Any

from django.utils.translation import gettext_lazy as _

from invoiceportal.invoices.actions import ACTION_MESSAGES
from invoiceportal.invoices.lifecycle import TIMELINE_MESSAGES, timeline_message
from invoiceportal.notifications.services import kind_of

QUEUE_MESSAGES = {
    "review_claimed": _("Claimed by %(by)s."),
    "review_released": _("Returned to the queue by %(by)s."),
    "review_lease_expired": _("Claim by %(by)s expired: returned to the queue."),
    "review_reassigned": _("Assigned to %(to)s by %(by)s."),
    "review_priority_changed": _("Priority changed to %(priority)s; due %(due)s."),
    "review_first_approval": _(
        "First reviewer approved; a second review is required: %(reasons)s"
    ),
    "review_resumed": _("The submitter answered: back in the review queue."),
    "sla_warning": _("SLA warning: %(percent)s%% of the time used; due %(due)s."),
    "sla_breached": _("SLA breached: was due %(due)s."),
    "review_closed": _("Review task closed: the invoice is %(status)s."),
    "supervisors_notified": _("Supervisors notified (%(kind)s)."),
}


# The queue's codes, then the invoices layer's (submitter actions, lifecycle, intake).
EVENT_MESSAGES = ChainMap(QUEUE_MESSAGES, ACTION_MESSAGES, TIMELINE_MESSAGES)


def readable_event(event: Any) -> Any:
    """``event`` with a notification kind code in its params ("sla_warning") as
    the kind's label in the reader's language; a copy, the row is not changed."""
    kind = (event.params or {}).get("kind")
    if not kind:
        return event
    try:
        label = str(kind_of(kind).label)
    except ValueError:
        return event
    readable = copy.copy(event)
    readable.params = {**event.params, "kind": label}
    return readable


def event_message(event: Any) -> str:
    return timeline_message(readable_event(event), EVENT_MESSAGES)
