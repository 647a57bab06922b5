"""Screening rules as admins configure them: seeding, changing, reading for the runner.

Every change makes a new version, keeps the old one in ``RuleVersion`` and writes an
audit entry, in one transaction. Results store the version they ran with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.common.language import is_english

from .checks.base import Action
from .checks.catalog import RULES_BY_CODE, RuleConfig, default_rules
from .models import Rule, RuleAction, RuleVersion

DEFAULT_NOTE = "Catalog default"


def localized(en: str, zh: str) -> str:
    """The catalog's text in the active language (Chinese unless English)."""
    english = is_english()
    return (en or zh) if english else (zh or en)


def seed_catalog_rules(get_model: Callable | None = None) -> int:
    """Store the catalog's rules missing from the database, at version 1 with their
    default configuration, with their history row. For migrations (historical
    models through ``get_model``), ``seed_demo`` and admin writes; never called by a
    read. Returns how many rules it created."""
    rule_model = get_model("reviews", "Rule") if get_model else Rule
    version_model = get_model("reviews", "RuleVersion") if get_model else RuleVersion
    existing = set(rule_model.objects.values_list("code", flat=True))
    missing = {
        code: config for code, config in default_rules().items() if code not in existing
    }
    if not missing:
        return 0
    now = timezone.now()
    with transaction.atomic():
        rule_model.objects.bulk_create(
            [
                rule_model(
                    code=code,
                    enabled=config.enabled,
                    outcome_on_fail=str(config.outcome_on_fail),
                    params=dict(config.params),
                    version=1,
                    change_note=DEFAULT_NOTE,
                    changed_at=now,
                )
                for code, config in missing.items()
            ],
            ignore_conflicts=True,
        )
        # Another process may have created some of them first: history for all of
        # the version-1 rows that lack it.
        seeded = rule_model.objects.filter(code__in=missing, version=1).exclude(
            versions__version=1
        )
        version_model.objects.bulk_create(
            [
                version_model(
                    rule=rule,
                    version=1,
                    enabled=rule.enabled,
                    outcome_on_fail=rule.outcome_on_fail,
                    params=rule.params,
                    change_note=rule.change_note,
                    changed_at=rule.changed_at,
                )
                for rule in seeded
            ],
            ignore_conflicts=True,
        )
    return len(missing)


def rules_ensure_defaults() -> int:
    """Before an admin changes a rule: store the catalog's missing rules (a write
    path; reads use :func:`rules_active`, which writes nothing)."""
    return seed_catalog_rules()


def rules_active() -> dict[str, RuleConfig]:
    """Every rule as the runner's plain ``RuleConfig``, keyed by code: the stored
    configuration, and the catalog default (version 1) for a rule the database does
    not have yet (a catalog newer than the data). Disabled rules are included
    (``enabled=False``). Reads only."""
    return {**default_rules(), **_stored_rules()}


def _stored_rules() -> dict[str, RuleConfig]:
    return {
        rule.code: RuleConfig(
            enabled=rule.enabled,
            outcome_on_fail=Action(rule.outcome_on_fail),
            params=rule.params,
            version=rule.version,
        )
        for rule in Rule.objects.all()
    }


def _clean_params(code: str, params: Any) -> dict[str, Any]:
    """The admin's parameters, validated and normalised; only the keys given are
    kept, so the others keep following the catalog defaults."""
    validation = RULES_BY_CODE[code].validate_params(params)
    if not validation.ok:
        raise ApplicationError(
            _("The rule's parameters are not valid: %(errors)s Nothing was changed.")
            % {
                "errors": " ".join(
                    localized(e.message_en, e.message_zh) for e in validation.errors
                )
            },
            code="invalid_params",
            details={
                "params": [
                    {
                        "param": e.param,
                        "message": localized(e.message_en, e.message_zh),
                    }
                    for e in validation.errors
                ]
            },
        )
    assert isinstance(params, Mapping)
    return {name: validation.cleaned[name] for name in params}


