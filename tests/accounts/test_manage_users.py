"""The administrator's users pages (issue 10) and the same rules through the API:
both call accounts.services, so each refusal is checked on both."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from invoiceportal.audit.models import AuditEntry
from tests.conftest import api_as
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
# The pages answer in Chinese by default (the users' language).
SELF_REFUSED = "不能取消自己的管理员角色或停用自己的账户"
LAST_REFUSED = "这是最后一位有效的管理员"


def _link_path(message) -> str:
    found = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def _signed_in(client, user):
    client.force_login(user)
    return client


def _browser_signed_in(user):
    """A real sign-in through the login page (a session like a browser's)."""
    from django.test import Client

    browser = Client()
    response = browser.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return browser


def _errors(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _edit_data(user: User, **changes) -> dict:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organization": user.organization_id or "",
        "role": user.role,
    }
    data.update(changes)
    return data


@pytest.fixture
def other_admin(db):
    return UserFactory(role=Role.ADMIN, organization=None)


# ------------------------------------------------------------------- listing
def test_list_filters_by_search_organization_role_and_status(
    client, admin_user, organization, other_organization
):
    alice = UserFactory(
        username="alice.zhang",
        role=Role.SUBMITTER,
        organization=organization,
        first_name="爱丽丝",
    )
    bob = UserFactory(
        username="bob.li", role=Role.REVIEWER, organization=other_organization
    )
    gone = UserFactory(username="carol.old", organization=organization, is_active=False)
    _signed_in(client, admin_user)
    url = reverse("accounts:manage_users")

    def names(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {u.username for u in response.context["page"]}

    assert {alice.username, bob.username, gone.username} <= names()
    assert names(q="爱丽丝") == {alice.username}
    assert names(organization=other_organization.pk) == {bob.username}
    assert names(role="reviewer") == {bob.username}
    assert names(organization=organization.pk, active="0") == {gone.username}
    assert gone.username not in names(active="1")


def test_list_shows_last_sign_in_and_failed_sign_ins(client, admin_user, submitter):
    client.post(
        reverse("accounts:login"), {"username": submitter.username, "password": "wrong"}
    )
    _signed_in(client, admin_user)
    response = client.get(reverse("accounts:manage_users"), {"q": submitter.username})
    row = response.context["page"][0]
    assert row.failed_sign_ins == 1
    # The admin just signed in through force_login: last_login is set and shown.
    response = client.get(reverse("accounts:manage_users"), {"q": admin_user.username})
    admin_user.refresh_from_db()
    assert admin_user.last_login is not None
    shown = timezone.localtime(admin_user.last_login).strftime("%Y-%m-%d %H:%M")
    assert shown in response.content.decode()


def test_list_is_bounded_to_one_page(client, admin_user, organization):
    from accounts.manage.selectors import PAGE_SIZE

    UserFactory.create_batch(PAGE_SIZE + 3, organization=organization)
    _signed_in(client, admin_user)
    response = client.get(reverse("accounts:manage_users"))
    page = response.context["page"]
    assert len(page.object_list) == PAGE_SIZE
    assert page.has_next()
    second = client.get(reverse("accounts:manage_users"), {"page": 2})
    assert len(second.context["page"].object_list) == page.paginator.count - PAGE_SIZE


def test_non_administrators_get_403(client, supervisor):
    _signed_in(client, supervisor)
    assert client.get(reverse("accounts:manage_users")).status_code == 403
    assert client.get(reverse("accounts:manage_user_new")).status_code == 403


def test_superuser_rows_have_no_edit_link_for_an_administrator(
    client, admin_user, superuser
):
    _signed_in(client, admin_user)
    response = client.get(reverse("accounts:manage_users"))
    edit = reverse("accounts:manage_user_edit", args=[superuser.pk])
    assert superuser.username in response.content.decode()
    assert edit not in response.content.decode()


def test_navigation_links_reach_the_pages(client, admin_user):
    _signed_in(client, admin_user)
    home = client.get(reverse("accounts:admin_home")).content.decode()
    for name in ("accounts:manage_users", "accounts:manage_organizations"):
        assert f'href="{reverse(name)}"' in home
        assert client.get(reverse(name)).status_code == 200


# ------------------------------------------------------------------- creating
def test_admin_creates_a_user_who_sets_a_password_by_the_link_and_signs_in(
    client, admin_user, organization, django_capture_on_commit_callbacks
):
    _signed_in(client, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:manage_user_new"),
            {
                "username": "zhao.lei",
                "first_name": "磊",
                "last_name": "赵",
                "email": "zhao.lei@example.com",
                "organization": organization.pk,
                "role": "submitter",
                "language": "zh-hans",
            },
        )
    user = User.objects.get(username="zhao.lei")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:manage_user_edit", args=[user.pk])
    assert not user.has_usable_password()
    assert user.organization == organization
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert entry.actor == admin_user and entry.data["password_link_sent"] is True
    assert [m.to for m in mail.outbox] == [["zhao.lei@example.com"]]

    client.logout()
    form_page = client.get(_link_path(mail.outbox[0]), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Zhao-Lei-2026-pw", "new_password2": "Zhao-Lei-2026-pw"},
    )
    signed = client.post(
        reverse("accounts:login"),
        {"username": "zhao.lei", "password": "Zhao-Lei-2026-pw"},
    )
    assert signed.status_code == 302
    assert client.get(reverse("invoices:list")).status_code == 200


def test_duplicate_username_is_refused_on_the_page_and_by_the_api(
    client, admin_user, submitter, organization
):
    before = User.objects.count()
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_new"),
        {
            "username": submitter.username.upper(),
            "email": "dup@example.com",
            "organization": organization.pk,
            "role": "submitter",
            "language": "zh-hans",
        },
    )
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    api = api_as(admin_user).post(
        "/api/v1/users/",
        {
            "username": submitter.username,
            "email": "dup@example.com",
            "organization": organization.pk,
        },
        format="json",
    )
    assert api.status_code == 400
    assert api.json()["code"] == "invalid"
    assert "username" in api.json()["details"]
    assert User.objects.count() == before


def test_a_submitter_without_organization_is_refused_with_a_field_error(
    client, admin_user
):
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_new"),
        {
            "username": "no.org",
            "email": "no.org@example.com",
            "role": "submitter",
            "language": "zh-hans",
        },
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not User.objects.filter(username="no.org").exists()


# -------------------------------------------------------------------- editing
def test_admin_edits_name_email_organization_and_role_with_audit(
    client, admin_user, submitter, review_centre
):
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_edit", args=[submitter.pk]),
        _edit_data(
            submitter,
            first_name="新名",
            email="new.address@example.com",
            organization=review_centre.pk,
            role="reviewer",
        ),
    )
    assert response.status_code == 302
    submitter.refresh_from_db()
    assert (submitter.first_name, submitter.email, submitter.role) == (
        "新名",
        "new.address@example.com",
        "reviewer",
    )
    assert submitter.organization == review_centre
    assert submitter.has_perm("accounts.review_invoice")
    entry = AuditEntry.objects.filter(
        action="user.update", object_id=str(submitter.pk)
    ).latest("seq")
    assert entry.actor == admin_user
    assert entry.data["after"]["role"] == "reviewer"
    assert entry.data["before"]["role"] == "submitter"


