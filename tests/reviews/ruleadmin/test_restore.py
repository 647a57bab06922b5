"""Restoring an earlier rule version from its history: a new version with the old
settings and a change note, audited in the same transaction; refused, changing
nothing, without a note or with nothing to restore."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_verify_chain
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from reviews.models import Rule, RuleVersion
from reviews.ruleadmin.services import rule_version_restore
from reviews.rules import rule_update, rules_active, rules_ensure_defaults

pytestmark = pytest.mark.django_db

THRESHOLD = "amount.threshold"


def state(code: str = THRESHOLD) -> tuple[Any, ...]:
    rule = Rule.objects.get(code=code)
    return (
        (rule.version, rule.enabled, rule.outcome_on_fail, rule.params),
        RuleVersion.objects.filter(rule__code=code).count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def changed(english_admin: Any) -> Any:
    """Version 2 raises the threshold; version 3 disables the rule and rejects."""
    rules_ensure_defaults()
    rule_update(
        actor=english_admin,
        code=THRESHOLD,
        params={"threshold": "50000"},
        change_note="Lower threshold for Q3.",
    )
    rule_update(
        actor=english_admin,
        code=THRESHOLD,
        enabled=False,
        outcome_on_fail="reject",
        change_note="Paused during the audit.",
    )
    return english_admin


def test_restore_makes_a_new_version_with_the_old_settings(changed: Any) -> None:
    v2 = RuleVersion.objects.get(rule__code=THRESHOLD, version=2)
    rule = rule_version_restore(
        actor=changed, code=THRESHOLD, version=2, change_note="Audit done."
    )
    assert rule.version == 4
    assert (rule.enabled, rule.outcome_on_fail, rule.params) == (
        v2.enabled,
        v2.outcome_on_fail,
        v2.params,
    )
    assert rule.change_note == "Audit done." and rule.changed_by == changed
    v4 = RuleVersion.objects.get(rule__code=THRESHOLD, version=4)
    assert (v4.enabled, v4.outcome_on_fail, v4.params, v4.change_note) == (
        True,
        "review",
        v2.params,
        "Audit done.",
    )
    # The runner uses the restored settings.
    config = rules_active()[THRESHOLD]
    assert config.enabled and Decimal(str(config.params["threshold"])) == 50000
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "rule.restored" and entry.actor_id == changed.pk
    assert entry.object_id == str(rule.pk)
    assert entry.data["restored_version"] == 2 and entry.data["version"] == 4
    assert entry.data["note"] == "Audit done."
    assert entry.data["changes"]["enabled"] == {"from": False, "to": True}
    assert audit_verify_chain().ok
    # Every version stays in the history.
    assert list(
        RuleVersion.objects.filter(rule__code=THRESHOLD).values_list(
            "version", flat=True
        )
    ) == [1, 2, 3, 4]


def test_restore_of_version_one_brings_back_the_catalog_default(changed: Any) -> None:
    rule = rule_version_restore(
        actor=changed, code=THRESHOLD, version=1, change_note="Back to default."
    )
    v1 = RuleVersion.objects.get(rule__code=THRESHOLD, version=1)
    assert (rule.enabled, rule.outcome_on_fail, rule.params) == (
        v1.enabled,
        v1.outcome_on_fail,
        v1.params,
    )


@pytest.mark.parametrize("note", ["", "   "])
def test_restore_without_a_note_is_refused(changed: Any, note: str) -> None:
    before = state()
    with pytest.raises(ApplicationError) as refused:
        rule_version_restore(actor=changed, code=THRESHOLD, version=2, change_note=note)
    assert refused.value.code == "change_note_required"
    assert state() == before


def test_restore_of_the_current_settings_is_refused(changed: Any) -> None:
    before = state()
    with pytest.raises(ApplicationError) as refused:
        rule_version_restore(actor=changed, code=THRESHOLD, version=3, change_note="x")
    assert refused.value.code == "no_change"
    assert state() == before


def test_unknown_rule_or_version_is_refused(changed: Any) -> None:
    before = state()
    with pytest.raises(NotFoundError):
        rule_version_restore(actor=changed, code=THRESHOLD, version=9, change_note="x")
    with pytest.raises(NotFoundError):
        rule_version_restore(actor=changed, code="no.such", version=1, change_note="x")
    assert state() == before


def test_only_administrators_restore(changed: Any, supervisor: Any) -> None:
    before = state()
    with pytest.raises(PermissionDeniedError):
        rule_version_restore(
            actor=supervisor, code=THRESHOLD, version=2, change_note="x"
        )
    assert state() == before


def test_parameters_the_catalog_no_longer_accepts_are_refused(changed: Any) -> None:
    # A version saved under an older catalog: a parameter out of today's bounds.
    rule = Rule.objects.get(code=THRESHOLD)
    RuleVersion.objects.filter(rule=rule, version=2).update(params={"threshold": "-5"})
    before = state()
    with pytest.raises(ApplicationError) as refused:
        rule_version_restore(actor=changed, code=THRESHOLD, version=2, change_note="x")
    assert refused.value.code == "invalid_params"
    assert state() == before


def test_history_page_restores_with_a_note(client: Any, changed: Any) -> None:
    client.force_login(changed)
    url = reverse("reviews:rule_history", args=[THRESHOLD])
    page = client.get(url).content.decode()
    # The button on every version but the current one.
    assert page.count('name="version" value=') == 2
    assert 'action="/reviews/rules/amount.threshold/restore/"' in page
    response = client.post(
        reverse("reviews:rule_restore", args=[THRESHOLD]),
        {"version": "2", "change_note": "Audit done."},
        follow=True,
    )
    body = response.content.decode()
    assert "Version 2 restored as version 4." in body
    assert Rule.objects.get(code=THRESHOLD).version == 4
    assert 'data-version="4"' in body and "Audit done." in body


def test_history_page_refuses_without_a_note_and_changes_nothing(
    client: Any, changed: Any
) -> None:
    client.force_login(changed)
    before = state()
    response = client.post(
        reverse("reviews:rule_restore", args=[THRESHOLD]),
        {"version": "2", "change_note": ""},
        follow=True,
    )
    assert "a change note is required" in response.content.decode()
    assert state() == before
    response = client.post(
        reverse("reviews:rule_restore", args=[THRESHOLD]),
        {"change_note": "x"},
        follow=True,
    )
    assert "Choose the version to restore." in response.content.decode()
    assert state() == before


def test_other_roles_cannot_restore(client: Any, changed: Any, reviewer: Any) -> None:
    client.force_login(reviewer)
    before = state()
    response = client.post(
        reverse("reviews:rule_restore", args=[THRESHOLD]),
        {"version": "2", "change_note": "x"},
    )
    assert response.status_code == 403
    assert state() == before
    assert (
        client.get(reverse("reviews:rule_restore", args=[THRESHOLD])).status_code == 405
    )
