"""Login lockout (django-axes): a username is locked from one address, an address on
its own only after ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures.

axes compares one number with one limit (``AXES_FAILURE_LIMIT``). The handler reports
the pair's failures as they are and the address's failures scaled to that limit, so
"locked" means: the pair reached ``AXES_FAILURE_LIMIT`` or the address reached
``LOGIN_ADDRESS_FAILURE_LIMIT``. Nobody can lock a known username for its owner from
another address, and one office behind a NAT is not locked by a handful of typos.
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum


def _failures(**filters: Any) -> int:
    return (
        AccessAttempt.objects.filter(**filters).aggregate(
            n=Sum("failures_since_start")
        )["n"]
        or 0
    )


class PortalAxesHandler(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict | None = None) -> int:
        address = request.axes_ip_address
        username = get_client_username(request, credentials)
        recent: dict[str, Any] = {}
        if settings.AXES_COOLOFF_TIME:
            recent["attempt_time__gte"] = get_cool_off_threshold(request)
        pair = _failures(username=username, ip_address=address, **recent)
        from_address = _failures(ip_address=address, **recent)
        limit = get_failure_limit(request, credentials)
        address_limit = max(int(settings.LOGIN_ADDRESS_FAILURE_LIMIT), 1)
        return max(pair, from_address * limit // address_limit)

    def reset_user_attempts(self, request: Any, credentials: dict | None = None) -> int:
        """A successful sign-in clears its own username-and-address pair only: signing
        in to one's own account must not wipe the failures an address collected
        against other accounts."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count


def lockout_clear_for_username(username: str) -> int:
    """A password reset proves the owner (or an administrator unlocks the account):
    lift the username's locks everywhere. Returns the failure records removed."""
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    return count


def lockout_failures_by_username(usernames: list[str]) -> dict[str, int]:
    """Failed sign-ins on record (within the cool-off) per username, for the users
    page: a count at or above ``AXES_FAILURE_LIMIT`` means locked from an address."""
    qs = AccessAttempt.objects.filter(username__in=usernames)
    if settings.AXES_COOLOFF_TIME:
        from datetime import timedelta

        from django.utils import timezone

        since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
        qs = qs.filter(attempt_time__gte=since)
    rows = qs.values("username").annotate(n=Max("failures_since_start"))
    return {row["username"]: row["n"] for row in rows}
