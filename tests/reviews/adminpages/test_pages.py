"""The admin pages, walked as an administrator who is not a superuser: every page
answers, forms show their errors, the calendar import previews before it stores,
and the banner shows from December 1 while next year is missing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reviews.models import (
    CannedReply,
    Holiday,
    MakeupWorkday,
    RejectionReason,
    SLAPolicy,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CSV_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休\n"


@pytest.fixture
def admin_client(client, admin_user):
    assert not admin_user.is_superuser
    client.force_login(admin_user)
    return client


@pytest.fixture
def december(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 1, 9, tzinfo=SHANGHAI), tick=False)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("reviews:admin_sla", {}),
        ("reviews:admin_sla_edit", {"priority": 0}),
        ("reviews:admin_calendar", {}),
        ("reviews:admin_calendar_import_csv", {}),
        ("reviews:admin_calendar_import_package", {}),
        ("reviews:admin_reasons", {}),
        ("reviews:admin_reason_add", {}),
        ("reviews:admin_reason_edit", {"reason_code": "other"}),
        ("reviews:admin_replies", {}),
        ("reviews:admin_reply_add", {}),
        ("reviews:admin_reply_edit", {"reply_code": "contract"}),
    ],
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_answers_the_administrator(
    admin_client, name, kwargs, language
) -> None:
    admin_client.cookies["django_language"] = language
    response = admin_client.get(
        reverse(name, kwargs=kwargs), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200


def test_a_supervisor_is_refused(client, supervisor) -> None:
    client.force_login(supervisor)
    assert client.get(reverse("reviews:admin_sla")).status_code == 403


def test_a_zero_target_is_shown_on_the_form_and_nothing_saved(admin_client) -> None:
    url = reverse("reviews:admin_sla_edit", kwargs={"priority": 2})
    response = admin_client.post(
        url,
        {"name": "紧急", "target": "0", "unit": "hours", "warn_at_percent": "75"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["target"]
    assert SLAPolicy.objects.get(priority=2).target_business_minutes == 240

    response = admin_client.post(
        url,
        {"name": "紧急", "target": "3", "unit": "hours", "warn_at_percent": "80"},
    )
    assert response.status_code == 302
    policy = SLAPolicy.objects.get(priority=2)
    assert (policy.target_business_minutes, policy.warn_at_percent) == (180, 80)


def test_a_csv_is_previewed_then_imported_on_confirmation(admin_client) -> None:
    url = reverse("reviews:admin_calendar_import_csv")
    preview = admin_client.post(
        url, {"file": SimpleUploadedFile("2027.csv", CSV_2027.encode())}
    )
    assert preview.status_code == 200
    assert preview.templates[0].name == "reviews/admin/calendar_preview.html"
    assert not Holiday.objects.filter(date__year=2027).exists()
    plan = preview.context["plan"]
    assert (plan.holidays, plan.workdays) == (1, 1)

    done = admin_client.post(url, {"csv_text": preview.context["confirm"]["csv_text"]})
    assert done.status_code == 302
    assert done["Location"].endswith("?year=2027")
    assert Holiday.objects.filter(date=dt.date(2027, 1, 1)).exists()
    assert MakeupWorkday.objects.filter(date=dt.date(2027, 2, 7)).exists()


def test_a_bad_csv_lists_its_lines_on_the_page(admin_client) -> None:
    text = "2027-01-01,holiday,元旦\n2027-01-01,workday,补班\n"
    response = admin_client.post(
        reverse("reviews:admin_calendar_import_csv"),
        {"file": SimpleUploadedFile("bad.csv", text.encode())},
    )
    assert response.status_code == 200
    assert [p.line for p in response.context["problems"]] == [2]
    assert b'data-line="2"' in response.content
    assert not Holiday.objects.filter(date__year=2027).exists()


def test_the_package_preview_and_a_year_it_lacks(admin_client) -> None:
    url = reverse("reviews:admin_calendar_import_package")
    missing = admin_client.get(url, {"year": 2027})
    assert missing.status_code == 200
    assert "2027" in missing.context["error"]
    preview = admin_client.get(url, {"year": 2026})
    assert preview.templates[0].name == "reviews/admin/calendar_preview.html"
    done = admin_client.post(url, {"year": 2026, "confirm": "1"})
    assert done.status_code == 302


def test_the_banner_shows_from_december_on_calendar_and_board(
    admin_client, client, supervisor, december
) -> None:
    page = admin_client.get(reverse("reviews:admin_calendar"))
    assert b'data-missing-year="2027"' in page.content
    client.force_login(supervisor)
    board = client.get(reverse("reviews:board"))
    assert b'data-missing-year="2027"' in board.content

    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    assert b"calendar-banner" not in client.get(reverse("reviews:board")).content


def test_reasons_and_replies_are_added_and_edited(admin_client) -> None:
    added = admin_client.post(
        reverse("reviews:admin_reason_add"),
        {
            "code": "no_contract",
            "label_zh": "缺少合同",
            "label_en": "No contract",
            "comment_required": "on",
            "is_active": "on",
            "position": "5",
        },
    )
    assert added.status_code == 302
    assert RejectionReason.objects.get(code="no_contract").comment_required

    duplicate = admin_client.post(
        reverse("reviews:admin_reason_add"),
        {"code": "no_contract", "label_zh": "x", "label_en": "x", "position": "0"},
    )
    assert duplicate.status_code == 200
    assert duplicate.context["form"].errors["code"]

    edited = admin_client.post(
        reverse("reviews:admin_reply_edit", kwargs={"reply_code": "contract"}),
        {
            "title_zh": "请补充合同",
            "title_en": "Contract needed",
            "body_zh": "请上传合同。",
            "body_en": "Please upload the contract.",
            "position": "0",
        },
    )
    assert edited.status_code == 302
    reply = CannedReply.objects.get(code="contract")
    assert (reply.title_en, reply.is_active) == ("Contract needed", False)
