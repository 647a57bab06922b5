"""A deterministic random audit sample, seeded by the invoice identity: the same
invoice resubmitted lands in the same place, so it cannot re-roll its chance."""

from __future__ import annotations

import hashlib

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped

DEFAULT_PARAMS: dict[str, object] = {"rate": 0.02, "salt": ""}


def sample_fraction(identity: str, salt: str = "") -> float:
    """sha256(salt + identity) read as a fraction in [0, 1)."""
    digest = hashlib.sha256(f"{salt}{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def check_audit_sample(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    identity = inv.identity
    if not identity:
        return skipped("未读到发票号码。", "No invoice number was read.")
    rate = float(params["rate"])
    fraction = sample_fraction(identity, str(params["salt"]))
    if fraction >= rate:
        return passed(fraction=round(fraction, 6))
    return failed(
        problem_zh="该发票被随机抽中进行人工复核（并非发现问题）。",
        fix_zh="无需操作，审核人员将尽快处理。",
        problem_en=(
            "This invoice was picked at random for a manual audit; nothing was found "
            "wrong."
        ),
        fix_en="Nothing to do: a reviewer will handle it shortly.",
        fraction=round(fraction, 6),
        rate=rate,
    )
