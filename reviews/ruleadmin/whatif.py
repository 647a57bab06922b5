"""What-if: how the recent invoices would have been routed under a draft of a rule.

Read-only. For each invoice screened in the last N days it rebuilds the extracted
data and the check context from the database, runs the rules twice (the active ones,
and the active ones with the draft replacing the rule) and compares the draft's route
with the route the invoice got when it was screened (its latest round of stored
results). Each invoice is judged as on the day it was screened, without the invoices
submitted after it (else the first of two copies would turn into the duplicate).
An invoice whose route differs under the current rules too changed for
another reason since it was screened (a later duplicate, a registry import): it is
listed, but not blamed on the draft.

Bounded: at most ``MAX_INVOICES`` invoices, newest first; the report says when it was
truncated. The registry is the local one (``RegistryRecord``): no remote 查验 calls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoiceportal.common.errors import ApplicationError
from invoiceportal.invoices.models import Document, Invoice
from invoiceportal.invoices.status import InvoiceStatus
from reviews.checks.base import Action, CheckContext, CheckOutcome, ExistingInvoice
from reviews.checks.catalog import RuleConfig
from reviews.checks.runner import Decision, Routing, route, run_checks
from reviews.context import build_check_context, extracted_from_invoice
from reviews.models import ActionTaken, CheckResult
from reviews.rules import rules_active

from .selectors import get_spec, localized

MAX_INVOICES = 2000
DEFAULT_DAYS = 30
MAX_DAYS = 366
_CHUNK = 500
DECISIONS = (Decision.APPROVE, Decision.REVIEW, Decision.REJECT)


class DraftLike(Protocol):
    enabled: bool
    outcome_on_fail: Any
    params: Mapping[str, Any]


@dataclass(frozen=True)
class RouteChange:
    """An invoice whose route would change under the draft."""

    invoice_id: uuid.UUID
    reference: str
    status: str
    before: Decision
    after: Decision
    rules: tuple[str, ...]  # the rules responsible
    caused_by_draft: bool
    message_en: str = ""
    message_zh: str = ""

    @property
    def message(self) -> str:
        return localized(self.message_en, self.message_zh)

    @property
    def status_label(self) -> str:
        try:
            return str(InvoiceStatus(self.status).label)
        except ValueError:
            return self.status


@dataclass
class WhatIfReport:
    code: str
    days: int
    since: dt.datetime
    limit: int
    evaluated: int = 0
    truncated: bool = False
    not_screened: int = 0  # in the window but never screened: nothing to compare
    unreadable: int = 0  # stored data the checks cannot read (an unknown kind)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)
    changes: list[RouteChange] = field(default_factory=list)
    drifted: int = 0  # routed differently today under the current rules too

    @property
    def counts(self) -> list[tuple[str, int, int, int]]:
        """(route, before, after, after - before) for approve, review, reject."""
        return [
            (
                str(d),
                self.before.get(d, 0),
                self.after.get(d, 0),
                self.after.get(d, 0) - self.before.get(d, 0),
            )
            for d in DECISIONS
        ]


@dataclass
class _Stored:
    """The invoice's latest round of stored results."""

    round: int = 0
    at: dt.datetime | None = None
    actions: dict[str, str] = field(default_factory=dict)  # rule code -> action


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _latest_rounds(invoice_ids: list[uuid.UUID]) -> dict[uuid.UUID, _Stored]:
    stored: dict[uuid.UUID, _Stored] = defaultdict(_Stored)
    for chunk in _chunks(invoice_ids):
        rows = CheckResult.objects.filter(invoice_id__in=chunk).values_list(
            "invoice_id", "round", "rule_code", "action", "created_at"
        )
        for invoice_id, round_number, code, action, created_at in rows:
            entry = stored[invoice_id]
            if round_number > entry.round:
                entry.round, entry.at, entry.actions = round_number, created_at, {}
            if round_number == entry.round:
                entry.actions[code] = action
                if entry.at is None or created_at > entry.at:
                    entry.at = created_at
    return stored


def _stored_decision(stored: _Stored) -> tuple[Decision, tuple[str, ...]]:
    """The route the stored round gave, and the rules that decided it."""
    for action, decision in (
        (ActionTaken.REJECT, Decision.REJECT),
        (ActionTaken.REVIEW, Decision.REVIEW),
    ):
        codes = tuple(c for c, a in stored.actions.items() if a == action)
        if codes:
            return decision, codes
    return Decision.APPROVE, ()


def _draft_config(draft: DraftLike, active: RuleConfig | None) -> RuleConfig:
    try:
        outcome = Action(str(draft.outcome_on_fail))
    except ValueError:
        raise ApplicationError(
            _("The action on failure must be one of: %(choices)s.")
            % {"choices": ", ".join(a.value for a in Action)},
            code="invalid_outcome",
        ) from None
    return RuleConfig(
        enabled=bool(draft.enabled),
        outcome_on_fail=outcome,
        params=dict(draft.params or {}),
        version=(active.version if active is not None else 1) + 1,
    )


def _failure(results: list[tuple[str, CheckOutcome]], code: str) -> CheckOutcome | None:
    for result_code, outcome in results:
        if result_code == code and outcome.failed:
            return outcome
    return None


