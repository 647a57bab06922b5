from __future__ import annotations

from decimal import Decimal

from reviews.checks.base import ExistingInvoice, Outcome
from reviews.checks.redletter import DEFAULT_PARAMS, check_red_letter, red_signals

from . import context, digital_special

D = Decimal


def red(**changes):
    base = {
        "is_red": True,
        "amount": D("-40.74"),
        "tax_amount": D("-5.30"),
        "total_amount": D("-46.04"),
        "total_in_words": "⊗肆拾陆圆肆分",
        "red_of_number": "24112000000048542163",
    }
    return digital_special(**{**base, **changes})


def test_blue_invoice_passes() -> None:
    assert check_red_letter(digital_special(), context(), DEFAULT_PARAMS).outcome is (
        Outcome.PASS
    )


def test_red_invoice_is_recognised_by_each_signal() -> None:
    assert red_signals(red()) == ["flag", "negative_total", "negative_capitals"]
    unflagged = digital_special(total_amount=D("-46.04"))
    assert red_signals(unflagged) == ["negative_total"]
    words_only = digital_special(total_in_words="（负数）肆拾陆圆零肆分")
    assert red_signals(words_only) == ["negative_capitals"]
    garbled = digital_special(total_in_words="???")
    assert red_signals(garbled) == []


def test_red_invoice_is_not_an_expense() -> None:
    result = check_red_letter(red(), context(), DEFAULT_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert "cannot be claimed as an expense" in result.message_en
    assert "24112000000048542163, is not in the portal" in result.message_en
    assert "ask finance to reverse" in result.message_en
    assert "不能作为费用报销" in result.message_zh
    assert result.details["blue_known"] is False


def test_red_invoice_is_linked_to_its_known_blue_invoice() -> None:
    blue = ExistingInvoice(
        reference="INV-2024-000007",
        status="approved",
        identity="24112000000048542163",
    )
    result = check_red_letter(red(), context(blue_invoice=blue), DEFAULT_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.details["blue_reference"] == "INV-2024-000007"
    assert result.details["blue_status"] == "approved"
    assert "INV-2024-000007" in result.message_en
    assert "INV-2024-000007" in result.message_zh
