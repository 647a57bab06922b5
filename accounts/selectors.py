"""Reads of users that other layers need (recipients of a message, mostly).

accounts is below invoices, notifications and reviews: they ask here for "who has
this role" instead of each writing its own query (or importing a higher layer's).
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import User
from .roles import Role


def users_with_role(role: Role | str) -> QuerySet[User]:
    """Active users whose role is ``role`` (id and username loaded), e.g. the
    supervisors who answer urgent-handling requests."""
    return User.objects.filter(role=Role(role), is_active=True).only("id", "username")
