import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def test_login_page_is_in_chinese_by_default(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body
    assert 'lang="zh-CN"' in body


def test_login_page_in_english_when_the_browser_asks(client):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.SUBMITTER, "invoices:list"),
        (Role.REVIEWER, "reviews:queue"),
        (Role.SUPERVISOR, "reviews:queue"),
        (Role.ADMIN, "accounts:admin_home"),
    ],
)
def test_each_role_lands_on_its_home_page(client, organization, role, landing):
    user = UserFactory(role=role, organization=organization)
    response = login(client, user.username)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == reverse(landing)
    assert client.get(home["Location"]).status_code == 200


def test_superuser_is_an_admin_on_pages(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:admin_home")
    assert client.get(reverse("accounts:admin_home")).status_code == 200
    assert client.get(reverse("reviews:queue")).status_code == 200


def test_wrong_password_says_so_and_keeps_the_user_out(client, submitter):
    response = login(client, submitter.username, "not-the-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_username_from_that_address(
    client, submitter, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, submitter.username, "wrong")
    # Even the right password is refused while locked, with a clear message.
    response = login(client, submitter.username)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_from_one_address_lock_that_address(
    client, organization, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    users = UserFactory.create_batch(9, organization=organization)
    for user in users[:8]:
        login(client, user.username, "wrong", REMOTE_ADDR="10.1.1.1")
    blocked = login(client, users[8].username, REMOTE_ADDR="10.1.1.1")
    assert blocked.status_code == 429
    elsewhere = login(client, users[8].username, REMOTE_ADDR="10.2.2.2")
    assert elsewhere.status_code == 302


@pytest.mark.parametrize("url_name", ["accounts:admin_home", "reviews:queue"])
def test_submitter_gets_403_on_staff_pages(client, submitter, url_name):
    client.force_login(submitter)
    response = client.get(reverse(url_name))
    assert response.status_code == 403
    assert "您无权访问此页面" in response.content.decode()


def test_reviewer_gets_403_on_submitter_and_admin_pages(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("invoices:list")).status_code == 403
    assert client.get(reverse("accounts:admin_home")).status_code == 403


def test_submitter_cannot_enter_django_admin(client, submitter):
    client.force_login(submitter)
    response = client.get("/django-admin/accounts/user/")
    assert response.status_code == 302
    assert "/django-admin/login/" in response["Location"]


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("invoices:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_navigation_shows_only_what_the_role_may_open(client, submitter, admin_user):
    client.force_login(submitter)
    body = client.get(reverse("invoices:list")).content.decode()
    assert 'data-nav="invoices"' in body
    assert 'data-nav="queue"' not in body
    assert 'data-nav="administration"' not in body
    client.force_login(admin_user)
    body = client.get(reverse("accounts:admin_home")).content.decode()
    assert 'data-nav="administration"' in body
    assert 'data-nav="invoices"' not in body


def test_logout_needs_post_and_ends_the_session(client, submitter):
    client.force_login(submitter)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("invoices:list")).status_code == 302


def test_profile_language_choice_is_saved_and_used(client, submitter):
    client.force_login(submitter)
    response = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Li",
            "last_name": "Wei",
            "email": "li.wei@example.com",
            "phone": "13800000000",
            "language": "en",
        },
    )
    assert response.status_code == 302
    submitter.refresh_from_db()
    assert submitter.language == "en"
    assert submitter.email == "li.wei@example.com"
    page = client.get(reverse("invoices:list")).content.decode()
    assert "My invoices" in page


def test_profile_rejects_a_bad_email_and_changes_nothing(client, submitter):
    client.force_login(submitter)
    before = submitter.email
    response = client.post(
        reverse("accounts:profile"),
        {"email": "not-an-email", "language": "en", "first_name": "", "last_name": ""},
    )
    assert response.status_code == 200
    assert "请输入合法的邮件地址" in response.content.decode()
    submitter.refresh_from_db()
    assert submitter.email == before
    assert submitter.language == "zh-hans"


def test_language_switch_is_remembered_for_the_account(client, submitter):
    client.force_login(submitter)
    client.post(reverse("accounts:set_language"), {"language": "en", "next": "/"})
    submitter.refresh_from_db()
    assert submitter.language == "en"


def test_password_change(client, submitter):
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
    submitter.refresh_from_db()
    assert submitter.check_password("a-new-Passw0rd-2026")


def test_password_reset_by_email(client, submitter):
    response = client.post(
        reverse("accounts:password_reset"), {"email": submitter.email}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(
        r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body
    )
    assert link, mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {
            "new_password1": "reset-Passw0rd-2026",
            "new_password2": "reset-Passw0rd-2026",
        },
    )
    assert done.status_code == 302
    assert User.objects.get(pk=submitter.pk).check_password("reset-Passw0rd-2026")


def test_password_reset_for_unknown_email_reveals_nothing(client):
    response = client.post(
        reverse("accounts:password_reset"), {"email": "nobody@example.com"}
    )
    assert response.status_code == 302
    assert mail.outbox == []