def _as_screened(ctx: CheckContext, screened_at: dt.datetime | None) -> CheckContext:
    """The context without the invoices submitted after this one was screened: a
    later copy must not make the earlier invoice look like the duplicate."""
    candidates = (
        *ctx.same_identity_invoices,
        *ctx.near_duplicate_candidates,
        *ctx.same_file_invoices,
    )
    if screened_at is None or not candidates:
        return ctx
    later = set(
        Invoice.objects.filter(
            reference__in={c.reference for c in candidates},
            submitted_at__gt=screened_at,
        ).values_list("reference", flat=True)
    )
    if not later:
        return ctx

    def earlier(items: tuple[ExistingInvoice, ...]) -> tuple[ExistingInvoice, ...]:
        return tuple(item for item in items if item.reference not in later)

    return dataclasses.replace(
        ctx,
        same_identity_invoices=earlier(ctx.same_identity_invoices),
        near_duplicate_candidates=earlier(ctx.near_duplicate_candidates),
        same_file_invoices=earlier(ctx.same_file_invoices),
    )


def _deciding(routing: Routing) -> tuple[str, ...]:
    return tuple(r.code for r in routing.reasons)


def rules_what_if(
    *,
    code: str,
    draft: DraftLike,
    days: int = DEFAULT_DAYS,
    now: dt.datetime | None = None,
    limit: int = MAX_INVOICES,
) -> WhatIfReport:
    """Route the invoices submitted in the last ``days`` days under ``draft`` (any
    object with ``enabled``, ``outcome_on_fail`` and ``params``, such as a
    ``RuleConfig``) in place of rule ``code``, against how they were routed.

    Writes nothing. Invalid draft parameters run as the runner runs them (the rule
    fails with review); validate the draft first to show the admin the errors.
    """
    get_spec(code)  # an unknown rule: NotFoundError
    if not 1 <= int(days) <= MAX_DAYS:
        raise ApplicationError(
            _("Choose between 1 and %(max)s days.") % {"max": MAX_DAYS},
            code="invalid_days",
        )
    days = int(days)
    since = (now or timezone.now()) - dt.timedelta(days=days)
    active = rules_active()
    draft_rules = {**active, code: _draft_config(draft, active.get(code))}
    report = WhatIfReport(
        code=code,
        days=days,
        since=since,
        limit=limit,
        before=dict.fromkeys(DECISIONS, 0),
        after=dict.fromkeys(DECISIONS, 0),
        current=dict.fromkeys(DECISIONS, 0),
    )

    window = Invoice.objects.filter(submitted_at__gte=since)
    screened = Exists(CheckResult.objects.filter(invoice_id=OuterRef("pk")))
    report.not_screened = window.exclude(screened).count()
    invoices = list(
        window.filter(screened)
        .select_related("organization")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=Document.objects.order_by("-uploaded_at", "-id"),
                to_attr="documents_newest_first",
            )
        )
        .order_by("-submitted_at", "pk")[: limit + 1]
    )
    report.truncated = len(invoices) > limit
    invoices = invoices[:limit]
    stored_rounds = _latest_rounds([invoice.pk for invoice in invoices])
    # The near-duplicate rule's parameters decide how wide its candidates are read.
    separate_context = code == "duplicates.near"

    for invoice in invoices:
        stored = stored_rounds[invoice.pk]
        document = next(iter(invoice.documents_newest_first), None)
        try:
            extracted = extracted_from_invoice(invoice, document=document)
        except ValueError:
            report.unreadable += 1
            continue
        # Date rules judge as on the day of screening, not today.
        today = timezone.localdate(stored.at) if stored.at else None
        ctx = _as_screened(
            build_check_context(
                invoice, extracted, rules=active, document=document, today=today
            ),
            stored.at,
        )
        draft_ctx = (
            _as_screened(
                build_check_context(
                    invoice,
                    extracted,
                    rules=draft_rules,
                    document=document,
                    today=today,
                ),
                stored.at,
            )
            if separate_context
            else ctx
        )
        current_results = run_checks(extracted, ctx, active)
        draft_results = run_checks(extracted, draft_ctx, draft_rules)
        current = route(current_results, active)
        after = route(draft_results, draft_rules)
        before, before_rules = _stored_decision(stored)

        report.evaluated += 1
        report.before[before] += 1
        report.after[after.decision] += 1
        report.current[current.decision] += 1
        if current.decision != before:
            report.drifted += 1
        if after.decision == before:
            continue
        caused_by_draft = current.decision != after.decision
        if caused_by_draft:
            rules: tuple[str, ...] = (code,)
            outcome = _failure(draft_results, code) or _failure(current_results, code)
        else:
            differing = set(before_rules) ^ set(_deciding(after))
            rules = tuple(sorted(differing or set(_deciding(after)) or before_rules))
            failures = (_failure(draft_results, c) for c in rules)
            outcome = next((f for f in failures if f is not None), None)
        report.changes.append(
            RouteChange(
                invoice_id=invoice.pk,
                reference=invoice.reference,
                status=invoice.status,
                before=before,
                after=after.decision,
                rules=rules,
                caused_by_draft=caused_by_draft,
                message_en=outcome.message_en if outcome else "",
                message_zh=outcome.message_zh if outcome else "",
            )
        )
    report.changes.sort(key=lambda c: (not c.caused_by_draft, c.reference))
    return report