def test_admin_may_not_open_or_edit_a_superuser_page(client, admin_user, superuser):
    _signed_in(client, admin_user)
    url = reverse("accounts:manage_user_edit", args=[superuser.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _edit_data(superuser, first_name="x")).status_code == 403
    for name in (
        "accounts:manage_user_deactivate",
        "accounts:manage_user_unlock",
        "accounts:manage_user_password_link",
    ):
        assert client.post(reverse(name, args=[superuser.pk])).status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active and superuser.first_name != "x"
    assert not AuditEntry.objects.filter(object_id=str(superuser.pk)).exists()


def test_a_superuser_edits_a_superuser_on_the_page(client, superuser):
    other = UserFactory(role=Role.ADMIN, organization=None, is_superuser=True)
    _signed_in(client, superuser)
    url = reverse("accounts:manage_user_edit", args=[other.pk])
    response = client.post(url, _edit_data(other, first_name="改名"))
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.first_name == "改名"


def test_admin_may_not_demote_themself_on_the_page_or_by_the_api(
    client, admin_user, other_admin
):
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_edit", args=[admin_user.pk]),
        _edit_data(admin_user, role="supervisor"),
    )
    assert response.status_code == 200
    assert SELF_REFUSED in " ".join(response.context["form"].non_field_errors())
    api = api_as(admin_user).patch(
        f"/api/v1/users/{admin_user.pk}/", {"role": "reviewer"}, format="json"
    )
    assert api.status_code == 400
    assert set(api.json()) == {"code", "message", "details"}
    assert api.json()["code"] == "self_demotion"
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert not AuditEntry.objects.filter(
        action="user.update", object_id=str(admin_user.pk)
    ).exists()


