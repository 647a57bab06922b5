"""Read side of the administrator's users and organizations pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from ..lockout import lockout_failures_by_username
from ..models import Organization, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class UserFilters:
    q: str = ""
    organization: int | None = None
    role: str = ""
    active: bool | None = None


def user_queryset(filters: UserFilters) -> QuerySet[User]:
    qs = User.objects.select_related("organization").order_by("username", "pk")
    if filters.q:
        q = filters.q.strip()[:100]
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    return qs


def user_page(filters: UserFilters, page: Any) -> Page:
    """One bounded page of users (``PAGE_SIZE``), each with ``failed_sign_ins``."""
    paginator = Paginator(user_queryset(filters), PAGE_SIZE)
    current = paginator.get_page(page)
    users = list(current.object_list)
    failures = lockout_failures_by_username([u.username for u in users])
    for user in users:
        user.failed_sign_ins = failures.get(user.username, 0)
    current.object_list = users
    return current


def organization_page(q: str, page: Any) -> Page:
    qs = Organization.objects.annotate(user_count=Count("users")).order_by("name", "pk")
    if q:
        q = q.strip()[:100]
        qs = qs.filter(Q(name__icontains=q) | Q(tax_id__icontains=q.upper()))
    return Paginator(qs, PAGE_SIZE).get_page(page)


def organization_invoice_counts(organization: Organization) -> list[tuple[str, int]]:
    """Invoices of the organization per status, every status listed (zero too).

    Read through the reverse relation: accounts sits below invoices and imports
    nothing from it (DESIGN.md section 2)."""
    invoices = organization.invoices
    counts = dict(
        invoices.order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    statuses = invoices.model._meta.get_field("status").choices
    return [(label, counts.get(value, 0)) for value, label in statuses]