def rule_changes(rule: Rule, after: Mapping[str, Any]) -> dict[str, Any]:
    """``{field: {"from", "to"}}`` for each of enabled, outcome and params that
    ``after`` changes."""
    before = {
        "enabled": rule.enabled,
        "outcome_on_fail": rule.outcome_on_fail,
        "params": rule.params,
    }
    return {
        name: {"from": before[name], "to": after[name]}
        for name in before
        if before[name] != after[name]
    }


def rule_save_version(
    rule: Rule,
    *,
    actor: Any,
    settings: Mapping[str, Any],
    note: str,
    action: str,
    data: Mapping[str, Any],
    no_change: str,
) -> None:
    """Store ``settings`` (enabled, outcome_on_fail, params) as the rule's next
    version, keep it in the history and audit ``action`` with ``data`` and the
    changes. Inside the transaction that locks the rule. Refuses with ``no_change``
    (code ``no_change``) settings that are already the rule's."""
    changes = rule_changes(rule, settings)
    if not changes:
        raise ApplicationError(no_change, code="no_change")
    rule.enabled = settings["enabled"]
    rule.outcome_on_fail = settings["outcome_on_fail"]
    rule.params = settings["params"]
    rule.version += 1
    rule.changed_by = actor
    rule.change_note = note
    rule.changed_at = timezone.now()
    rule.save()
    RuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        enabled=rule.enabled,
        outcome_on_fail=rule.outcome_on_fail,
        params=rule.params,
        changed_by=actor,
        change_note=note,
        changed_at=rule.changed_at,
    )
    audit_record(
        actor=actor,
        action=action,
        obj=rule,
        data={**data, "changes": changes, "version": rule.version, "note": note},
    )


def rule_change_allowed(
    *, actor: Any, code: str, change_note: str, note_missing: Any
) -> str:
    """The checks every change of a rule starts with (an update, a restored
    version), before any lock: an administrator, a change note (``note_missing``
    is the error without one), a rule the catalog knows. Returns the stripped
    note."""
    if not user_can(actor, Perm.ADMINISTER):
        raise PermissionDeniedError(_("Only administrators can change rules."))
    note = (change_note or "").strip()
    if not note:
        raise ApplicationError(note_missing, code="change_note_required")
    if code not in RULES_BY_CODE:
        raise NotFoundError(_("There is no rule %(code)s.") % {"code": code})
    return note


def rule_update(
    *,
    actor: Any,
    code: str,
    enabled: bool | None = None,
    outcome_on_fail: str | None = None,
    params: Mapping[str, Any] | None = None,
    change_note: str,
) -> Rule:
    """Change a rule (``None`` leaves a field as it is; ``params`` replaces the stored
    parameters as a whole). Makes a new version, keeps the history, audits it.

    Refuses, changing nothing: a user who is not an admin, an unknown rule, an empty
    change note, an unknown action, invalid parameters, or no change at all.
    """
    note = rule_change_allowed(
        actor=actor,
        code=code,
        change_note=change_note,
        note_missing=_("Say why the rule changes: a change note is required."),
    )
    if outcome_on_fail is not None and outcome_on_fail not in RuleAction.values:
        raise ApplicationError(
            _("The action on failure must be one of: %(choices)s.")
            % {"choices": ", ".join(RuleAction.values)},
            code="invalid_outcome",
        )
    cleaned = _clean_params(code, params) if params is not None else None

    rules_ensure_defaults()
    with transaction.atomic(durable=True):
        rule = Rule.objects.select_for_update().get(code=code)
        after = {
            "enabled": rule.enabled if enabled is None else bool(enabled),
            "outcome_on_fail": outcome_on_fail or rule.outcome_on_fail,
            "params": rule.params if cleaned is None else cleaned,
        }
        rule_save_version(
            rule,
            actor=actor,
            settings=after,
            note=note,
            action="rule.updated",
            data={"code": code},
            no_change=_("These are already the rule's settings: nothing to change."),
        )
    return rule
