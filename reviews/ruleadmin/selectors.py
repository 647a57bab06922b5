"""Reads for the rule pages and the rules API: the catalog joined with the stored
rules, each rule's history with what changed, localized texts. No writes: a rule
not seeded yet shows its catalog default at version 1."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from invoiceportal.common.errors import NotFoundError
from reviews.checks.catalog import RULES, RULES_BY_CODE, RuleSpec
from reviews.checks.params import ParamSpec
from reviews.models import Rule, RuleAction, RuleVersion
from reviews.rules import localized


def outcome_label(value: str) -> str:
    try:
        return str(RuleAction(value).label)
    except ValueError:
        return value


def get_spec(code: str) -> RuleSpec:
    spec = RULES_BY_CODE.get(code)
    if spec is None:
        raise NotFoundError(_("There is no rule %(code)s.") % {"code": code})
    return spec


def effective_params(spec: RuleSpec, stored: Any) -> dict[str, Any]:
    """What the runner uses: the stored parameters validated over the defaults; the
    stored ones over the defaults as they are if they do not validate."""
    stored = stored if isinstance(stored, Mapping) else {}
    validation = spec.validate_params(stored)
    if validation.ok:
        return validation.cleaned
    return {**dict(spec.default_params), **stored}


def same_value(a: Any, b: Any) -> bool:
    """Equal parameter values; ``"0.01"`` and ``"0.010"`` are the same amount."""
    if a == b:
        return True
    if isinstance(a, str | int | float | Decimal) and isinstance(
        b, str | int | float | Decimal
    ):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except (InvalidOperation, ValueError):
            return False
    return False


class _VersionLabels:
    """Labels of a rule version: who changed it, what a failure does."""

    changed_by: Any
    outcome_on_fail: str

    @property
    def changed_by_name(self) -> str:
        return self.changed_by.get_username() if self.changed_by is not None else ""

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome_on_fail)


@dataclass
class RuleRow(_VersionLabels):
    """One rule as the pages and the API show it."""

    spec: RuleSpec
    enabled: bool
    outcome_on_fail: str
    stored_params: dict[str, Any]
    version: int
    changed_at: dt.datetime | None = None
    changed_by: Any = None
    change_note: str = ""
    seeded: bool = True

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def title(self) -> str:
        return localized(self.spec.title_en, self.spec.title_zh)

    @property
    def description(self) -> str:
        return localized(self.spec.description_en, self.spec.description_zh)

    @property
    def params(self) -> dict[str, Any]:
        return effective_params(self.spec, self.stored_params)


def _row(spec: RuleSpec, rule: Rule | None) -> RuleRow:
    if rule is None:
        return RuleRow(
            spec=spec,
            enabled=spec.default_enabled,
            outcome_on_fail=str(spec.default_outcome_on_fail),
            stored_params=dict(spec.default_params),
            version=1,
            seeded=False,
        )
    return RuleRow(
        spec=spec,
        enabled=rule.enabled,
        outcome_on_fail=rule.outcome_on_fail,
        stored_params=dict(rule.params or {}),
        version=rule.version,
        changed_at=rule.changed_at,
        changed_by=rule.changed_by,
        change_note=rule.change_note,
    )


def rule_rows() -> list[RuleRow]:
    """Every rule of the catalog, in catalog order: one query, however many rules."""
    stored = {rule.code: rule for rule in Rule.objects.select_related("changed_by")}
    return [_row(spec, stored.get(spec.code)) for spec in RULES]


def rule_row(code: str) -> RuleRow:
    spec = get_spec(code)
    rule = Rule.objects.select_related("changed_by").filter(code=code).first()
    return _row(spec, rule)


@dataclass
class Change:
    """One difference between a version and the one before it."""

    name: str  # "enabled", "outcome_on_fail" or a parameter name
    label: str
    before: Any
    after: Any


@dataclass
class VersionRow(_VersionLabels):
    version: int
    enabled: bool
    outcome_on_fail: str
    params: dict[str, Any]
    changed_at: dt.datetime
    changed_by: Any
    change_note: str
    changes: list[Change] = field(default_factory=list)


def _param_label(spec: RuleSpec, name: str) -> str:
    for param in spec.param_specs:
        if param.name == name:
            return param_label(param)
    return name


def param_label(param: ParamSpec) -> str:
    return localized(param.label_en, param.label_zh)


def _diff(spec: RuleSpec, before: VersionRow, after: VersionRow) -> list[Change]:
    changes = []
    if before.enabled != after.enabled:
        changes.append(
            Change("enabled", str(_("Enabled")), before.enabled, after.enabled)
        )
    if before.outcome_on_fail != after.outcome_on_fail:
        changes.append(
            Change(
                "outcome_on_fail",
                str(_("On failure")),
                before.outcome_on_fail,
                after.outcome_on_fail,
            )
        )
    old = effective_params(spec, before.params)
    new = effective_params(spec, after.params)
    for name in [*new, *(n for n in old if n not in new)]:
        if not same_value(old.get(name), new.get(name)):
            changes.append(
                Change(name, _param_label(spec, name), old.get(name), new.get(name))
            )
    return changes


def rule_history(code: str) -> list[VersionRow]:
    """Every saved version of the rule, newest first, each with what it changed
    compared with the version before."""
    spec = get_spec(code)
    versions = [
        VersionRow(
            version=v.version,
            enabled=v.enabled,
            outcome_on_fail=v.outcome_on_fail,
            params=dict(v.params or {}),
            changed_at=v.changed_at,
            changed_by=v.changed_by,
            change_note=v.change_note,
        )
        for v in RuleVersion.objects.filter(rule__code=code)
        .select_related("changed_by")
        .order_by("version")
    ]
    for previous, current in itertools.pairwise(versions):
        current.changes = _diff(spec, previous, current)
    return list(reversed(versions))
