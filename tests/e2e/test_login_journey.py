import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.management.commands.seed_demo import DEMO_PASSWORD

from .conftest import sign_in

HOME = {
    "submitter": ("/invoices/", "我的发票", "My invoices"),
    "reviewer": ("/reviews/queue/", "审核队列", "Review queue"),
    "supervisor": ("/reviews/queue/", "审核队列", "Review queue"),
    "admin": ("/accounts/administration/", "系统管理", "Administration"),
}


@pytest.fixture
def demo_data(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.parametrize("username", list(HOME))
def test_each_demo_user_signs_in_lands_home_and_switches_language(
    page, demo_data, username
):
    path, zh_heading, en_heading = HOME[username]
    # The reviewer2 demo user prefers English; the four here use Chinese.
    sign_in(page, username, DEMO_PASSWORD)
    expect(page.locator("h1").first).to_have_text(zh_heading)
    assert page.url.endswith(path)
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    with page.expect_navigation():
        page.select_option("#language-form select", "en")
    expect(page.locator("h1").first).to_have_text(en_heading)
    assert page.url.endswith(path)

    # The choice is kept on the account: a new session comes back in English.
    page.context.clear_cookies()
    sign_in(page, username, DEMO_PASSWORD)
    expect(page.locator("h1").first).to_have_text(en_heading)


def test_wrong_password_shows_a_clear_message(page, demo_data):
    sign_in(page, "submitter", "wrong-password")
    assert "/accounts/login/" in page.url
    assert "用户名或密码错误" in page.locator("main").inner_text()


def test_submitter_opening_the_queue_sees_403_page(page, demo_data):
    sign_in(page, "submitter", DEMO_PASSWORD)
    response = page.goto(f"{page.base_url}/reviews/queue/")
    assert response.status == 403
    assert "您无权访问此页面" in page.content()
