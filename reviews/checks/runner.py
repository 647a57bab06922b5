"""Run the enabled rules and route the invoice (DESIGN.md section 5).

Routing: any failure whose action is ``reject`` rejects; else any ``review`` failure
(the audit sample included) sends the invoice to review; else it is approved. A
failure's action is the rule's ``outcome_on_fail``, capped by the check's
``max_action`` (an unavailable verifier or arithmetic read from a photo never rejects).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .base import Action, CheckContext, CheckOutcome, Outcome, Severity, milder
from .catalog import RULES, RULES_BY_CODE, RuleConfig, default_config


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


@dataclass(frozen=True)
class Reason:
    code: str
    action: Action
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Routing:
    decision: Decision
    reasons: tuple[Reason, ...] = ()  # the failures that decided it
    notes: tuple[Reason, ...] = ()  # ``info`` failures: shown, never deciding


def _config(code: str, rules: Mapping[str, RuleConfig] | None) -> RuleConfig:
    if rules is not None and code in rules:
        return rules[code]
    return default_config(code)


def effective_action(outcome: CheckOutcome, config: RuleConfig) -> Action:
    return milder(Action(config.outcome_on_fail), outcome.max_action)


def _misconfigured(code: str, errors: list[str]) -> CheckOutcome:
    return CheckOutcome(
        Outcome.FAIL,
        message_zh=f"规则{code}的参数配置有误，无法自动判断。管理员需修正规则参数；"
        "审核人员将人工处理。",
        message_en=(
            f"Rule {code} has invalid parameters, so it could not decide. An admin "
            "must fix the rule's parameters; a reviewer will handle this invoice."
        ),
        details={"errors": errors},
        max_action=Action.REVIEW,
    )


def _crashed(code: str, exc: Exception) -> CheckOutcome:
    return CheckOutcome(
        Outcome.FAIL,
        message_zh=f"规则{code}执行出错，无法自动判断。审核人员将人工处理。",
        message_en=(
            f"Rule {code} failed to run, so it could not decide. A reviewer will "
            "handle this invoice."
        ),
        details={"error": f"{type(exc).__name__}: {exc}"},
        max_action=Action.REVIEW,
    )


def run_checks(
    inv: ExtractedInvoice,
    ctx: CheckContext,
    rules: Mapping[str, RuleConfig] | None = None,
) -> list[tuple[str, CheckOutcome]]:
    """One outcome per enabled rule, in catalog order, with its severity filled in.

    Codes missing from ``rules`` run with their defaults; unknown codes are ignored.
    A check that raises or has invalid parameters fails with review, never reject.
    """
    results: list[tuple[str, CheckOutcome]] = []
    for spec in RULES:
        config = _config(spec.code, rules)
        if not config.enabled:
            continue
        validation = spec.validate_params(config.params)
        if not validation.ok:
            outcome = _misconfigured(
                spec.code, [e.message_en for e in validation.errors]
            )
        else:
            try:
                outcome = spec.check(inv, ctx, validation.cleaned)
            except Exception as exc:  # a broken rule must not decide the invoice
                outcome = _crashed(spec.code, exc)
        severity = (
            Severity(effective_action(outcome, config).value)
            if outcome.failed
            else Severity.NONE
        )
        results.append((spec.code, dataclasses.replace(outcome, severity=severity)))
    return results


def route(
    results: list[tuple[str, CheckOutcome]],
    rules: Mapping[str, RuleConfig] | None = None,
) -> Routing:
    """approve | reject | review from the results of :func:`run_checks`."""
    by_action: dict[Action, list[Reason]] = {a: [] for a in Action}
    for code, outcome in results:
        if not outcome.failed:
            continue
        if code in RULES_BY_CODE or (rules is not None and code in rules):
            action = effective_action(outcome, _config(code, rules))
        else:
            action = milder(Action.REVIEW, outcome.max_action)  # unknown: be careful
        by_action[action].append(
            Reason(code, action, outcome.message_zh, outcome.message_en)
        )
    notes = tuple(by_action[Action.INFO])
    if by_action[Action.REJECT]:
        return Routing(Decision.REJECT, tuple(by_action[Action.REJECT]), notes)
    if by_action[Action.REVIEW]:
        return Routing(Decision.REVIEW, tuple(by_action[Action.REVIEW]), notes)
    return Routing(Decision.APPROVE, (), notes)
