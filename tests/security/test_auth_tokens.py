"""Issue 16, Medium 4: API tokens are per client, expire, and are revoked on password
change, password reset, deactivation and "sign out everywhere" (page and API)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from invoiceportal.audit.models import AuditEntry
from tests.conftest import api_as
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME = "/api/v1/invoices/"  # any endpoint the submitter may call


def issue(user, password=PASSWORD, **extra) -> dict:
    response = APIClient().post(
        TOKEN_URL, {"username": user.username, "password": password, **extra}
    )
    assert response.status_code == 200, response.json()
    return response.json()


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_each_client_gets_its_own_expiring_token(submitter, settings):
    first, second = issue(submitter), issue(submitter)
    assert set(first) == {"token", "expires_at"}
    assert first["token"] != second["token"]
    assert with_token(first["token"]).get(ME).status_code == 200
    assert with_token(second["token"]).get(ME).status_code == 200
    expires = parse_datetime(first["expires_at"])
    lifetime = expires - timezone.now()
    ttl = dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    assert ttl - dt.timedelta(minutes=1) < lifetime <= ttl


def test_a_token_stops_working_when_it_expires(submitter, settings):
    key = issue(submitter)["token"]
    later = timezone.now() + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        response = with_token(key).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_tokens_beyond_the_per_user_limit_revoke_the_oldest(submitter, settings):
    settings.API_TOKEN_LIMIT_PER_USER = 2
    oldest = issue(submitter)["token"]
    issue(submitter)
    newest = issue(submitter)["token"]
    assert with_token(oldest).get(ME).status_code == 401
    assert with_token(newest).get(ME).status_code == 200


def test_issuing_a_token_is_audited(submitter):
    issue(submitter, client="nightly-export")
    entry = AuditEntry.objects.get(action="auth.token_issue")
    assert entry.actor == submitter
    assert entry.data["client"] == "nightly-export"
    assert entry.data["address"] == "127.0.0.1"


def test_a_password_change_on_the_page_revokes_tokens(client, submitter):
    key = issue(submitter)["token"]
    client.force_login(submitter)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-Passw0rd-2026",
            "new_password2": "a-new-Passw0rd-2026",
        },
    )
    assert response.status_code == 302
    assert with_token(key).get(ME).status_code == 401
    # The page session that made the change stays signed in.
    assert client.get(reverse("invoices:list")).status_code == 200
    assert AuditEntry.objects.filter(
        action="user.password_change", actor=submitter
    ).exists()


def test_a_password_reset_revokes_tokens(client, submitter):
    key = issue(submitter)["token"]
    client.post(reverse("accounts:password_reset"), {"email": submitter.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body
    )
    form_page = client.get(link.group(1), follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "reset-Passw0rd-2026",
            "new_password2": "reset-Passw0rd-2026",
        },
    )
    assert done.status_code == 302
    assert with_token(key).get(ME).status_code == 401
    assert AuditEntry.objects.filter(
        action="user.password_reset", object_id=str(submitter.pk)
    ).exists()


def test_deactivation_revokes_tokens(admin_user, submitter):
    key = issue(submitter)["token"]
    response = api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    submitter.is_active = True  # even if the account came back, the token is gone
    submitter.save(update_fields=["is_active"])
    assert with_token(key).get(ME).status_code == 401


def test_sign_out_everywhere_through_the_api(client, submitter):
    key, other_key = issue(submitter)["token"], issue(submitter)["token"]
    client.force_login(submitter)  # a browser session elsewhere
    response = with_token(key).post("/api/v1/auth/sign-out-everywhere/")
    assert response.status_code == 204
    assert with_token(key).get(ME).status_code == 401
    assert with_token(other_key).get(ME).status_code == 401
    assert client.get(reverse("invoices:list")).status_code == 302  # signed out
    assert AuditEntry.objects.filter(
        action="auth.sign_out_everywhere", actor=submitter
    ).exists()


def test_sign_out_everywhere_on_the_page(client, submitter):
    from django.test import Client

    key = issue(submitter)["token"]
    laptop, phone = client, Client()
    laptop.force_login(submitter)
    phone.force_login(submitter)
    response = laptop.post(reverse("accounts:sign_out_everywhere"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert phone.get(reverse("invoices:list")).status_code == 302
    assert laptop.get(reverse("invoices:list")).status_code == 302
    assert with_token(key).get(ME).status_code == 401
    # Signing in again works as before.
    assert (
        laptop.post(
            reverse("accounts:login"),
            {"username": submitter.username, "password": PASSWORD},
        ).status_code
        == 302
    )


def test_sign_out_everywhere_needs_post(client, submitter):
    client.force_login(submitter)
    assert client.get(reverse("accounts:sign_out_everywhere")).status_code == 405