def test_admin_may_not_deactivate_themself_on_the_page_or_by_the_api(
    client, admin_user, other_admin
):
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_deactivate", args=[admin_user.pk])
    )
    assert response.status_code == 302
    assert any(SELF_REFUSED in m for m in _errors(response))
    api = api_as(admin_user).patch(
        f"/api/v1/users/{admin_user.pk}/", {"is_active": False}, format="json"
    )
    assert api.status_code == 400
    assert api.json()["code"] == "self_demotion"
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_last_active_administrator_is_not_deactivated_or_demoted(
    client, admin_user, superuser
):
    """The superuser here is of the submitter role (a provisioning account): the
    admin is the only active administrator."""
    assert superuser.role != Role.ADMIN
    _signed_in(client, superuser)
    response = client.post(
        reverse("accounts:manage_user_deactivate", args=[admin_user.pk])
    )
    assert any(LAST_REFUSED in m for m in _errors(response))
    response = client.post(
        reverse("accounts:manage_user_edit", args=[admin_user.pk]),
        _edit_data(admin_user, role="supervisor"),
    )
    assert LAST_REFUSED in " ".join(response.context["form"].non_field_errors())
    for change in ({"is_active": False}, {"role": "reviewer"}):
        api = api_as(superuser).patch(
            f"/api/v1/users/{admin_user.pk}/", change, format="json"
        )
        assert api.status_code == 400
        assert api.json()["code"] == "last_administrator"
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == Role.ADMIN


def test_with_another_administrator_one_may_be_deactivated(
    client, admin_user, other_admin
):
    _signed_in(client, admin_user)
    client.post(reverse("accounts:manage_user_deactivate", args=[other_admin.pk]))
    other_admin.refresh_from_db()
    assert not other_admin.is_active


# ------------------------------------------------ deactivating and reactivating
def test_deactivation_ends_tokens_and_sessions_at_once(client, admin_user, submitter):
    from rest_framework.test import APIClient

    api = APIClient()
    token = api.post(
        TOKEN_URL, {"username": submitter.username, "password": PASSWORD}
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/invoices/").status_code == 200
    browser = _browser_signed_in(submitter)
    assert browser.get(reverse("accounts:profile")).status_code == 200

    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_deactivate", args=[submitter.pk])
    )
    assert response.status_code == 302
    assert api.get("/api/v1/invoices/").status_code == 401
    profile = browser.get(reverse("accounts:profile"))
    assert profile.status_code == 302
    assert profile["Location"].startswith(reverse("accounts:login"))
    entry = AuditEntry.objects.filter(
        action="user.update", object_id=str(submitter.pk)
    ).latest("seq")
    assert entry.actor == admin_user
    assert entry.data["after"] == {"is_active": False}
    assert entry.data["tokens_revoked"] == 1

    # Reactivated: the old session and token stay ended; a new sign-in works.
    client.post(reverse("accounts:manage_user_reactivate", args=[submitter.pk]))
    submitter.refresh_from_db()
    assert submitter.is_active
    assert api.get("/api/v1/invoices/").status_code == 401
    assert browser.get(reverse("accounts:profile")).status_code == 302
    browser = _browser_signed_in(submitter)
    assert browser.get(reverse("accounts:profile")).status_code == 200


def test_deactivation_by_the_api_ends_the_session_too(admin_user, submitter):

    browser = _browser_signed_in(submitter)
    response = api_as(admin_user).patch(
        f"/api/v1/users/{submitter.pk}/", {"is_active": False}, format="json"
    )
    assert response.status_code == 200
    assert browser.get(reverse("accounts:profile")).status_code == 302


# ------------------------------------------------------------ unlock and links
def _lock_out(client, user, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"), {"username": user.username, "password": "wrong"}
        )
    locked = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert locked.status_code == 429


def test_admin_unlocks_a_locked_out_user_on_the_page(
    client, admin_user, submitter, settings
):
    from django.test import Client

    browser = Client()
    _lock_out(browser, submitter, settings)
    _signed_in(client, admin_user)
    page = client.get(reverse("accounts:manage_user_edit", args=[submitter.pk]))
    assert page.context["failed_sign_ins"] >= settings.AXES_FAILURE_LIMIT
    assert reverse("accounts:manage_user_unlock", args=[submitter.pk]) in (
        page.content.decode()
    )
    response = client.post(reverse("accounts:manage_user_unlock", args=[submitter.pk]))
    assert response.status_code == 302
    signed = browser.post(
        reverse("accounts:login"),
        {"username": submitter.username, "password": PASSWORD},
    )
    assert signed.status_code == 302
    entry = AuditEntry.objects.get(action="user.unlock", object_id=str(submitter.pk))
    assert entry.actor == admin_user and entry.data["cleared"] >= 1


