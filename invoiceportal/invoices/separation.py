"""Separation of duties for staff actions on an invoice: nobody acts on their own
submissions or on their own organization's invoices. One guard for the review queue,
the supervisor board and urgent-handling answers (pages and API alike); the review
queue adds its reviewer-specific rules (second reviewer, own claim) on top."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from invoiceportal.common.errors import PermissionDeniedError


def staff_action_problem(
    *, user: Any, organization_id: int | None, submitted_by_id: int | None
) -> str | None:
    """Why ``user`` may not act as staff on an invoice of ``organization_id``
    submitted by ``submitted_by_id`` (reassign, release, change priority, answer an
    urgent-handling request), or None. Separation of duties: nobody acts on their
    own submissions or on their own organization's invoices."""
    if submitted_by_id is not None and submitted_by_id == user.pk:
        return str(_("You cannot act on an invoice you submitted."))
    if user.organization_id and organization_id == user.organization_id:
        return str(
            _(
                "You cannot act on an invoice of your own organization: another "
                "supervisor must do this."
            )
        )
    return None


def require_staff_separation(
    *, user: Any, organization_id: int | None, submitted_by_id: int | None
) -> None:
    """The one guard of every staff action on an invoice (queue, supervisor board,
    urgent-handling answers), pages and API alike. Call it under the lock."""
    problem = staff_action_problem(
        user=user, organization_id=organization_id, submitted_by_id=submitted_by_id
    )
    if problem:
        raise PermissionDeniedError(problem, code="separation_of_duties")
