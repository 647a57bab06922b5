"""Admins own the rules: defaults seeded once, every change a new version with its
history and an audit entry; bad changes refused without changing anything."""

from __future__ import annotations

from typing import Any

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from reviews.checks.base import Action
from reviews.checks.catalog import RULES, default_rules
from reviews.models import Rule, RuleVersion
from reviews.rules import rule_update, rules_active, rules_ensure_defaults

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[Any, ...]:
    """Everything a refused change must leave as it was."""
    return (
        list(
            Rule.objects.order_by("code").values_list(
                "code", "enabled", "outcome_on_fail", "params", "version", "change_note"
            )
        ),
        RuleVersion.objects.count(),
        AuditEntry.objects.count(),
    )


def test_defaults_are_seeded_by_the_migration_once_at_version_1() -> None:
    assert rules_ensure_defaults() == 0  # migration 0004 stored them all

    assert Rule.objects.count() == len(RULES)
    assert set(Rule.objects.values_list("version", flat=True)) == {1}
    assert RuleVersion.objects.filter(version=1).count() == len(RULES)
    rule = Rule.objects.get(code="parties.buyer_tax_id")
    assert (rule.enabled, rule.outcome_on_fail) == (True, "reject")
    assert rules_active() == default_rules()


def test_reading_the_rules_never_writes(django_assert_num_queries) -> None:
    """Issue 14: a rule the database lacks (a catalog newer than the data) runs with
    its catalog default; reading creates no row."""
    RuleVersion.objects.filter(rule__code="audit.sample").delete()
    Rule.objects.filter(code="audit.sample").delete()

    with django_assert_num_queries(1):  # one SELECT, no INSERT
        active = rules_active()

    assert active["audit.sample"] == default_rules()["audit.sample"]
    assert not Rule.objects.filter(code="audit.sample").exists()


def test_a_missing_default_is_added_back_without_touching_the_others(
    admin_user,
) -> None:
    rules_ensure_defaults()
    rule_update(
        actor=admin_user,
        code="dates.max_age",
        params={"max_age_days": 180},
        change_note="Expense policy 2024: 180 days.",
    )
    # As if audit.sample had been added to the catalog after the first seeding.
    RuleVersion.objects.filter(rule__code="audit.sample").delete()
    Rule.objects.filter(code="audit.sample").delete()

    assert rules_ensure_defaults() == 1

    assert Rule.objects.get(code="audit.sample").version == 1
    assert Rule.objects.get(code="dates.max_age").params == {"max_age_days": 180}


def test_rule_update_makes_a_new_version_with_history_and_audit(admin_user) -> None:
    rule = rule_update(
        actor=admin_user,
        code="amount.threshold",
        outcome_on_fail="reject",
        params={"threshold": 50000},
        change_note="Finance: nothing above 50k without a contract.",
    )

    rule.refresh_from_db()
    assert rule.version == 2
    assert rule.outcome_on_fail == "reject"
    assert rule.params == {"threshold": "50000"}  # validated and normalised
    assert rule.changed_by == admin_user
    assert rule.change_note == "Finance: nothing above 50k without a contract."
    history = list(rule.versions.order_by("version"))
    assert [(v.version, v.outcome_on_fail) for v in history] == [
        (1, "review"),
        (2, "reject"),
    ]
    assert history[0].params == {"threshold": "100000.00", "basis": "total_amount"}
    assert history[1].changed_by == admin_user
    entry = AuditEntry.objects.get(action="rule.updated")
    assert entry.actor == admin_user
    assert entry.object_id == str(rule.pk)
    assert entry.data["version"] == 2
    assert entry.data["changes"]["outcome_on_fail"] == {
        "from": "review",
        "to": "reject",
    }
    assert rules_active()["amount.threshold"].outcome_on_fail is Action.REJECT
    assert rules_active()["amount.threshold"].version == 2


def test_each_change_bumps_the_version(admin_user) -> None:
    for enabled in (False, True, False):
        rule = rule_update(
            actor=admin_user,
            code="sellers.watchlist",
            enabled=enabled,
            change_note=f"enabled={enabled}",
        )
    assert rule.version == 4
    assert not rules_active()["sellers.watchlist"].enabled
    assert rule.versions.count() == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"threshold": "a lot"}, "threshold"),
        ({"threshold": -1}, "threshold"),
        ({"basis": "tax_amount"}, "basis"),
        ({"limit": 5}, "limit"),
        (["threshold", 5], "JSON"),
    ],
)
def test_rule_update_refuses_bad_params_and_changes_nothing(
    admin_user, params: Any, expected: str
) -> None:
    rules_ensure_defaults()
    before = snapshot()

    with pytest.raises(ApplicationError) as raised:
        rule_update(
            actor=admin_user,
            code="amount.threshold",
            params=params,
            change_note="Trying a bad value.",
        )

    assert raised.value.code == "invalid_params"
    assert expected in str(raised.value.message)
    assert expected in str(raised.value.details)
    assert snapshot() == before


@pytest.mark.parametrize("note", ["", "   "])
def test_rule_update_refuses_an_empty_change_note(admin_user, note: str) -> None:
    rules_ensure_defaults()
    before = snapshot()

    with pytest.raises(ApplicationError) as raised:
        rule_update(
            actor=admin_user, code="amount.threshold", enabled=False, change_note=note
        )

    assert raised.value.code == "change_note_required"
    assert snapshot() == before


def test_rule_update_refuses_other_bad_requests_and_changes_nothing(
    admin_user, reviewer
) -> None:
    rules_ensure_defaults()
    before = snapshot()

    with pytest.raises(PermissionDeniedError):
        rule_update(
            actor=reviewer, code="amount.threshold", enabled=False, change_note="x"
        )
    with pytest.raises(NotFoundError):
        rule_update(actor=admin_user, code="no.such", enabled=False, change_note="x")
    with pytest.raises(ApplicationError) as raised:
        rule_update(
            actor=admin_user,
            code="amount.threshold",
            outcome_on_fail="escalate",
            change_note="x",
        )
    assert raised.value.code == "invalid_outcome"
    with pytest.raises(ApplicationError) as raised:
        rule_update(
            actor=admin_user, code="amount.threshold", enabled=True, change_note="x"
        )
    assert raised.value.code == "no_change"

    assert snapshot() == before


def test_the_error_is_in_the_users_language(admin_user, settings) -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ApplicationError) as zh:
        rule_update(
            actor=admin_user,
            code="dates.max_age",
            params={"max_age_days": 0},
            change_note="x",
        )
    with translation.override("en"), pytest.raises(ApplicationError) as en:
        rule_update(
            actor=admin_user,
            code="dates.max_age",
            params={"max_age_days": 0},
            change_note="x",
        )
    assert "不能小于1" in zh.value.details["params"][0]["message"]
    assert "must be at least 1" in en.value.details["params"][0]["message"]
    assert "must be at least 1" in str(en.value.message)


@pytest.mark.django_db
def test_the_sweep_is_scheduled_for_the_worker() -> None:
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="screening-sweep")
    assert schedule.func == "reviews.tasks.screen_sweep_task"
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.repeats == -1