def test_admin_unlocks_by_the_api_but_not_a_superuser(
    admin_user, submitter, superuser, settings
):
    from django.test import Client

    _lock_out(Client(), submitter, settings)
    assert (
        api_as(admin_user).post(f"/api/v1/users/{superuser.pk}/unlock/").status_code
        == 403
    )
    response = api_as(admin_user).post(f"/api/v1/users/{submitter.pk}/unlock/")
    assert response.status_code == 204
    assert (
        Client()
        .post(
            reverse("accounts:login"),
            {"username": submitter.username, "password": PASSWORD},
        )
        .status_code
        == 302
    )


def test_send_a_set_password_link_from_the_page(
    client, admin_user, submitter, django_capture_on_commit_callbacks
):
    _signed_in(client, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:manage_user_password_link", args=[submitter.pk])
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[submitter.email]]
    assert _link_path(mail.outbox[0])
    submitter.refresh_from_db()
    assert submitter.check_password(PASSWORD)  # nothing was set by the admin
    assert AuditEntry.objects.filter(
        action="user.password_link_sent", actor=admin_user, object_id=str(submitter.pk)
    ).exists()


def test_no_link_for_a_deactivated_user(client, admin_user, organization):
    gone = UserFactory(organization=organization, is_active=False)
    _signed_in(client, admin_user)
    response = client.post(
        reverse("accounts:manage_user_password_link", args=[gone.pk])
    )
    assert any("该账户已停用" in m for m in _errors(response))
    assert mail.outbox == []


def test_user_pages_are_in_chinese_by_default(client, admin_user, submitter):
    _signed_in(client, admin_user)
    listing = client.get(reverse("accounts:manage_users")).content.decode()
    assert "上次登录" in listing and "新建用户" in listing
    edit = client.get(reverse("accounts:manage_user_edit", args=[submitter.pk]))
    assert "发送设置密码链接" in edit.content.decode()


def test_user_pages_follow_an_english_speaking_administrator(client):
    admin = UserFactory(role=Role.ADMIN, organization=None, language="en")
    _signed_in(client, admin)
    listing = client.get(
        reverse("accounts:manage_users"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Last sign-in" in listing and "New user" in listing


# ------------------------------------------------------------- Django admin
def _django_admin_form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "role": user.role,
        "organization": user.organization_id or "",
        "language": user.language,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_django_admin_keeps_the_same_rules(client, superuser, admin_user):
    """The superuser (submitter role) and one administrator: neither the last
    administrator nor the superuser themself can be deactivated there."""
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    response = client.post(url, _django_admin_form(admin_user, is_active=""))
    assert response.status_code == 200
    assert LAST_REFUSED in str(response.context["adminform"].form.non_field_errors())
    own = reverse("admin:accounts_user_change", args=[superuser.pk])
    response = client.post(own, _django_admin_form(superuser, is_active=""))
    assert response.status_code == 200
    assert SELF_REFUSED in str(response.context["adminform"].form.non_field_errors())
    admin_user.refresh_from_db()
    superuser.refresh_from_db()
    assert admin_user.is_active and superuser.is_active


def test_deactivation_in_django_admin_ends_the_session(client, superuser, submitter):
    browser = _browser_signed_in(submitter)
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[submitter.pk])
    response = client.post(url, _django_admin_form(submitter, is_active=""))
    assert response.status_code == 302
    submitter.refresh_from_db()
    assert not submitter.is_active
    submitter.is_active = True
    submitter.save(update_fields=["is_active"])  # even once active again
    assert browser.get(reverse("accounts:profile")).status_code == 302


def test_api_lists_users_with_search_filters_and_last_sign_in(admin_user, organization):
    wang = UserFactory(username="wang.wu", organization=organization, is_active=False)
    UserFactory(username="someone.else", organization=organization)
    response = api_as(admin_user).get(
        "/api/v1/users/", {"search": "wang", "is_active": "false"}
    )
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["username"] for r in rows] == [wang.username]
    assert rows[0]["last_login"] is None
    assert "password" not in rows[0]
