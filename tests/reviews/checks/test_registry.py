from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from reviews.checks.base import Action, Outcome, RegistryStatus
from reviews.checks.registry import (
    DEFAULT_MATCH_PARAMS,
    check_registry_match,
    check_registry_status,
)

from . import ORG_TAX_ID, context, digital_special

D = Decimal


def record(**changes):
    return dataclasses.replace(context().registry, **changes)


def test_normal_and_matching_record_passes_both() -> None:
    ctx = context()
    assert check_registry_status(digital_special(), ctx, {}).outcome is Outcome.PASS
    match = check_registry_match(digital_special(), ctx, DEFAULT_MATCH_PARAMS)
    assert match.outcome is Outcome.PASS


def test_void_is_a_plain_failure() -> None:
    ctx = context(registry=record(status=RegistryStatus.VOID))
    result = check_registry_status(digital_special(), ctx, {})
    assert result.outcome is Outcome.FAIL
    assert result.max_action is None  # the rule's reject applies
    assert "void" in result.message_en and "new, valid invoice" in result.message_en
    assert "作废" in result.message_zh


def test_fully_red_flushed_is_a_plain_failure() -> None:
    ctx = context(registry=record(status=RegistryStatus.RED_FLUSHED))
    result = check_registry_status(digital_special(), ctx, {})
    assert result.outcome is Outcome.FAIL
    assert result.max_action is None
    full = record(status=RegistryStatus.RED_FLUSHED, red_flushed_amount=D("-4449.00"))
    result = check_registry_status(digital_special(), context(registry=full), {})
    assert result.max_action is None


def test_partly_red_flushed_goes_to_review() -> None:
    part = record(status=RegistryStatus.RED_FLUSHED, red_flushed_amount=D("-1000.00"))
    result = check_registry_status(digital_special(), context(registry=part), {})
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW
    assert "partly" in result.message_en


@pytest.mark.parametrize("answer", ["not_found", "unavailable", None])
def test_status_rule_skips_when_there_is_no_record(answer: str | None) -> None:
    result = check_registry_status(digital_special(), context(registry=answer), {})
    assert result.outcome is Outcome.SKIPPED


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ("not_found", "not found"),
        ("unavailable", "verifier is down"),
        (None, "verifier is down"),
    ],
)
def test_match_rule_never_rejects_on_missing_answers(
    answer: str | None, fragment: str
) -> None:
    result = check_registry_match(
        digital_special(), context(registry=answer), DEFAULT_MATCH_PARAMS
    )
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW
    assert fragment in result.message_en


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"number": "24112000000048542164"}, "number"),
        ({"issue_date": dt.date(2024, 5, 27)}, "issue_date"),
        ({"total_amount": D("4449.01")}, "total_amount"),
        ({"amount": D("4197.00")}, "amount"),
        ({"tax_amount": D("251.84")}, "tax_amount"),
        ({"seller_tax_id": "914403001922038216"}, "seller_tax_id"),
        ({"buyer_tax_id": "914403001922038216"}, "buyer_tax_id"),
    ],
)
def test_mismatching_fields_go_to_review(changes: dict, field: str) -> None:
    ctx = context(registry=record(**changes))
    result = check_registry_match(digital_special(), ctx, DEFAULT_MATCH_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW
    assert [d["field"] for d in result.details["differences"]] == [field]
    assert field in result.message_en


def test_fields_one_side_lacks_do_not_disagree() -> None:
    ctx = context(registry=record(check_code="", amount=None))
    assert check_registry_match(
        digital_special(), ctx, DEFAULT_MATCH_PARAMS
    ).outcome is (Outcome.PASS)
    lower = record(buyer_tax_id=ORG_TAX_ID.lower())
    ctx = context(registry=lower)
    assert check_registry_match(
        digital_special(), ctx, DEFAULT_MATCH_PARAMS
    ).outcome is (Outcome.PASS)


def test_compared_fields_and_tolerance_are_parameters() -> None:
    ctx = context(registry=record(total_amount=D("4449.01")))
    params = {"fields": ["number"], "amount_tolerance": "0.00"}
    assert check_registry_match(digital_special(), ctx, params).outcome is Outcome.PASS
    params = {**DEFAULT_MATCH_PARAMS, "amount_tolerance": "0.01"}
    assert check_registry_match(digital_special(), ctx, params).outcome is Outcome.PASS


def test_check_code_compared_by_suffix() -> None:
    from . import e_ordinary

    inv = e_ordinary()
    ctx = context(
        registry=record(
            number=inv.number,
            code=inv.code,
            issue_date=inv.issue_date,
            seller_tax_id=inv.seller_tax_id,
            amount=inv.amount,
            tax_amount=inv.tax_amount,
            total_amount=inv.total_amount,
            check_code="567890",
        )
    )
    assert check_registry_match(inv, ctx, DEFAULT_MATCH_PARAMS).outcome is Outcome.PASS
    ctx = context(registry=dataclasses.replace(ctx.registry, check_code="567891"))
    assert check_registry_match(inv, ctx, DEFAULT_MATCH_PARAMS).outcome is Outcome.FAIL


@pytest.mark.parametrize(("status", "fails"), [("normal", False), ("void", True)])
def test_plain_string_statuses_mean_the_same_as_the_enum(status, fails) -> None:
    """Registry answers may arrive as plain strings (JSON, CSV): same routing."""
    ctx = context(registry=record(status=status))
    result = check_registry_status(digital_special(), ctx, {})
    assert (result.outcome == Outcome.FAIL) is fails
    if fails:
        assert "void" in result.message_en
