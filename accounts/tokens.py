"""API tokens: one per client (each sign-in through the token endpoint gets its own),
stored hashed by django-rest-knox, expiring after ``API_TOKEN_TTL_HOURS``.

Issuing is audited; revoking happens inside the transaction of the change that calls
for it (password change or reset, deactivation, "sign out everywhere")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from invoiceportal.audit.services import audit_record

from .models import User


@dataclass(frozen=True)
class IssuedToken:
    key: str
    expires_at: datetime


def api_token_issue(*, user: User, address: str, client: str = "") -> IssuedToken:
    """A new token for one client. Expired tokens of the user are dropped; beyond
    ``API_TOKEN_LIMIT_PER_USER`` live tokens the oldest ones are revoked."""
    ttl = timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    with transaction.atomic(durable=True):
        now = timezone.now()
        AuthToken.objects.filter(user=user, expiry__lt=now).delete()
        instance, key = AuthToken.objects.create(user=user, expiry=ttl)
        keep = max(int(settings.API_TOKEN_LIMIT_PER_USER), 1)
        surplus = list(
            AuthToken.objects.filter(user=user)
            .order_by("-created", "-expiry")
            .values_list("digest", flat=True)[keep:]
        )
        if surplus:
            AuthToken.objects.filter(digest__in=surplus).delete()
        audit_record(
            actor=user,
            action="auth.token_issue",
            obj=user,
            data={
                "address": address,
                "client": client[:100],
                "expires_at": instance.expiry,
                "token_key": instance.token_key[:8],
                "revoked_oldest": len(surplus),
            },
        )
    return IssuedToken(key=key, expires_at=instance.expiry)


def api_tokens_revoke(*, user: User) -> int:
    """Delete every token of ``user``. Runs inside the caller's transaction."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count
