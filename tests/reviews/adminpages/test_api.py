"""The admin API: SLA policies, calendar days with the year filter and the CSV
import, rejection reasons and canned replies; errors in the usual shape."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from invoiceportal.audit.models import AuditEntry
from reviews.models import CannedReply, Holiday, RejectionReason, SLAPolicy
from tests.conftest import api_as


def test_sla_policies_are_listed_and_a_zero_target_refused(admin_user) -> None:
    client = api_as(admin_user)
    listed = client.get("/api/v1/sla-policies/").json()
    assert [p["priority"] for p in listed["results"]] == [2, 1, 0]

    refused = client.patch(
        "/api/v1/sla-policies/2/", {"target_business_minutes": 0}, format="json"
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "sla_target_not_positive"
    assert set(body) == {"code", "message", "details"}
    assert "target_business_minutes" in body["details"]
    assert SLAPolicy.objects.get(priority=2).target_business_minutes == 240

    changed = client.patch(
        "/api/v1/sla-policies/2/",
        {"target_business_minutes": 180, "warn_at_percent": 50},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["target_business_minutes"] == 180
    assert changed.json()["changed_by"] == admin_user.username
    assert AuditEntry.objects.filter(action="sla_policy.changed").count() == 1


def test_the_api_is_for_administrators_only(supervisor, reviewer) -> None:
    for user in (supervisor, reviewer):
        client = api_as(user)
        for url in (
            "/api/v1/sla-policies/",
            "/api/v1/calendar/days/?year=2026",
            "/api/v1/rejection-reasons/",
            "/api/v1/canned-replies/",
        ):
            response = client.get(url)
            assert response.status_code == 403, url
            assert response.json()["code"] == "permission_denied"


def test_calendar_days_are_filtered_by_year(admin_user) -> None:
    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    days = api_as(admin_user).get("/api/v1/calendar/days/?year=2027").json()
    assert days == [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]
    all_days = api_as(admin_user).get("/api/v1/calendar/days/").json()
    assert {d["date"][:4] for d in all_days} == {"2026", "2027"}
    bad = api_as(admin_user).get("/api/v1/calendar/days/?year=next")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_a_csv_import_previews_then_imports(admin_user) -> None:
    client = api_as(admin_user)
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休\n"
    preview = client.post(
        "/api/v1/calendar/days/import/",
        {"file": SimpleUploadedFile("2027.csv", text.encode()), "dry_run": "true"},
        format="multipart",
    )
    assert preview.status_code == 200
    assert preview.json()["dry_run"] is True
    assert [d["date"] for d in preview.json()["added"]] == ["2027-01-01", "2027-02-07"]
    assert not Holiday.objects.filter(date__year=2027).exists()

    done = client.post("/api/v1/calendar/days/import/", {"csv": text}, format="json")
    assert done.status_code == 200
    assert (done.json()["holidays"], done.json()["workdays"]) == (1, 1)
    assert Holiday.objects.filter(date=dt.date(2027, 1, 1)).exists()


def test_a_bad_csv_is_refused_by_line_in_the_usual_shape(admin_user) -> None:
    text = "2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n2027-01-01,holiday,元旦\n"
    response = api_as(admin_user).post(
        "/api/v1/calendar/days/import/", {"csv": text}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_calendar_csv"
    assert [item["line"] for item in body["details"]["lines"]] == [2, 3]
    assert not Holiday.objects.filter(date__year=2027).exists()


def test_loading_a_year_the_package_lacks_says_so(admin_user) -> None:
    response = api_as(admin_user).post(
        "/api/v1/calendar/days/load/", {"year": 2027}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "year_not_in_package"
    assert response.json()["details"]["last"] == 2026


def test_rejection_reasons_are_created_retired_and_duplicates_refused(
    admin_user,
) -> None:
    client = api_as(admin_user)
    created = client.post(
        "/api/v1/rejection-reasons/",
        {
            "code": "no_contract",
            "label_zh": "缺少合同",
            "label_en": "No contract",
            "comment_required": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["comment_required"] is True

    duplicate = client.post(
        "/api/v1/rejection-reasons/",
        {"code": "no_contract", "label_zh": "再次", "label_en": "Again"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "duplicate_code"
    assert "code" in duplicate.json()["details"]

    retired = client.patch(
        "/api/v1/rejection-reasons/no_contract/", {"is_active": False}, format="json"
    )
    assert retired.status_code == 200
    assert RejectionReason.objects.get(code="no_contract").is_active is False
    assert AuditEntry.objects.filter(action="rejection_reason.retired").count() == 1


def test_canned_replies_are_listed_and_edited(admin_user) -> None:
    client = api_as(admin_user)
    codes = [r["code"] for r in client.get("/api/v1/canned-replies/").json()["results"]]
    assert "contract" in codes
    changed = client.patch(
        "/api/v1/canned-replies/contract/",
        {"body_en": "Please upload the signed contract."},
        format="json",
    )
    assert changed.status_code == 200
    assert CannedReply.objects.get(code="contract").body_en == (
        "Please upload the signed contract."
    )
    empty = client.patch(
        "/api/v1/canned-replies/contract/", {"body_zh": "  "}, format="json"
    )
    assert empty.status_code == 400
    assert empty.json()["code"] in ("invalid", "required")
