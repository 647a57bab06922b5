"""Issue 16, High 2 and Medium 3: the client address is resolved behind the trusted
proxies for lockout, throttling and audit; a lock holds a username-and-address pair,
an address alone only after far more failures; a locked user is shown the way in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from accounts.api.views import TokenThrottle
from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.middleware import client_address
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
TOKEN_URL = "/api/v1/auth/token/"


def login(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def via_proxy(forwarded_for: str) -> dict:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}


@pytest.mark.parametrize(
    ("proxy_count", "forwarded", "expected"),
    [
        (0, "203.0.113.5", PROXY),  # no proxy configured: the header is ignored
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # forged left part ignored
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "203.0.113.5"),
        (1, "not-an-address", PROXY),
        (1, "", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_counts_trusted_proxies_from_the_right(
    settings, proxy_count, forwarded, expected
):
    settings.PROXY_COUNT = proxy_count
    request = RequestFactory().get("/", **via_proxy(forwarded))
    assert client_address(request) == expected


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(
    client, settings, organization
):
    settings.PROXY_COUNT = 1
    attacker_target = UserFactory(organization=organization)
    bystander = UserFactory(organization=organization)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, attacker_target.username, "wrong", **via_proxy("203.0.113.5"))
    # Another client behind the same proxy signs in, to its own account and to the
    # one attacked (its owner, from elsewhere).
    bystanders = login(client, bystander.username, **via_proxy("198.51.100.7"))
    assert bystanders.status_code == 302
    client.logout()
    owner = login(client, attacker_target.username, **via_proxy("198.51.100.8"))
    assert owner.status_code == 302
    client.logout()
    # The attacker's own address is locked for that username.
    locked = login(client, attacker_target.username, **via_proxy("203.0.113.5"))
    assert locked.status_code == 429


def test_forged_forwarded_entries_do_not_escape_the_lock(client, settings, submitter):
    settings.PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(
            client, submitter.username, "wrong", **via_proxy(f"6.6.6.{n}, 203.0.113.5")
        )
    locked = login(client, submitter.username, **via_proxy("7.7.7.7, 203.0.113.5"))
    assert locked.status_code == 429


def test_token_throttle_counts_clients_not_the_proxy(api_client, settings, submitter):
    settings.PROXY_COUNT = 1
    rate = TokenThrottle().get_rate()
    allowed = int(rate.split("/")[0])
    body = {"username": submitter.username, "password": PASSWORD}
    for _ in range(allowed):
        api_client.post(TOKEN_URL, body, **via_proxy("203.0.113.5"))
    refused = api_client.post(TOKEN_URL, body, **via_proxy("203.0.113.5"))
    assert refused.status_code == 429
    # Entries the client wrote itself, left of the proxy's, change nothing.
    forged = api_client.post(TOKEN_URL, body, **via_proxy("6.6.6.6, 203.0.113.5"))
    assert forged.status_code == 429
    assert (
        api_client.post(TOKEN_URL, body, **via_proxy("198.51.100.7")).status_code == 200
    )


def test_failures_from_one_address_do_not_lock_the_owner_elsewhere(
    client, settings, submitter
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, submitter.username, "wrong", REMOTE_ADDR="10.9.9.9")
    assert login(client, submitter.username, REMOTE_ADDR="10.9.9.9").status_code == 429
    assert login(client, submitter.username, REMOTE_ADDR="10.8.8.8").status_code == 302


def test_an_address_alone_is_locked_only_after_the_higher_threshold(
    client, settings, organization
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    users = UserFactory.create_batch(13, organization=organization)
    for user in users[:11]:
        login(client, user.username, "wrong", REMOTE_ADDR="10.1.1.1")
    # 11 failures on 11 usernames: more than the per-pair limit, under the address's.
    assert login(client, users[11].username, REMOTE_ADDR="10.1.1.1").status_code == 302
    client.logout()
    login(client, users[12].username, "wrong", REMOTE_ADDR="10.1.1.1")  # the 12th
    assert login(client, users[11].username, REMOTE_ADDR="10.1.1.1").status_code == 429
    assert login(client, users[11].username, REMOTE_ADDR="10.2.2.2").status_code == 302


def test_signing_in_does_not_wipe_an_addresss_failures(client, settings, organization):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    mine = UserFactory(organization=organization)
    others = UserFactory.create_batch(8, organization=organization)
    for user in others[:4]:
        login(client, user.username, "wrong", REMOTE_ADDR="10.3.3.3")
    assert login(client, mine.username, REMOTE_ADDR="10.3.3.3").status_code == 302
    client.logout()
    for user in others[4:]:
        login(client, user.username, "wrong", REMOTE_ADDR="10.3.3.3")
    assert login(client, mine.username, REMOTE_ADDR="10.3.3.3").status_code == 429


def test_locked_page_shows_the_way_in(client, settings, submitter):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, submitter.username, "wrong")
    response = login(client, submitter.username)
    assert response.status_code == 429
    body = response.content.decode()
    assert 'id="lockout-reset"' in body
    assert f'href="{reverse("accounts:password_reset")}"' in body


def test_locked_api_error_carries_the_reset_link(api_client, settings, submitter):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1000/min"},
    }
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(TOKEN_URL, {"username": submitter.username, "password": "x"})
    response = api_client.post(
        TOKEN_URL, {"username": submitter.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "login_locked"
    assert body["details"]["password_reset_url"] == (
        "http://testserver" + reverse("accounts:password_reset")
    )


def test_a_password_reset_lifts_the_lock(client, settings, submitter):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, submitter.username, "wrong")
    assert login(client, submitter.username).status_code == 429

    client.post(reverse("accounts:password_reset"), {"email": submitter.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body
    )
    form_page = client.get(link.group(1), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Back-In-2026-pw", "new_password2": "Back-In-2026-pw"},
    )
    assert login(client, submitter.username, "Back-In-2026-pw").status_code == 302


def test_failed_sign_ins_are_audited_with_the_client_address(
    client, settings, submitter
):
    settings.PROXY_COUNT = 1
    login(client, submitter.username, "wrong", **via_proxy("203.0.113.9"))
    entry = AuditEntry.objects.get(action="auth.sign_in_failed")
    assert entry.actor is None
    assert entry.object_id == str(submitter.pk)
    assert entry.data == {
        "username": submitter.username,
        "address": "203.0.113.9",
        "via": "page",
        "locked": False,
    }
