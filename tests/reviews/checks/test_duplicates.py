from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reviews.checks.base import ExistingInvoice, Outcome
from reviews.checks.duplicates import (
    DEFAULT_EXACT_PARAMS,
    DEFAULT_FILE_PARAMS,
    DEFAULT_NEAR_PARAMS,
    check_exact_duplicate,
    check_near_duplicate,
    check_same_file,
)

from . import SELLER_TAX_ID, context, digital_special, e_ordinary

D = Decimal
IDENTITY = "24112000000048542163"


def existing(status: str, **fields) -> ExistingInvoice:
    base = {
        "reference": f"INV-2024-{status}",
        "status": status,
        "identity": IDENTITY,
        "seller_tax_id": SELLER_TAX_ID,
        "issue_date": dt.date(2024, 5, 28),
        "total_amount": D("4449.00"),
    }
    return ExistingInvoice(**{**base, **fields})


@pytest.mark.parametrize(
    "status", ["received", "screening", "in_review", "needs_info", "approved"]
)
def test_exact_duplicate_of_live_invoice_fails(status: str) -> None:
    ctx = context(same_identity_invoices=(existing(status),))
    result = check_exact_duplicate(digital_special(), ctx, DEFAULT_EXACT_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert f"INV-2024-{status}" in result.message_en
    assert "claimed only once" in result.message_en
    assert "withdraw it first" in result.message_en
    assert "只能报销一次" in result.message_zh


@pytest.mark.parametrize("status", ["rejected", "withdrawn"])
def test_resubmission_after_rejection_or_withdrawal_passes(status: str) -> None:
    ctx = context(same_identity_invoices=(existing(status),))
    result = check_exact_duplicate(digital_special(), ctx, DEFAULT_EXACT_PARAMS)
    assert result.outcome is Outcome.PASS
    assert result.details["earlier_closed"] == [f"INV-2024-{status}"]


def test_identity_of_legacy_invoices_is_code_and_number() -> None:
    inv = e_ordinary()
    assert inv.identity == "033002000211:12345678"
    ctx = context(same_identity_invoices=(existing("approved", identity=inv.identity),))
    result = check_exact_duplicate(inv, ctx, DEFAULT_EXACT_PARAMS)
    assert result.details["identity"] == "033002000211:12345678"


def test_blocking_statuses_are_a_parameter() -> None:
    ctx = context(same_identity_invoices=(existing("rejected"),))
    params = {"blocking_statuses": ["rejected"]}
    assert check_exact_duplicate(digital_special(), ctx, params).outcome is Outcome.FAIL


def test_exact_duplicate_skipped_without_number() -> None:
    inv = digital_special(number="")
    assert check_exact_duplicate(inv, context(), DEFAULT_EXACT_PARAMS).outcome is (
        Outcome.SKIPPED
    )


def near(**fields) -> ExistingInvoice:
    fields = {"status": "approved", "identity": "24112000000048540000", **fields}
    return existing(fields.pop("status"), **fields)


@pytest.mark.parametrize(
    ("candidate", "flagged"),
    [
        (near(), True),
        (near(seller_tax_id="91110108690017781b"), True),  # compared normalised
        (near(total_amount=D("4449.01")), False),
        (near(issue_date=dt.date(2024, 5, 27)), False),
        (near(seller_tax_id="914403001922038216"), False),
        (near(status="rejected"), False),
        (existing("approved"), False),  # same identity: the exact rule's business
        (near(total_amount=None), False),
    ],
)
def test_near_duplicates(candidate: ExistingInvoice, flagged: bool) -> None:
    ctx = context(near_duplicate_candidates=(candidate,))
    result = check_near_duplicate(digital_special(), ctx, DEFAULT_NEAR_PARAMS)
    assert result.outcome is (Outcome.FAIL if flagged else Outcome.PASS)


def test_near_duplicate_window_and_tolerance_are_parameters() -> None:
    candidate = near(issue_date=dt.date(2024, 5, 27), total_amount=D("4449.50"))
    ctx = context(near_duplicate_candidates=(candidate,))
    params = {**DEFAULT_NEAR_PARAMS, "date_window_days": 1, "amount_tolerance": "0.50"}
    result = check_near_duplicate(digital_special(), ctx, params)
    assert result.outcome is Outcome.FAIL
    assert result.details["candidates"][0]["reference"] == candidate.reference
    assert "same seller, amount and date" in result.message_en


def test_same_file_used_for_another_invoice_fails() -> None:
    other = existing("approved", reference="INV-2024-000001", identity="other")
    ctx = context(file_sha256="ab" * 32, same_file_invoices=(other,))
    result = check_same_file(digital_special(), ctx, DEFAULT_FILE_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert "INV-2024-000001" in result.message_en
    assert result.details["sha256"] == "ab" * 32


def test_same_file_of_a_rejected_submission_is_flagged() -> None:
    old = existing("rejected")
    ctx = context(
        file_sha256="cd" * 32, same_file_invoices=(old,), same_identity_invoices=(old,)
    )
    assert check_same_file(digital_special(), ctx, DEFAULT_FILE_PARAMS).outcome is (
        Outcome.FAIL
    )


def test_same_file_already_counted_as_exact_duplicate_is_not_flagged_twice() -> None:
    live = existing("approved")
    ctx = context(
        file_sha256="ef" * 32,
        same_file_invoices=(live,),
        same_identity_invoices=(live,),
    )
    assert check_same_file(digital_special(), ctx, DEFAULT_FILE_PARAMS).outcome is (
        Outcome.PASS
    )


def test_new_file_passes_and_manual_entry_skips() -> None:
    ctx = context(file_sha256="01" * 32)
    assert check_same_file(digital_special(), ctx, {}).outcome is Outcome.PASS
    assert check_same_file(digital_special(), context(), {}).outcome is Outcome.SKIPPED
