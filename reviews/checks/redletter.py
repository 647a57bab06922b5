"""Red-letter (红字) invoices: recognised, never accepted as expenses, linked to their
blue invoice when it is in the system (domain/einvoice.md section 8)."""

from __future__ import annotations

from decimal import Decimal

from invoiceportal.common.capitals import parse_capitals
from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .base import CheckContext, CheckOutcome, Params, failed, passed

DEFAULT_PARAMS: dict[str, object] = {}


def red_signals(inv: ExtractedInvoice) -> list[str]:
    """Why the invoice reads as red-letter; empty when it does not."""
    signals = []
    if inv.is_red:
        signals.append("flag")
    if any(
        v is not None and v < 0 for v in (inv.amount, inv.tax_amount, inv.total_amount)
    ):
        signals.append("negative_total")
    if inv.total_in_words.strip():
        try:
            if parse_capitals(inv.total_in_words) < Decimal(0):
                signals.append("negative_capitals")
        except ValueError:
            pass
    return signals


def check_red_letter(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    signals = red_signals(inv)
    if not signals:
        return passed()
    blue = ctx.blue_invoice
    details: dict[str, object] = {
        "signals": signals,
        "blue_number": inv.red_of_number,
        "blue_known": blue is not None,
    }
    if blue is not None:
        details |= {"blue_reference": blue.reference, "blue_status": blue.status}
        link_zh = f"它冲销的是系统中的发票{blue.reference}（状态：{blue.status}）。"
        link_en = f"It reverses invoice {blue.reference} ({blue.status}) in the portal."
    elif inv.red_of_number:
        link_zh = f"它冲销的原发票{inv.red_of_number}不在系统中。"
        link_en = f"The invoice it reverses, {inv.red_of_number}, is not in the portal."
    else:
        link_zh = link_en = ""
    return failed(
        problem_zh=f"这是一张红字（负数）发票，不能作为费用报销。{link_zh}",
        fix_zh="如原发票已报销，请联系财务冲减原报销；请勿将红字发票作为费用提交。",
        problem_en=(
            "This is a red-letter (negative) invoice, which cannot be claimed as an "
            f"expense. {link_en}".rstrip()
        ),
        fix_en=(
            "If the original invoice was claimed, ask finance to reverse that claim; "
            "do not submit red-letter invoices as expenses."
        ),
        **details,
    )
