"""Arithmetic of lines and totals (domain/einvoice.md sections 4 and 6).

Line-level tolerances are [S] or [U] facts, so those rules default to review. Totals
are exact on every real sample [C]: in a structured file (XML, OFD) a mismatch cannot be
a reading error and may reject; read from a PDF, an image or typed by hand it is
capped at review (``reject_formats``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from invoiceportal.common.capitals import parse_capitals
from invoiceportal.common.money import round_half_up
from invoiceportal.invoices.extraction.types import (
    TICKET_KINDS,
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)

from .base import (
    Action,
    CheckContext,
    CheckOutcome,
    Params,
    cap_for_format,
    failed,
    passed,
    skipped,
)
from .normalize import param_decimal

STRUCTURED = ["xml", "ofd"]
DEFAULT_LINE_AMOUNT_PARAMS: dict[str, object] = {"tolerance": "0.01"}
DEFAULT_LINE_TAX_PARAMS: dict[str, object] = {"tolerance": "0.06"}
DEFAULT_INVOICE_TAX_PARAMS: dict[str, object] = {"tolerance": "1.27"}
DEFAULT_LINE_SUMS_PARAMS: dict[str, object] = {
    "tolerance": "0.00",
    "reject_formats": STRUCTURED,
}
DEFAULT_TOTAL_PARAMS: dict[str, object] = {
    "tolerance": "0.00",
    "reject_formats": STRUCTURED,
}
DEFAULT_CAPITALS_PARAMS: dict[str, object] = {"reject_formats": STRUCTURED}

_FIX_READ_ZH = (
    "如为识别错误，请上传XML或OFD原件；如发票本身有误，请联系销售方重新开具。"
)
_FIX_READ_EN = (
    "If the invoice was misread, upload the XML or OFD original; if the invoice itself "
    "is wrong, ask the seller for a corrected one."
)


def _no_lines() -> CheckOutcome:
    return skipped("未读到发票明细行。", "No line items were read.")


def _ticket(inv: ExtractedInvoice) -> CheckOutcome | None:
    """Rail e-tickets and air itineraries print no line items and no amount in
    capitals (domain/einvoice.md section 11): those checks do not apply."""
    if inv.kind not in TICKET_KINDS:
        return None
    return skipped(
        "铁路电子客票和航空运输电子客票行程单没有货物服务明细和大写金额，此项不适用。",
        "Rail e-tickets and air itineraries print no line items and no amount in "
        "capitals: this check does not apply.",
        kind=inv.kind.value,
    )


def _lines_not_applicable(inv: ExtractedInvoice) -> CheckOutcome | None:
    """Skipped outcome of a line check on a ticket or on an invoice without lines."""
    if (ticket := _ticket(inv)) is not None:
        return ticket
    if not inv.lines:
        return _no_lines()
    return None


def _per_line_check(
    inv: ExtractedInvoice,
    params: Params,
    compare: Callable[[ExtractedLine], tuple[Decimal, Decimal] | None],
    *,
    unchecked: tuple[str, str],
    problem_zh: str,
    problem_en: str,
) -> CheckOutcome:
    """A check of each line: ``compare`` gives a line's ``(expected, found)``, or
    None when the line prints too little to check; a line whose two differ by more
    than the ``tolerance`` parameter fails. The problems are templates of
    ``{where}`` (line numbers) and ``{tolerance}``; ``unchecked`` is the skip
    reason when no line could be checked."""
    if (not_applicable := _lines_not_applicable(inv)) is not None:
        return not_applicable
    tolerance = param_decimal(params["tolerance"])
    off: list[dict[str, object]] = []
    checked = 0
    for index, line in enumerate(inv.lines, start=1):
        pair = compare(line)
        if pair is None:
            continue
        checked += 1
        expected, found = pair
        if abs(found - expected) > tolerance:
            off.append(
                {"line": index, "expected": round_half_up(expected), "found": found}
            )
    if not checked:
        return skipped(*unchecked)
    if not off:
        return passed(lines_checked=checked)
    where = ", ".join(str(o["line"]) for o in off)
    return failed(
        problem_zh=problem_zh.format(where=where, tolerance=tolerance),
        fix_zh=_FIX_READ_ZH,
        problem_en=problem_en.format(where=where, tolerance=tolerance),
        fix_en=_FIX_READ_EN,
        lines=off,
        tolerance=tolerance,
    )


def expected_line_tax(line: ExtractedLine) -> Decimal | None:
    """round_half_up(amount x rate, 2); 0 for exempt lines; None when unknown."""
    if line.amount is None:
        return None
    if line.tax_exempt:
        return Decimal("0.00")
    if line.tax_rate is None:
        return None
    return round_half_up(line.amount * line.tax_rate)


def _line_amount_pair(line: ExtractedLine) -> tuple[Decimal, Decimal] | None:
    """(quantity x unit price, amount) of a line that prints all three."""
    if line.quantity is None or line.unit_price is None or line.amount is None:
        return None
    product = line.quantity * line.unit_price
    if line.amount < 0 and product > 0:
        # A discount or red line may print its sign on the amount only (a
        # positive quantity and price, a negative amount): compare magnitudes.
        product = -product
    return product, line.amount


def check_line_amounts(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """quantity x unit price vs amount, for lines that print both."""
    return _per_line_check(
        inv,
        params,
        _line_amount_pair,
        unchecked=("明细行未列数量和单价。", "No line prints a quantity and price."),
        problem_zh="第{where}行的数量×单价与金额不符（容差{tolerance}）。",
        problem_en=(
            "Quantity x unit price does not match the amount on line(s) {where} "
            "(tolerance {tolerance})."
        ),
    )


def _line_tax_pair(line: ExtractedLine) -> tuple[Decimal, Decimal] | None:
    """(expected tax, printed tax) of a line with a rate and a tax (or exempt)."""
    expected = expected_line_tax(line)
    if expected is None:
        return None
    if line.tax_amount is None and not line.tax_exempt:
        return None
    found = line.tax_amount if line.tax_amount is not None else Decimal("0.00")
    return expected, found


def check_line_taxes(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """Line tax vs round_half_up(amount x rate); exempt lines carry no tax."""
    return _per_line_check(
        inv,
        params,
        _line_tax_pair,
        unchecked=("明细行缺少税率或税额。", "No line has both a rate and a tax."),
        problem_zh="第{where}行的税额与金额×税率不符（容差{tolerance}）。",
        problem_en=(
            "The tax on line(s) {where} does not match amount x rate "
            "(tolerance {tolerance})."
        ),
    )


def check_line_sums(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """Σ line amounts = 合计金额 and Σ line taxes = 合计税额."""
    if (not_applicable := _lines_not_applicable(inv)) is not None:
        return not_applicable
    tolerance = param_decimal(params["tolerance"])
    amounts = [line.amount for line in inv.lines]
    taxes = [
        line.tax_amount if line.tax_amount is not None else Decimal("0.00")
        for line in inv.lines
        if line.tax_amount is not None or line.tax_exempt
    ]
    mismatches: list[dict[str, object]] = []
    if inv.amount is not None and None not in amounts:
        total = sum(amounts, Decimal("0.00"))  # type: ignore[arg-type]
        if abs(total - inv.amount) > tolerance:
            mismatches.append({"field": "amount", "sum": total, "total": inv.amount})
    if inv.tax_amount is not None and len(taxes) == len(inv.lines):
        total = sum(taxes, Decimal("0.00"))
        if abs(total - inv.tax_amount) > tolerance:
            mismatches.append(
                {"field": "tax_amount", "sum": total, "total": inv.tax_amount}
            )
    if not mismatches:
        return passed()
    zh = "；".join(
        f"{'金额' if m['field'] == 'amount' else '税额'}明细合计{m['sum']}，"
        f"发票合计{m['total']}"
        for m in mismatches
    )
    en = "; ".join(
        f"the {'amounts' if m['field'] == 'amount' else 'taxes'} of the lines add "
        "up to "
        f"{m['sum']} but the invoice total says {m['total']}"
        for m in mismatches
    )
    return failed(
        problem_zh=f"明细行与合计不符：{zh}。",
        fix_zh=_FIX_READ_ZH,
        problem_en=f"Lines and totals disagree: {en}.",
        fix_en=_FIX_READ_EN,
        max_action=cap_for_format(ctx, params),
        mismatches=mismatches,
    )


def check_total(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """合计金额 + 合计税额 = 价税合计."""
    if inv.kind is InvoiceKind.AIR_ITINERARY:
        return skipped(
            "航空运输电子客票行程单的合计含民航发展基金等不征增值税的款项，"
            "金额加税额不等于合计，此项不适用。",
            "An air itinerary's total includes the civil aviation fund and other "
            "charges outside VAT, so amount plus tax does not make the total: this "
            "check does not apply.",
            kind=inv.kind.value,
        )
    if inv.amount is None or inv.tax_amount is None or inv.total_amount is None:
        return skipped("未读到全部合计金额。", "Not all three totals were read.")
    tolerance = param_decimal(params["tolerance"])
    expected = inv.amount + inv.tax_amount
    if abs(expected - inv.total_amount) <= tolerance:
        return passed()
    return failed(
        problem_zh=(
            f"合计金额{inv.amount}加合计税额{inv.tax_amount}等于{expected}，"
            f"但价税合计为{inv.total_amount}。"
        ),
        fix_zh=_FIX_READ_ZH,
        problem_en=(
            f"Amount {inv.amount} plus tax {inv.tax_amount} is {expected}, but the "
            f"total says {inv.total_amount}."
        ),
        fix_en=_FIX_READ_EN,
        max_action=cap_for_format(ctx, params),
        expected=expected,
        found=inv.total_amount,
    )


def check_invoice_tax(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """Σ(amount x rate) vs 合计税额, within the invoice-level tolerance."""
    if (ticket := _ticket(inv)) is not None:
        return ticket
    if inv.tax_amount is None:
        return skipped("未读到合计税额。", "The total tax was not read.")
    if not inv.lines:
        return _no_lines()
    expected = Decimal("0")
    for line in inv.lines:
        if line.amount is None or (line.tax_rate is None and not line.tax_exempt):
            return skipped("明细行缺少金额或税率。", "A line lacks its amount or rate.")
        if not line.tax_exempt:
            expected += line.amount * line.tax_rate  # type: ignore[operator]
    tolerance = param_decimal(params["tolerance"])
    expected = round_half_up(expected)
    if abs(expected - inv.tax_amount) <= tolerance:
        return passed(expected=expected)
    return failed(
        problem_zh=(
            f"按明细金额×税率计算的税额为{expected}，与合计税额{inv.tax_amount}"
            f"相差超过{tolerance}。"
        ),
        fix_zh=_FIX_READ_ZH,
        problem_en=(
            f"Amounts x rates give a tax of {expected}, more than {tolerance} away "
            "from "
            f"the total tax {inv.tax_amount}."
        ),
        fix_en=_FIX_READ_EN,
        expected=expected,
        found=inv.tax_amount,
        tolerance=tolerance,
    )


def check_capitals(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """价税合计 in capitals, parsed into a number, equals the figures."""
    if (ticket := _ticket(inv)) is not None:
        return ticket
    if not inv.total_in_words.strip():
        return skipped("未读到大写金额。", "The amount in capitals was not read.")
    if inv.total_amount is None:
        return skipped("未读到价税合计。", "The total was not read.")
    try:
        value = parse_capitals(inv.total_in_words)
    except ValueError:
        return failed(
            problem_zh=f"无法解读大写金额“{inv.total_in_words}”。",
            fix_zh="审核人员将人工核对；如为识别错误，请上传XML或OFD原件。",
            problem_en=(
                f"The amount in capitals, {inv.total_in_words!r}, could not be read."
            ),
            fix_en=(
                "A reviewer will check it by hand; if the invoice was misread, upload "
                "the XML or OFD original."
            ),
            max_action=Action.REVIEW,
            words=inv.total_in_words,
        )
    if value == inv.total_amount:
        return passed(capitals=value)
    return failed(
        problem_zh=(
            f"大写金额“{inv.total_in_words}”（即{value}）与小写价税合计"
            f"{inv.total_amount}不一致。"
        ),
        fix_zh=_FIX_READ_ZH,
        problem_en=(
            f"The amount in capitals ({value}) differs from the total in figures "
            f"({inv.total_amount})."
        ),
        fix_en=_FIX_READ_EN,
        max_action=cap_for_format(ctx, params),
        capitals=value,
        figures=inv.total_amount,
    )
