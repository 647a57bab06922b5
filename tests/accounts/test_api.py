import re

import pytest
from django.contrib.auth.models import Group

from accounts.models import Organization, User
from accounts.roles import Role, group_name
from invoiceportal.audit.models import AuditEntry
from tests.conftest import api_as
from tests.factories import PASSWORD, make_uscc

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


def assert_error_shape(response, code=None):
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert body["message"]
    if code:
        assert body["code"] == code, body


def test_token_for_good_credentials_authenticates_later_calls(api_client, admin_user):
    response = api_client.post(
        TOKEN_URL, {"username": admin_user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/organizations/").status_code == 200


def test_token_for_wrong_password_is_a_clear_error(api_client, submitter):
    response = api_client.post(
        TOKEN_URL, {"username": submitter.username, "password": "nope"}
    )
    assert response.status_code == 400
    assert_error_shape(response, "invalid_credentials")


def test_token_requests_missing_fields_list_them(api_client):
    response = api_client.post(TOKEN_URL, {"username": "x"}, format="json")
    assert response.status_code == 400
    assert_error_shape(response, "invalid")
    assert "password" in response.json()["details"]


def test_token_endpoint_locks_after_repeated_failures(api_client, submitter, settings):
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
    assert_error_shape(response, "login_locked")


def test_organizations_are_admin_only(submitter, reviewer):
    for user in (submitter, reviewer):
        response = api_as(user).get("/api/v1/organizations/")
        assert response.status_code == 403
        assert_error_shape(response, "permission_denied")


def test_anonymous_gets_401_with_the_error_shape(api_client):
    response = api_client.get("/api/v1/users/")
    assert response.status_code == 401
    assert_error_shape(response, "not_authenticated")


def test_admin_creates_an_organization_with_audit(admin_user):
    tax_id = make_uscc(9001)
    response = api_as(admin_user).post(
        "/api/v1/organizations/", {"name": "新公司", "tax_id": tax_id}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {"id", "name", "tax_id"} <= set(body)
    assert body["tax_id"] == tax_id
    org = Organization.objects.get(tax_id=tax_id)
    assert AuditEntry.objects.filter(
        action="organization.create", object_id=str(org.pk), actor=admin_user
    ).exists()


@pytest.mark.parametrize(
    "tax_id",
    ["91500102563638729E", "9150010807MGZHI002", "123", "", "91110108717809965C"],
)
def test_invalid_uscc_is_refused_and_nothing_is_stored(admin_user, tax_id):
    before = Organization.objects.count()
    response = api_as(admin_user).post(
        "/api/v1/organizations/", {"name": "坏公司", "tax_id": tax_id}, format="json"
    )
    assert response.status_code == 400
    assert_error_shape(response, "invalid")
    assert "tax_id" in response.json()["details"]
    assert Organization.objects.count() == before


def test_duplicate_tax_id_is_refused(admin_user, organization):
    response = api_as(admin_user).post(
        "/api/v1/organizations/",
        {"name": "Copy", "tax_id": organization.tax_id},
        format="json",
    )
    assert response.status_code == 400
    assert "tax_id" in response.json()["details"]


def test_superuser_creates_a_user_with_a_role(superuser, organization):
    response = api_as(superuser).post(
        "/api/v1/users/",
        {
            "username": "wang.fang",
            "password": "Strong-Passw0rd-2026",
            "role": "reviewer",
            "organization": organization.pk,
            "email": "wang@example.com",
            "language": "en",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    assert body["role"] == "reviewer"
    assert body["organization"] == organization.pk
    user = User.objects.get(username="wang.fang")
    assert user.check_password("Strong-Passw0rd-2026")
    assert list(user.groups.values_list("name", flat=True)) == [
        group_name(Role.REVIEWER)
    ]
    assert user.has_perm("accounts.review_invoice")
    assert not user.has_perm("accounts.submit_invoice")


def test_weak_password_is_refused(superuser, organization):
    response = api_as(superuser).post(
        "/api/v1/users/",
        {"username": "weak", "password": "123", "organization": organization.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["details"]
    assert not User.objects.filter(username="weak").exists()


def test_submitter_without_organization_is_refused(admin_user):
    response = api_as(admin_user).post(
        "/api/v1/users/",
        {"username": "orphan", "email": "orphan@example.com", "role": "submitter"},
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()["details"]


def test_patch_changes_the_role_and_its_permissions(admin_user, submitter):
    response = api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/", {"role": "supervisor"}, format="json"
    )
    assert response.status_code == 200, response.json()
    user = User.objects.get(pk=submitter.pk)
    assert user.role == Role.SUPERVISOR
    assert user.has_perm("accounts.supervise_reviews")
    assert not user.has_perm("accounts.submit_invoice")


def test_users_cannot_provision_themselves(submitter):
    response = api_as(submitter).patch(
        f"/api/v1/users/{submitter.pk}/", {"role": "admin"}, format="json"
    )
    assert response.status_code == 403
    submitter.refresh_from_db()
    assert submitter.role == Role.SUBMITTER


def test_superuser_is_an_admin_in_the_api(superuser):
    assert api_as(superuser).get("/api/v1/users/").status_code == 200


def test_users_list_is_paginated(admin_user):
    body = api_as(admin_user).get("/api/v1/users/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert {"id", "username", "role", "organization", "email", "language"} <= set(
        body["results"][0]
    )


def test_role_groups_hold_exactly_their_permissions(db):
    perms = {
        g.name: set(g.permissions.values_list("codename", flat=True))
        for g in Group.objects.all()
    }
    assert perms[group_name(Role.SUBMITTER)] == {"submit_invoice"}
    assert perms[group_name(Role.REVIEWER)] == {"review_invoice"}
    assert perms[group_name(Role.SUPERVISOR)] == {"review_invoice", "supervise_reviews"}
    assert perms[group_name(Role.ADMIN)] == {"administer_portal", "supervise_reviews"}


def test_openapi_schema_and_docs_are_served_offline(client, submitter):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/auth/token/" in text
    assert "/api/v1/organizations/" in text
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    # Everything from the portal itself: vendored files, and the page's own start-up
    # script served from the docs URL (no inline script, for the CSP).
    assert all(
        src.startswith("/static/") or src == "/api/v1/docs/?script=" for src in sources
    ), sources
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
