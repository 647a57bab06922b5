"""Permissions cached for the status poll (issue 14): kept in the shared cache and on
our own ``User.primed_permissions``, never in ModelBackend's private ``_perm_cache``."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.test import RequestFactory

from accounts.access import user_permissions_invalidate, user_permissions_prime
from accounts.models import User
from accounts.roles import Perm, Role, user_can
from accounts.services import user_sync_groups


def _request_for(user: User) -> object:
    """A request of the user's session, with a fresh user object as each request has."""
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=user.pk)
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore()
    request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    return request


@pytest.mark.django_db
def test_priming_leaves_django_private_caches_alone(submitter):
    user_permissions_prime(_request_for(submitter))  # a miss: fills the shared cache

    request = _request_for(submitter)
    user_permissions_prime(request)  # a hit

    assert not hasattr(request.user, "_perm_cache")
    assert request.user.primed_permissions == {Perm.SUBMIT.full}


@pytest.mark.django_db
def test_a_primed_user_answers_permission_checks_without_queries(
    submitter, django_assert_num_queries
):
    user_permissions_prime(_request_for(submitter))
    request = _request_for(submitter)
    with django_assert_num_queries(0):
        user_permissions_prime(request)
        assert user_can(request.user, Perm.SUBMIT)
        assert not user_can(request.user, Perm.REVIEW)


@pytest.mark.django_db
def test_a_role_change_is_seen_at_the_next_request(submitter):
    user_permissions_prime(_request_for(submitter))

    submitter.role = Role.REVIEWER
    submitter.save(update_fields=["role"])
    user_sync_groups(submitter)
    user_permissions_invalidate(submitter.pk)

    request = _request_for(submitter)
    user_permissions_prime(request)
    assert user_can(request.user, Perm.REVIEW)
    assert not user_can(request.user, Perm.SUBMIT)


@pytest.mark.django_db
def test_a_deactivated_primed_user_has_no_permission(submitter):
    request = _request_for(submitter)
    user_permissions_prime(request)
    request.user.is_active = False
    assert not user_can(request.user, Perm.SUBMIT)


@pytest.mark.django_db
def test_a_primed_superuser_has_every_permission(submitter):
    submitter.is_superuser = True
    submitter.save(update_fields=["is_superuser"])
    request = _request_for(submitter)
    user_permissions_prime(request)
    assert all(user_can(request.user, perm) for perm in Perm)


def _token_client(user: User):
    from rest_framework.test import APIClient

    from accounts.tokens import api_token_issue

    client = APIClient()
    token = api_token_issue(user=user, address="127.0.0.1").key
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.mark.django_db
def test_api_token_calls_read_the_permission_tables_once_a_minute(submitter):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _token_client(submitter)
    assert client.get("/api/v1/invoices/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/invoices/").status_code == 200
    permission_reads = [q["sql"] for q in queries if "auth_permission" in q["sql"]]
    assert permission_reads == []


@pytest.mark.django_db
def test_a_role_change_applies_to_the_next_api_token_call(
    submitter, admin_user, django_capture_on_commit_callbacks
):
    from accounts.services import user_update

    client = _token_client(submitter)
    # an empty manual entry: refused as incomplete while the user may submit
    assert client.post("/api/v1/invoices/", {}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        user_update(actor=admin_user, user=submitter, role=Role.REVIEWER)
    response = client.post("/api/v1/invoices/", {}, format="json")
    assert response.status_code == 403
