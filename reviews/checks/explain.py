"""The one explanation of a stored check result, in the reader's language.

A ``CheckResult`` row (or anything with ``id``, ``rule_code``, ``outcome``, ``action``,
``message_zh``, ``message_en`` and ``details``) becomes a ``CheckExplanation``: the
rule's title, what the result says, what the rule means and, for a failure, how to fix
it. ``explain_checks`` also fixes the one display order: failures first (reject, then
review, then info), then the rest in the order they were stored. The submitter's page,
the API and the reviewer's workbench all read checks through here; serializers only
shape its output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from invoiceportal.common.language import is_english

from .catalog import (
    NOT_APPLICABLE_FORMATS,
    PASSED_TITLES,
    RULES_BY_CODE,
    RuleSpec,
)

SEVERITY_RANK = {"reject": 0, "review": 1, "info": 2, "none": 3}


@dataclass(frozen=True)
class CheckExplanation:
    rule: str
    outcome: str
    severity: str
    title: str
    message: str
    meaning: str
    fix: str
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @property
    def rule_code(self) -> str:
        """The name ``CheckResult`` uses (for code that reads either)."""
        return self.rule

    @property
    def failed(self) -> bool:
        return self.outcome == "fail"


def _english(english: bool | None) -> bool:
    return is_english() if english is None else english


@dataclass(frozen=True)
class RuleText:
    """A rule in the reader's language: its title, what it means, how to pass it."""

    code: str
    title: str
    meaning: str
    fix: str


def rule_text(spec: RuleSpec, *, english: bool | None = None) -> RuleText:
    en = _english(english)
    return RuleText(
        code=spec.code,
        title=spec.title_en if en else spec.title_zh,
        meaning=spec.description_en if en else spec.description_zh,
        fix=spec.how_to_fix_en if en else spec.how_to_fix_zh,
    )


def explain_check(result: Any, *, english: bool | None = None) -> CheckExplanation:
    """One result explained; a rule the catalog no longer knows keeps its code as
    its title."""
    en = _english(english)
    spec = RULES_BY_CODE.get(result.rule_code)
    text = rule_text(spec, english=en) if spec else None
    zh, en_text = result.message_zh or "", result.message_en or ""
    failed = result.outcome == "fail"
    title = text.title if text else result.rule_code
    if result.outcome == "pass" and result.rule_code in PASSED_TITLES:
        passed_zh, passed_en = PASSED_TITLES[result.rule_code]
        title = passed_en if en else passed_zh
    return CheckExplanation(
        rule=result.rule_code,
        outcome=result.outcome,
        severity=result.action,
        title=title,
        message=(en_text or zh) if en else (zh or en_text),
        meaning=text.meaning if text else "",
        fix=text.fix if text and failed else "",
        details=dict(result.details or {}),
        id=getattr(result, "id", None),
    )


def check_order(explanation: CheckExplanation) -> tuple[bool, int, int]:
    """Failures first, the most severe first, then the stored order."""
    return (
        not explanation.failed,
        SEVERITY_RANK.get(explanation.severity, 9),
        explanation.id or 0,
    )


def applies_to(result: Any, document_format: str | None) -> bool:
    """False for a skipped rule that cannot apply to the document's format (no QR
    code on an XML or OFD file): nothing to show."""
    if result.outcome != "skipped" or not document_format:
        return True
    return document_format not in NOT_APPLICABLE_FORMATS.get(result.rule_code, ())


def explain_checks(
    results: Iterable[Any],
    *,
    english: bool | None = None,
    document_format: str | None = None,
) -> list[CheckExplanation]:
    """A screening round explained, in the display order; with ``document_format``,
    without the rules that cannot apply to that format."""
    en = _english(english)
    return sorted(
        (
            explain_check(r, english=en)
            for r in results
            if applies_to(r, document_format)
        ),
        key=check_order,
    )
