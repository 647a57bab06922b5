"""Receivers for Django's authentication signals: every sign-in and every refused
sign-in is audited with the client's address, and staff sessions get their shorter
lifetime. They only hand over to the services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from invoiceportal.common.middleware import client_address

from .roles import Role
from .services import auth_sign_in_failed_record, auth_sign_in_record


def _via(request: Any) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/django-admin/"):
        return "django_admin"
    if path.startswith("/api/"):
        return "api"
    return "page"


@receiver(user_logged_in, dispatch_uid="accounts.audit_sign_in")
def on_signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    if user.is_staff or user.effective_role != Role.SUBMITTER:
        request.session.set_expiry(settings.STAFF_SESSION_SECONDS)
    # A person signs in by submitting a sign-in form (the portal's, Django admin's);
    # a programmatic login (a test client's force_login) has no such request.
    if request.method == "POST":
        auth_sign_in_record(
            user=user, address=client_address(request), via=_via(request)
        )


@receiver(user_login_failed, dispatch_uid="accounts.audit_sign_in_failed")
def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if request is None:
        return
    auth_sign_in_failed_record(
        username=str(credentials.get("username") or ""),
        address=client_address(request),
        via=_via(request),
        locked=bool(getattr(request, "axes_locked_out", False)),
    )
