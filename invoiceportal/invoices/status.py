"""Invoice status values and the one table of allowed transitions (DESIGN.md §4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InvoiceStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    SCREENING = "screening", _("Screening")
    IN_REVIEW = "in_review", _("In review")
    NEEDS_INFO = "needs_info", _("Information requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = InvoiceStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.SCREENING, S.WITHDRAWN}),
    S.SCREENING: frozenset({S.APPROVED, S.REJECTED, S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.NEEDS_INFO, S.WITHDRAWN}),
    S.NEEDS_INFO: frozenset({S.SCREENING, S.WITHDRAWN}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def can_move(status: str, to: str) -> bool:
    """Whether the transition table allows ``status -> to`` (the services check it
    before acting, the pages show their buttons from it)."""
    return to in ALLOWED_TRANSITIONS[InvoiceStatus(status)]


TERMINAL = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})
# Still being processed: the submitter can withdraw it or ask for urgent handling.
OPEN = frozenset({S.RECEIVED, S.SCREENING, S.IN_REVIEW, S.NEEDS_INFO})
# Decided: a receipt exists and the handling can be rated.
DECIDED = frozenset({S.APPROVED, S.REJECTED})
# Statuses that hold an invoice identity: a second live copy is a duplicate.
LIVE = frozenset({S.RECEIVED, S.SCREENING, S.IN_REVIEW, S.NEEDS_INFO, S.APPROVED})


class DecisionSource(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic")
    REVIEWER = "reviewer", _("Reviewer")


class Priority(models.IntegerChoices):
    NORMAL = 0, _("Normal")
    HIGH = 1, _("High")
    URGENT = 2, _("Urgent")


class InvoiceKindChoice(models.TextChoices):
    DIGITAL_SPECIAL = "digital_special", _("Fully digital special VAT invoice")
    DIGITAL_ORDINARY = "digital_ordinary", _("Fully digital ordinary invoice")
    E_SPECIAL = "e_special", _("Electronic special VAT invoice")
    E_ORDINARY = "e_ordinary", _("Electronic ordinary VAT invoice")
    E_TOLL = "e_toll", _("Electronic toll invoice")
    PAPER_SPECIAL = "paper_special", _("Paper special VAT invoice")
    PAPER_ORDINARY = "paper_ordinary", _("Paper ordinary VAT invoice")
    RAIL_TICKET = "rail_ticket", _("Electronic railway ticket")
    AIR_ITINERARY = "air_itinerary", _("Electronic air itinerary")
    GENERAL_MACHINE = (
        "general_machine",
        _("General machine-printed e-invoice (not VAT)"),
    )
    OTHER = "other", _("Other")
