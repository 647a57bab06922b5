from __future__ import annotations

from decimal import Decimal

import pytest

from reviews.checks.base import Outcome
from reviews.checks.sellers import (
    DEFAULT_AMOUNT_PARAMS,
    check_amount_threshold,
    check_blocklist,
    check_watchlist,
)

from . import SELLER_TAX_ID, context, digital_special

D = Decimal


@pytest.mark.parametrize("check", [check_blocklist, check_watchlist])
def test_unlisted_seller_passes(check) -> None:
    ctx = context(
        blocklist_seller_tax_ids=frozenset({"914403001922038216"}),
        watchlist_seller_tax_ids=frozenset({"914403001922038216"}),
    )
    assert check(digital_special(), ctx, {}).outcome is Outcome.PASS


def test_blocklisted_seller_fails() -> None:
    ctx = context(blocklist_seller_tax_ids=frozenset({SELLER_TAX_ID.lower()}))
    result = check_blocklist(digital_special(), ctx, {})
    assert result.outcome is Outcome.FAIL
    assert (
        "blocklist" in result.message_en
        and "contact the finance team" in result.message_en
    )
    assert "禁止往来名单" in result.message_zh


def test_watchlisted_seller_fails() -> None:
    ctx = context(watchlist_seller_tax_ids=frozenset({SELLER_TAX_ID}))
    result = check_watchlist(digital_special(), ctx, {})
    assert result.outcome is Outcome.FAIL
    assert "watchlist" in result.message_en
    assert result.details["seller_tax_id"] == SELLER_TAX_ID


def test_seller_without_tax_id_is_never_listed() -> None:
    ctx = context(watchlist_seller_tax_ids=frozenset({""}))
    inv = digital_special(seller_tax_id="")
    assert check_watchlist(inv, ctx, {}).outcome is Outcome.PASS


@pytest.mark.parametrize(
    ("total", "flagged"),
    [
        ("100000.00", False),
        ("100000.01", True),
        ("4449.00", False),
        ("-100000.01", True),
    ],
)
def test_amount_threshold(total: str, flagged: bool) -> None:
    inv = digital_special(total_amount=D(total))
    result = check_amount_threshold(inv, context(), DEFAULT_AMOUNT_PARAMS)
    assert result.outcome is (Outcome.FAIL if flagged else Outcome.PASS)


def test_amount_threshold_parameters() -> None:
    inv = digital_special()
    params = {"threshold": "4448.99", "basis": "total_amount"}
    result = check_amount_threshold(inv, context(), params)
    assert result.outcome is Outcome.FAIL
    assert "CNY 4449.00" in result.message_en and "4448.99" in result.message_en
    params = {"threshold": "4448.99", "basis": "amount"}  # 4197.17 excluding tax
    assert check_amount_threshold(inv, context(), params).outcome is Outcome.PASS
    missing = digital_special(total_amount=None)
    assert check_amount_threshold(
        missing, context(), DEFAULT_AMOUNT_PARAMS
    ).outcome is (Outcome.SKIPPED)
