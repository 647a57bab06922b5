"""Timeline messages of the review queue's events, by code.

``event_message`` renders any timeline event: the queue's codes here, every other code
through the invoices app's ``timeline_message``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from invoiceportal.invoices.lifecycle import timeline_message

QUEUE_MESSAGES = {
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


def event_message(event: Any) -> str:
    # ``ReviewsConfig.ready`` registers QUEUE_MESSAGES with the invoices app.
    return timeline_message(event)
