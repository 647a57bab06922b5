from __future__ import annotations

import pytest

from invoiceportal.invoices.extraction.types import FieldReading, FieldSource
from reviews.checks.audit_sample import (
    DEFAULT_PARAMS as SAMPLE,
)
from reviews.checks.audit_sample import (
    check_audit_sample,
    sample_fraction,
)
from reviews.checks.base import Outcome
from reviews.checks.confidence import DEFAULT_PARAMS as CONFIDENCE
from reviews.checks.confidence import check_confidence

from . import context, digital_special

OCR = FieldSource.OCR


def test_confident_extraction_passes() -> None:
    assert check_confidence(digital_special(), context(), CONFIDENCE).outcome is (
        Outcome.PASS
    )


def test_low_confidence_fields_are_named() -> None:
    inv = digital_special(
        readings={
            "number": FieldReading(OCR, 0.99),
            "total_amount": FieldReading(OCR, 0.62),
            "issue_date": FieldReading(OCR, 0.85),
        }
    )
    result = check_confidence(inv, context(), CONFIDENCE)
    assert result.outcome is Outcome.FAIL
    assert result.details["fields"] == ["issue_date", "total_amount"]
    assert (
        "0.62" in result.message_en and "issue_date, total_amount" in result.message_en
    )
    assert "XML或OFD原件" in result.message_zh
    assert check_confidence(inv, context(), {"min_confidence": 0.6}).outcome is (
        Outcome.PASS
    )


def test_context_confidence_wins_over_readings() -> None:
    ctx = context(extraction_min_confidence=0.5)
    assert check_confidence(digital_special(), ctx, CONFIDENCE).outcome is Outcome.FAIL
    ctx = context(extraction_min_confidence=0.95)
    inv = digital_special(readings={"number": FieldReading(OCR, 0.1)})
    assert check_confidence(inv, ctx, CONFIDENCE).outcome is Outcome.PASS


def test_no_confidence_information_is_skipped() -> None:
    inv = digital_special(readings={})
    assert check_confidence(inv, context(), CONFIDENCE).outcome is Outcome.SKIPPED


# --- audit sample ------------------------------------------------------------------


def test_fraction_is_the_sha256_of_the_identity() -> None:
    # sha256("24112000000048542163") starts with these 8 bytes, read big-endian.
    import hashlib

    digest = hashlib.sha256(b"24112000000048542163").digest()
    expected = int.from_bytes(digest[:8], "big") / 2**64
    assert sample_fraction("24112000000048542163") == expected
    assert 0 <= expected < 1


def test_sample_is_deterministic_per_identity() -> None:
    inv = digital_special()
    first = check_audit_sample(inv, context(), SAMPLE)
    again = check_audit_sample(digital_special(), context(), SAMPLE)
    assert first == again


def test_every_invoice_sampled_at_rate_one_and_none_at_zero() -> None:
    inv = digital_special()
    result = check_audit_sample(inv, context(), {"rate": 1.0, "salt": ""})
    assert result.outcome is Outcome.FAIL
    assert "picked at random" in result.message_en
    assert "随机抽中" in result.message_zh
    assert check_audit_sample(inv, context(), {"rate": 0.0, "salt": ""}).outcome is (
        Outcome.PASS
    )


def test_threshold_is_the_fraction() -> None:
    inv = digital_special()
    fraction = sample_fraction(inv.identity)
    just_above = {"rate": fraction + 1e-9, "salt": ""}
    at = {"rate": fraction, "salt": ""}
    assert check_audit_sample(inv, context(), just_above).outcome is Outcome.FAIL
    assert check_audit_sample(inv, context(), at).outcome is Outcome.PASS


def test_salt_changes_the_draw() -> None:
    assert sample_fraction("x", "a") != sample_fraction("x", "b")


@pytest.mark.parametrize("rate", [0.02, 0.10, 0.5])
def test_sample_rate_is_about_right_over_many_identities(rate: float) -> None:
    identities = [f"2411200000{n:010d}" for n in range(20000)]
    picked = sum(sample_fraction(i) < rate for i in identities)
    assert abs(picked / len(identities) - rate) < 0.01


def test_no_identity_is_skipped() -> None:
    inv = digital_special(number="")
    assert check_audit_sample(inv, context(), SAMPLE).outcome is Outcome.SKIPPED
