"""GET /api/v1/rules/ and PATCH /api/v1/rules/{code}/ (DESIGN.md section 7)."""

from __future__ import annotations

from typing import Any

import pytest

from invoiceportal.audit.models import AuditEntry
from reviews.checks.catalog import RULES
from reviews.models import Rule, RuleVersion
from reviews.rules import rules_ensure_defaults
from tests.conftest import api_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/rules/"
THRESHOLD = "/api/v1/rules/amount.threshold/"


def state() -> tuple[Any, ...]:
    return (
        list(
            Rule.objects.order_by("code").values_list(
                "code", "enabled", "outcome_on_fail", "params", "version"
            )
        ),
        RuleVersion.objects.count(),
        AuditEntry.objects.count(),
    )


def test_admin_lists_every_rule_with_the_contract_fields(admin_user) -> None:
    response = api_as(admin_user).get(LIST, {"page_size": 100})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(RULES)
    assert {"count", "next", "previous", "results"} <= set(body)
    rule = next(r for r in body["results"] if r["code"] == "amount.threshold")
    assert {"code", "enabled", "outcome_on_fail", "params", "version"} <= set(rule)
    assert rule["enabled"] is True
    assert rule["outcome_on_fail"] == "review"
    assert rule["params"] == {"threshold": "100000.00", "basis": "total_amount"}
    assert rule["version"] == 1
    assert rule["title"] == "大额发票"


def test_list_queries_do_not_grow_with_the_rules(
    admin_user, django_assert_num_queries
) -> None:
    rules_ensure_defaults()
    client = api_as(admin_user)
    client.get(LIST)
    for rule in Rule.objects.all():
        rule.changed_by = UserFactory()
        rule.save(update_fields=["changed_by"])

    with django_assert_num_queries(1):  # the rules, with who changed them
        response = client.get(LIST, {"page_size": 100})

    assert len(response.json()["results"]) == len(RULES)


def test_admin_reads_one_rule_by_its_dotted_code(admin_user) -> None:
    response = api_as(admin_user).get(THRESHOLD)
    assert response.status_code == 200
    assert response.json()["code"] == "amount.threshold"


@pytest.mark.parametrize("actor", ["submitter", "reviewer", "supervisor"])
def test_other_roles_get_403(request, actor) -> None:
    rules_ensure_defaults()
    before = state()
    client = api_as(request.getfixturevalue(actor))

    listed = client.get(LIST)
    patched = client.patch(
        THRESHOLD,
        {"params": {"threshold": "1"}, "change_note": "sneaky"},
        format="json",
    )

    assert (listed.status_code, patched.status_code) == (403, 403)
    assert set(patched.json()) == {"code", "message", "details"}
    assert state() == before


def test_anonymous_is_refused(api_client) -> None:
    assert api_client.get(LIST).status_code == 401


def test_patch_makes_a_new_version(admin_user) -> None:
    client = api_as(admin_user)

    response = client.patch(
        THRESHOLD,
        {
            "params": {"threshold": "5000"},
            "outcome_on_fail": "reject",
            "change_note": "Reject above 5,000.",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2
    assert body["outcome_on_fail"] == "reject"
    assert body["params"] == {"threshold": "5000", "basis": "total_amount"}
    assert body["changed_by"] == admin_user.username
    assert body["change_note"] == "Reject above 5,000."
    rule = Rule.objects.get(code="amount.threshold")
    assert rule.version == 2
    assert RuleVersion.objects.filter(rule=rule).count() == 2
    assert AuditEntry.objects.filter(action="rule.updated").count() == 1

    disabled = client.patch(
        THRESHOLD, {"enabled": False, "change_note": "Pause."}, format="json"
    )

    assert disabled.json()["enabled"] is False
    assert disabled.json()["version"] == 3
    assert disabled.json()["params"]["threshold"] == "5000"  # kept


@pytest.mark.parametrize("note", [None, "", "   "])
def test_patch_without_a_change_note_is_refused_and_changes_nothing(
    admin_user, note
) -> None:
    rules_ensure_defaults()
    before = state()
    payload: dict[str, Any] = {"params": {"threshold": "5000"}}
    if note is not None:
        payload["change_note"] = note

    response = api_as(admin_user).patch(THRESHOLD, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == "change_note_required"
    assert "change_note" in body["details"]
    assert state() == before


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"threshold": "-1"}, "threshold"),
        ({"threshold": "lots"}, "threshold"),
        ({"basis": "gross"}, "basis"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_patch_with_bad_params_is_refused_with_field_details(
    admin_user, params, param
) -> None:
    rules_ensure_defaults()
    before = state()

    response = api_as(admin_user).patch(
        THRESHOLD, {"params": params, "change_note": "Try."}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_params"
    assert [d["param"] for d in body["details"]["params"]] == [param]
    assert body["details"]["params"][0]["message"]
    assert state() == before


def test_patch_params_that_are_not_an_object_are_refused(admin_user) -> None:
    rules_ensure_defaults()
    before = state()

    response = api_as(admin_user).patch(
        THRESHOLD, {"params": [1, 2], "change_note": "Try."}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_params"
    assert state() == before


def test_patch_with_an_unknown_action_is_refused(admin_user) -> None:
    rules_ensure_defaults()
    before = state()

    response = api_as(admin_user).patch(
        THRESHOLD,
        {"outcome_on_fail": "explode", "change_note": "Try."},
        format="json",
    )

    assert response.status_code == 400
    assert "outcome_on_fail" in response.json()["details"]
    assert state() == before


def test_patch_that_changes_nothing_is_refused(admin_user) -> None:
    rules_ensure_defaults()
    before = state()

    response = api_as(admin_user).patch(
        THRESHOLD,
        {"params": {"threshold": "100000.00"}, "change_note": "Same."},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "no_change"
    assert state() == before


def test_unknown_rule_is_404(admin_user) -> None:
    client = api_as(admin_user)
    assert client.get("/api/v1/rules/nope/").status_code == 404
    response = client.patch(
        "/api/v1/rules/nope/", {"enabled": False, "change_note": "x"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("language", "text"), [("en", "must be at least 0"), ("zh-hans", "不能小于0")]
)
def test_error_messages_follow_the_requested_language(
    admin_user, language, text
) -> None:
    response = api_as(admin_user).patch(
        THRESHOLD,
        {"params": {"threshold": "-1"}, "change_note": "x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert text in response.json()["details"]["params"][0]["message"]
    assert text in response.json()["message"]


def test_put_and_delete_are_not_allowed(admin_user) -> None:
    client = api_as(admin_user)
    assert client.put(THRESHOLD, {}, format="json").status_code == 405
    assert client.delete(THRESHOLD).status_code == 405
