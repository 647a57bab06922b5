"""Issue 16, Low (accounts side) and audit coverage of sign-ins: shorter staff
sessions, permissions that follow a role change at once, API docs closed in
production, a Content-Security-Policy the pages keep to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from tests.conftest import api_as
from tests.factories import PASSWORD, UserFactory
from tests.invoices.submitter.helpers import make_invoice, to_review

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def login(client, user, **extra):
    return client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": PASSWORD},
        **extra,
    )


# --- sessions ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN])
def test_staff_sessions_are_short(client, settings, review_centre, role):
    user = UserFactory(role=role, organization=review_centre)
    assert login(client, user).status_code == 302
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS
    assert settings.STAFF_SESSION_SECONDS <= 12 * 3600


def test_submitter_sessions_keep_the_default(client, settings, submitter):
    assert login(client, submitter).status_code == 302
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE < 14 * 24 * 3600  # not Django's two weeks


def test_sign_in_is_audited_with_the_address(client, settings, submitter):
    settings.PROXY_COUNT = 1
    login(client, submitter, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    entry = AuditEntry.objects.get(action="auth.sign_in")
    assert entry.actor == submitter
    assert entry.data == {"address": "203.0.113.7", "via": "page"}


def test_django_admin_sign_in_is_audited(client, superuser):
    response = client.post(
        reverse("admin:login"),
        {"username": superuser.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="auth.sign_in")
    assert entry.data["via"] == "django_admin"


# --- permissions cached for the status poll -----------------------------------------


def test_a_role_change_applies_to_the_status_poll_at_once(
    client, settings, tmp_path, submitter, admin_user
):
    settings.MEDIA_ROOT = tmp_path
    invoice = to_review(make_invoice(submitter.organization, submitter))
    url = reverse("invoices:status", args=[invoice.id])
    client.force_login(submitter)
    assert client.get(url, {"v": "x"}).status_code == 200  # primes the cache

    response = api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/", {"role": "reviewer"}, format="json"
    )
    assert response.status_code == 200, response.json()

    # Now a reviewer: the submitter's poll is refused at once, not a minute later.
    assert client.get(url, {"v": "x"}).status_code == 403


# --- API docs and browsable API -----------------------------------------------------


def test_schema_and_docs_need_a_signed_in_user_when_not_public(
    api_client, settings, submitter
):
    settings.API_DOCS_PUBLIC = False
    for path in ("/api/v1/schema/", "/api/v1/docs/"):
        assert api_client.get(path).status_code == 401, path
    signed_in = api_as(submitter)
    assert signed_in.get("/api/v1/schema/").status_code == 200
    assert signed_in.get("/api/v1/docs/").status_code == 200


def _production_settings(expression: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY"}}
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY="x" * 60,
        AUDIT_HMAC_KEY="y" * 60,
        ALLOWED_HOSTS="invoices.example.com",
        DJANGO_SETTINGS_MODULE="invoiceportal.settings",
    )
    env.pop("API_DOCS_PUBLIC", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print({expression})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_production_has_no_browsable_api_and_closed_docs():
    renderers = _production_settings(
        "settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']"
    )
    assert "BrowsableAPIRenderer" not in renderers
    assert "JSONRenderer" in renderers
    assert _production_settings("settings.API_DOCS_PUBLIC") == "False"


# --- Content-Security-Policy --------------------------------------------------------


def test_pages_send_a_content_security_policy_without_inline_scripts(client, submitter):
    client.force_login(submitter)
    response = client.get(reverse("invoices:list"))
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:])
        for part in policy.split(";")
        if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert directives["frame-ancestors"] == ["'self'"]
    nonces = [s[len("'nonce-") : -1] for s in script_src if s.startswith("'nonce-")]
    assert len(nonces) == 1
    # The page itself keeps to it: every script is a file of the portal and carries
    # this response's nonce.
    body = response.content.decode()
    tags = re.findall(r"<script\b[^>]*>", body)
    assert tags
    for tag in tags:
        assert "src=" in tag, tag
        assert f'nonce="{nonces[0]}"' in tag, tag


def test_templates_have_no_inline_event_handlers():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(str(template.relative_to(ROOT)))
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
    assert offenders == []


def test_docs_page_loads_its_script_from_a_url(api_client):
    body = api_client.get("/api/v1/docs/").content.decode()
    inline = [t for t in re.findall(r"<script\b[^>]*>", body) if "src=" not in t]
    assert inline == []
