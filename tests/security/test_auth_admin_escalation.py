"""Issue 16, High 1: an administrator (staff, not superuser) cannot take over a
superuser, never sets another person's password, and Django-admin changes are
audited (and closed to non-superusers)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from tests.conftest import api_as
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Attacker-Chosen-2026!"


@pytest.fixture
def superuser(db):
    """A superuser as provisioned in practice: an administrator, no organization."""
    return UserFactory(
        role=Role.ADMIN, organization=None, is_superuser=True, is_staff=True
    )


def _link_path(message) -> str:
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_admin_cannot_set_a_superusers_password(admin_user, superuser):
    response = api_as(admin_user).patch(
        f"/api/v1/users/{superuser.pk}/", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code in (400, 403), response.json()
    stored = User.objects.get(pk=superuser.pk)
    assert stored.check_password(PASSWORD)
    assert not stored.check_password(NEW_PASSWORD)


def test_admin_cannot_set_anyones_password(admin_user, submitter):
    response = api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/", {"password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()["details"]
    assert User.objects.get(pk=submitter.pk).check_password(PASSWORD)


@pytest.mark.parametrize(
    "change", [{"email": "mine@example.com"}, {"is_active": False}, {"role": "admin"}]
)
def test_admin_cannot_edit_a_superuser(admin_user, superuser, change):
    before = User.objects.values().get(pk=superuser.pk)
    response = api_as(admin_user).patch(
        f"/api/v1/users/{superuser.pk}/", change, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "superuser_protected"
    assert User.objects.values().get(pk=superuser.pk) == before


def test_admin_cannot_grant_superuser(admin_user, submitter):
    api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/",
        {"is_superuser": True, "is_staff": True, "role": "admin"},
        format="json",
    )
    stored = User.objects.get(pk=submitter.pk)
    assert not stored.is_superuser
    assert stored.role == Role.ADMIN  # an administrator, not more


def test_superuser_still_edits_a_superuser(superuser):
    other = UserFactory(
        role=Role.ADMIN, organization=None, is_superuser=True, is_staff=True
    )
    response = api_as(superuser).patch(
        f"/api/v1/users/{other.pk}/", {"email": "ops@example.com"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert User.objects.get(pk=other.pk).email == "ops@example.com"


def test_admin_creates_a_user_who_chooses_the_password_through_a_link(
    client, admin_user, organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin_user).post(
            "/api/v1/users/",
            {
                "username": "li.na",
                "role": "submitter",
                "organization": organization.pk,
                "email": "li.na@example.com",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="li.na")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["li.na@example.com"]

    form_page = client.get(_link_path(mail.outbox[0]), follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {
            "new_password1": "Li-Na-Passw0rd-2026",
            "new_password2": "Li-Na-Passw0rd-2026",
        },
    )
    assert done.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("Li-Na-Passw0rd-2026")
    # One time only: the same link no longer sets a password.
    again = client.get(_link_path(mail.outbox[0]), follow=True)
    assert again.context["validlink"] is False
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert entry.data["initial_password"] is False
    assert entry.data["password_link_sent"] is True


def test_admin_may_not_give_an_initial_password(admin_user, organization):
    response = api_as(admin_user).post(
        "/api/v1/users/",
        {
            "username": "with.pw",
            "password": "Strong-Passw0rd-2026",
            "organization": organization.pk,
            "email": "with.pw@example.com",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["details"]
    assert not User.objects.filter(username="with.pw").exists()


def test_superuser_gives_an_initial_password_and_it_is_audited(
    superuser, organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_as(superuser).post(
            "/api/v1/users/",
            {
                "username": "script.user",
                "password": "Strong-Passw0rd-2026",
                "organization": organization.pk,
            },
            format="json",
        )
    assert callbacks  # the commit ran its callbacks; none of them mailed a link
    assert response.status_code == 201, response.json()
    user = User.objects.get(username="script.user")
    assert user.check_password("Strong-Passw0rd-2026")
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert entry.actor == superuser
    assert entry.data["initial_password"] is True
    assert mail.outbox == []


def test_admin_sends_a_set_password_link_instead(
    admin_user, submitter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(admin_user).post(
            f"/api/v1/users/{submitter.pk}/send-password-link/"
        )
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert User.objects.get(pk=submitter.pk).check_password(PASSWORD)
    assert AuditEntry.objects.filter(
        action="user.password_link_sent", actor=admin_user, object_id=str(submitter.pk)
    ).exists()


def test_admin_cannot_send_a_link_for_a_superuser(admin_user, superuser):
    response = api_as(admin_user).post(
        f"/api/v1/users/{superuser.pk}/send-password-link/"
    )
    assert response.status_code == 403
    assert mail.outbox == []


# --- Django admin ---------------------------------------------------------------


def test_staff_admin_cannot_change_users_in_django_admin(client, admin_user, superuser):
    client.force_login(admin_user)
    url = reverse("admin:accounts_user_change", args=[superuser.pk])
    response = client.post(url, {"username": superuser.username, "email": "x@x.cn"})
    assert response.status_code == 403
    password_url = reverse("admin:auth_user_password_change", args=[superuser.pk])
    response = client.post(
        password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=superuser.pk).check_password(PASSWORD)


def _user_form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "role": user.role,
        "organization": user.organization_id or "",
        "language": user.language,
        "phone": user.phone,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [],
        "user_permissions": [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_superuser_changes_in_django_admin_are_audited(client, superuser, submitter):
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[submitter.pk])
    response = client.post(url, _user_form(submitter, email="changed@example.com"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=submitter.pk).email == "changed@example.com"
    entry = AuditEntry.objects.get(action="user.update", object_id=str(submitter.pk))
    assert entry.actor == superuser
    assert entry.data["via"] == "django_admin"
    assert entry.data["before"] == {"email": submitter.email}
    assert entry.data["after"] == {"email": "changed@example.com"}


def test_superuser_password_set_in_django_admin_is_audited(
    client, superuser, submitter
):
    client.force_login(superuser)
    url = reverse("admin:auth_user_password_change", args=[submitter.pk])
    response = client.post(
        url,
        {
            "password1": "Set-By-Superuser-2026",
            "password2": "Set-By-Superuser-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=submitter.pk).check_password("Set-By-Superuser-2026")
    assert AuditEntry.objects.filter(
        action="user.password_set", actor=superuser, object_id=str(submitter.pk)
    ).exists()


def test_organization_changes_in_django_admin_are_audited(
    client, superuser, organization
):
    client.force_login(superuser)
    url = reverse("admin:accounts_organization_change", args=[organization.pk])
    response = client.post(
        url, {"name": "改名公司", "tax_id": organization.tax_id, "is_active": "on"}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(
        action="organization.update", object_id=str(organization.pk)
    )
    assert entry.data["after"] == {"name": "改名公司"}


def test_nobody_deletes_users_in_django_admin(client, superuser, submitter):
    client.force_login(superuser)
    url = reverse("admin:accounts_user_delete", args=[submitter.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=submitter.pk).exists()
