"""run_checks and route: the default outcomes of the issue, end to end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.types import (
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from reviews.checks import runner
from reviews.checks.base import (
    Action,
    ExistingInvoice,
    Outcome,
    RegistryStatus,
    Severity,
    SourceFormat,
)
from reviews.checks.catalog import RULES, RuleConfig, default_rules
from reviews.checks.runner import Decision, route, run_checks

from . import SELLER_TAX_ID, context, digital_special, line

D = Decimal
NO_SAMPLE = {"audit.sample": RuleConfig(True, Action.REVIEW, {"rate": 0.0})}


def decide(inv, ctx, rules=None):
    rules = {**NO_SAMPLE, **(rules or {})}
    results = run_checks(inv, ctx, rules)
    return route(results, rules), dict(results)


def failing(outcomes) -> set[str]:
    return {code for code, o in outcomes.items() if o.outcome is Outcome.FAIL}


def test_the_real_invoice_is_approved() -> None:
    routing, outcomes = decide(digital_special(), context())
    assert routing.decision is Decision.APPROVE, failing(outcomes)
    assert routing.reasons == ()
    assert len(outcomes) == len(RULES)


def existing(status: str) -> ExistingInvoice:
    return ExistingInvoice("INV-2024-000001", status, "24112000000048542163")


def registry(**changes):
    return dataclasses.replace(context().registry, **changes)


REJECTIONS = [
    (
        "parties.buyer_tax_id",
        digital_special(buyer_tax_id="914403001922038216"),
        {"registry": registry(buyer_tax_id="914403001922038216")},
    ),
    (
        "duplicates.exact",
        digital_special(),
        {"same_identity_invoices": (existing("in_review"),)},
    ),
    ("registry.status", digital_special(), {"registry": registry(status="void")}),
    (
        "registry.status",
        digital_special(),
        {"registry": registry(status=RegistryStatus.RED_FLUSHED)},
    ),
    (
        "redletter.not_expense",
        digital_special(
            is_red=True,
            amount=D("-4197.17"),
            tax_amount=D("-251.83"),
            total_amount=D("-4449.00"),
            total_in_words="（负数）肆仟肆佰肆拾玖圆整",
            lines=[
                line(amount=D("-4197.17"), tax_rate=D("0.06"), tax_amount=D("-251.83"))
            ],
            qr_payload="",
        ),
        {
            "registry": registry(
                amount=D("-4197.17"),
                tax_amount=D("-251.83"),
                total_amount=D("-4449.00"),
            )
        },
    ),
    (
        "dates.not_future",
        digital_special(issue_date=dt.date(2024, 6, 4)),
        {"registry": registry(issue_date=dt.date(2024, 6, 4))},
    ),
    (
        "arithmetic.total",
        digital_special(total_amount=D("4449.10")),
        {"registry": registry(total_amount=D("4449.10"))},
    ),
    (
        "sellers.blocklist",
        digital_special(),
        {"blocklist_seller_tax_ids": frozenset({SELLER_TAX_ID})},
    ),
]


@pytest.mark.parametrize(("code", "inv", "ctx_changes"), REJECTIONS)
def test_default_rejections(code: str, inv, ctx_changes: dict) -> None:
    routing, outcomes = decide(inv, context(**ctx_changes))
    assert routing.decision is Decision.REJECT, failing(outcomes)
    assert code in {r.code for r in routing.reasons}
    assert outcomes[code].severity is Severity.REJECT


def fix_registry_to(inv):
    return registry(
        amount=inv.amount, tax_amount=inv.tax_amount, total_amount=inv.total_amount
    )


REVIEWS = [
    (
        "parties.tax_id_form",
        digital_special(seller_tax_id="91500102563638729E"),
        {"registry": registry(seller_tax_id="91500102563638729E")},
    ),
    (
        "duplicates.near",
        digital_special(),
        {
            "near_duplicate_candidates": (
                ExistingInvoice(
                    "INV-2024-000002",
                    "approved",
                    "24112000000048540000",
                    SELLER_TAX_ID,
                    dt.date(2024, 5, 28),
                    D("4449.00"),
                ),
            )
        },
    ),
    (
        "duplicates.file_hash",
        digital_special(),
        {
            "file_sha256": "ab" * 32,
            "same_file_invoices": (ExistingInvoice("INV-9", "approved", "other"),),
        },
    ),
    (
        "sellers.watchlist",
        digital_special(),
        {"watchlist_seller_tax_ids": frozenset({SELLER_TAX_ID})},
    ),
    ("registry.match", digital_special(), {"registry": "not_found"}),
    ("registry.match", digital_special(), {"registry": "unavailable"}),
    ("registry.match", digital_special(), {"registry": None}),
    ("registry.match", digital_special(), {"registry": registry(number="1" * 20)}),
    (
        "registry.status",
        digital_special(),
        {
            "registry": registry(
                status=RegistryStatus.RED_FLUSHED, red_flushed_amount=D("-100")
            )
        },
    ),
    (
        "arithmetic.total",
        digital_special(total_amount=D("4449.10"), qr_payload=""),
        {
            "source_format": SourceFormat.PDF,
            "registry": registry(total_amount=D("4449.10")),
        },
    ),
    (
        "arithmetic.capitals",
        digital_special(total_in_words="肆仟肆佰肆拾捌圆整"),
        {"source_format": SourceFormat.IMAGE},
    ),
    ("arithmetic.capitals", digital_special(total_in_words="乱码"), {}),
    (
        "rates.category",
        digital_special(
            lines=[
                line(
                    name="*餐饮服务*餐费",
                    amount=D("4197.17"),
                    tax_rate=D("0.06"),
                    tax_amount=D("251.83"),
                ),
                line(
                    name="*餐饮服务*酒水",
                    amount=D("0"),
                    tax_rate=D("0.13"),
                    tax_amount=D("0"),
                ),
            ]
        ),
        {},
    ),
    ("extraction.confidence", digital_special(), {"extraction_min_confidence": 0.4}),
    (
        "dates.max_age",
        digital_special(issue_date=dt.date(2023, 5, 1)),
        {"registry": registry(issue_date=dt.date(2023, 5, 1))},
    ),
    (
        "identity.format",
        digital_special(number="24882000000048542163"),
        {"registry": registry(number="24882000000048542163")},
    ),
]


@pytest.mark.parametrize(("code", "inv", "ctx_changes"), REVIEWS)
def test_default_reviews(code: str, inv, ctx_changes: dict) -> None:
    routing, outcomes = decide(inv, context(**ctx_changes))
    assert routing.decision is Decision.REVIEW, failing(outcomes)
    assert code in {r.code for r in routing.reasons}
    assert outcomes[code].severity is Severity.REVIEW


def test_amount_above_threshold_goes_to_review() -> None:
    inv = digital_special(
        amount=D("100000.00"),
        tax_amount=D("6000.00"),
        total_amount=D("106000.00"),
        total_in_words="壹拾万陆仟圆整",
        lines=[
            line(amount=D("100000.00"), tax_rate=D("0.06"), tax_amount=D("6000.00"))
        ],
        qr_payload="",
    )
    routing, _ = decide(inv, context(registry=fix_registry_to(inv)))
    assert routing.decision is Decision.REVIEW
    assert [r.code for r in routing.reasons] == ["amount.threshold"]


def test_audit_sample_reviews_an_otherwise_clear_invoice() -> None:
    rules = {"audit.sample": RuleConfig(True, Action.REVIEW, {"rate": 1.0})}
    routing, _ = decide(digital_special(), context(), rules)
    assert routing.decision is Decision.REVIEW
    assert [r.code for r in routing.reasons] == ["audit.sample"]


def test_audit_sample_never_softens_a_rejection() -> None:
    rules = {"audit.sample": RuleConfig(True, Action.REVIEW, {"rate": 1.0})}
    ctx = context(same_identity_invoices=(existing("approved"),))
    routing, _ = decide(digital_special(), ctx, rules)
    assert routing.decision is Decision.REJECT
    assert [r.code for r in routing.reasons] == ["duplicates.exact"]


def test_reject_beats_review_and_reasons_are_the_deciding_ones() -> None:
    ctx = context(
        same_identity_invoices=(existing("approved"),),
        watchlist_seller_tax_ids=frozenset({SELLER_TAX_ID}),
    )
    routing, _ = decide(digital_special(), ctx)
    assert routing.decision is Decision.REJECT
    assert [r.code for r in routing.reasons] == ["duplicates.exact"]
    assert routing.reasons[0].message_zh and routing.reasons[0].message_en


def test_unavailable_verifier_never_rejects_even_if_configured_to() -> None:
    rules = {"registry.match": RuleConfig(True, Action.REJECT, {})}
    routing, outcomes = decide(
        digital_special(), context(registry="unavailable"), rules
    )
    assert routing.decision is Decision.REVIEW
    assert outcomes["registry.match"].severity is Severity.REVIEW


def test_admin_can_soften_a_rule_to_info() -> None:
    rules = {"duplicates.exact": RuleConfig(True, Action.INFO, {})}
    ctx = context(same_identity_invoices=(existing("approved"),))
    routing, outcomes = decide(digital_special(), ctx, rules)
    assert routing.decision is Decision.APPROVE
    assert [n.code for n in routing.notes] == ["duplicates.exact"]
    assert outcomes["duplicates.exact"].severity is Severity.INFO


def test_disabled_rules_do_not_run() -> None:
    rules = {"duplicates.exact": RuleConfig(False, Action.REJECT, {})}
    ctx = context(same_identity_invoices=(existing("approved"),))
    routing, outcomes = decide(digital_special(), ctx, rules)
    assert "duplicates.exact" not in outcomes
    assert routing.decision is Decision.APPROVE


def test_params_from_the_database_override_defaults() -> None:
    rules = {"amount.threshold": RuleConfig(True, Action.REVIEW, {"threshold": "4000"})}
    routing, _ = decide(digital_special(), context(), rules)
    assert [r.code for r in routing.reasons] == ["amount.threshold"]


def test_misconfigured_rule_goes_to_review_not_crash() -> None:
    rules = {"duplicates.exact": RuleConfig(True, Action.REJECT, {"bogus": 1})}
    ctx = context(same_identity_invoices=(existing("approved"),))
    routing, outcomes = decide(digital_special(), ctx, rules)
    assert routing.decision is Decision.REVIEW
    assert "invalid parameters" in outcomes["duplicates.exact"].message_en
    assert (
        "Unknown parameter 'bogus'" in outcomes["duplicates.exact"].details["errors"][0]
    )


def test_crashing_check_goes_to_review(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(inv, ctx, params):
        raise KeyError("surprise")

    broken = tuple(
        dataclasses.replace(r, check=boom) if r.code == "dates.not_future" else r
        for r in RULES
    )
    monkeypatch.setattr(runner, "RULES", broken)
    routing, outcomes = decide(digital_special(), context())
    assert routing.decision is Decision.REVIEW
    assert outcomes["dates.not_future"].details["error"] == "KeyError: 'surprise'"


def test_unknown_codes_in_results_are_reviewed() -> None:
    results = run_checks(digital_special(), context(), NO_SAMPLE)
    ghost = dataclasses.replace(results[0][1], outcome=Outcome.FAIL, max_action=None)
    routing = route([*results, ("retired.rule", ghost)], NO_SAMPLE)
    assert routing.decision is Decision.REVIEW


def test_results_are_in_catalog_order_with_severity_none_when_not_failed() -> None:
    results = run_checks(digital_special(), context(), NO_SAMPLE)
    assert [c for c, _ in results] == [r.code for r in RULES]
    assert all(o.severity is Severity.NONE for _, o in results if not o.failed)


# --- every rule can fail, and then says what is wrong and what to do ----------------


def _worst_cases():
    yield (
        digital_special(
            kind=InvoiceKind.OTHER,
            buyer_tax_id="914403001922038216",
            buyer_name="别人",
            seller_tax_id="91500102563638729E",
            issue_date=dt.date(2030, 1, 1),
            amount=D("200000.00"),
            tax_amount=D("9.00"),
            total_amount=D("-300000.00"),
            total_in_words="肆仟圆整",
            is_red=True,
            lines=[
                line(
                    name="*餐饮服务*餐费",
                    quantity=D("1"),
                    unit_price=D("5"),
                    amount=D("6"),
                    tax_rate=D("0.17"),
                    tax_amount=D("3"),
                )
            ],
            qr_payload="01,31,,99999999999999999999,1.00,20200101,,0000",
            readings={"x": FieldReading(FieldSource.OCR, 0.1)},
        ),
        context(
            source_format=SourceFormat.XML,
            same_identity_invoices=(existing("approved"),),
            near_duplicate_candidates=(
                ExistingInvoice(
                    "INV-N",
                    "approved",
                    "n",
                    "91500102563638729E",
                    dt.date(2030, 1, 1),
                    D("-300000.00"),
                ),
            ),
            file_sha256="aa" * 32,
            same_file_invoices=(ExistingInvoice("INV-F", "approved", "f"),),
            blocklist_seller_tax_ids=frozenset({"91500102563638729E"}),
            watchlist_seller_tax_ids=frozenset({"91500102563638729E"}),
            registry=registry(status=RegistryStatus.VOID, number="1" * 20),
        ),
    )
    yield (
        digital_special(issue_date=dt.date(2020, 1, 1)),
        context(registry=registry(issue_date=dt.date(2020, 1, 1))),
    )
    # a 通用机打发票, and a rail e-ticket that names no passenger
    general = InvoiceKind.GENERAL_MACHINE
    yield digital_special(kind=general, code="144031900110"), context()
    yield (
        digital_special(kind=InvoiceKind.RAIL_TICKET, lines=[], extras={"rail": {}}),
        context(),
    )


def test_every_rule_can_fail_with_a_bilingual_what_and_how() -> None:
    rules = {"audit.sample": RuleConfig(True, Action.REVIEW, {"rate": 1.0})}
    seen: set[str] = set()
    for inv, ctx in _worst_cases():
        for code, outcome in run_checks(inv, ctx, rules):
            json.dumps(outcome.details)  # stored in a JSON column
            if not outcome.failed:
                continue
            # a failure of the rule itself, not a crash (which also fails)
            assert "failed to run" not in outcome.message_en, (code, outcome.details)
            seen.add(code)
            # what is wrong, then what to do: at least two sentences in each language
            assert len(re.findall(r"[.:!?]\s", outcome.message_en + " ")) >= 2, (
                code,
                outcome.message_en,
            )
            assert len(re.findall(r"[。；]", outcome.message_zh)) >= 2, (
                code,
                outcome.message_zh,
            )
    assert seen == {r.code for r in RULES}


def test_default_rules_round_trip_through_route() -> None:
    rules = default_rules()
    results = run_checks(digital_special(), context(), rules)
    assert route(results, rules).decision is Decision.APPROVE
