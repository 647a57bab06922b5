"""The verifier's answer (查验, domain/einvoice.md section 7).

``registry.status``: void or red-flushed -> reject (a partial red flush -> review).
``registry.match``: not found, mismatching fields, or verifier unavailable -> review;
an unavailable verifier never rejects, whatever the rule's configured action.
"""

from __future__ import annotations

from decimal import Decimal

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from . import normalize
from .base import (
    REGISTRY_NOT_FOUND,
    Action,
    CheckContext,
    CheckOutcome,
    Params,
    RegistryRecord,
    RegistryStatus,
    failed,
    passed,
    skipped,
)
from .normalize import param_decimal

DEFAULT_STATUS_PARAMS: dict[str, object] = {}
# The fields of a registry record compared with the invoice (and imported from CSV).
REGISTRY_FIELDS = (
    "code",
    "number",
    "issue_date",
    "seller_tax_id",
    "buyer_tax_id",
    "amount",
    "tax_amount",
    "total_amount",
    "check_code",
)
DEFAULT_MATCH_PARAMS: dict[str, object] = {
    "fields": list(REGISTRY_FIELDS),
    "amount_tolerance": "0.00",
}
_MONEY_FIELDS = ("amount", "tax_amount", "total_amount")


def check_registry_status(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    record = ctx.registry
    if not isinstance(record, RegistryRecord):
        return skipped(
            "税务机关的发票状态尚未得到。", "No registry record is available yet."
        )
    if record.status == RegistryStatus.NORMAL:
        return passed(status=record.status)
    if record.status == RegistryStatus.VOID:
        return failed(
            problem_zh="经税务机关查验，该发票已作废。",
            fix_zh="作废发票不能报销，请联系销售方重新开具有效发票。",
            problem_en="The tax authority's registry shows this invoice as void.",
            fix_en=(
                "A void invoice cannot be claimed: ask the seller for a new, valid "
                "invoice."
            ),
            status=record.status,
        )
    total = inv.total_amount if inv.total_amount is not None else record.total_amount
    flushed = record.red_flushed_amount
    partial = flushed is not None and total is not None and abs(flushed) < abs(total)
    if partial:
        return failed(
            problem_zh=f"经税务机关查验，该发票已被部分红冲（{flushed}元）。",
            fix_zh="审核人员将核实可报销的剩余金额；请备好红字发票或销售方说明。",
            problem_en=(
                "The registry shows this invoice as partly red-flushed "
                f"(CNY {flushed})."
            ),
            fix_en=(
                "A reviewer will confirm the amount still claimable; have the "
                "red-letter invoice or the seller's note ready."
            ),
            max_action=Action.REVIEW,
            status=record.status,
            red_flushed_amount=flushed,
        )
    return failed(
        problem_zh="经税务机关查验，该发票已被红冲（冲销）。",
        fix_zh="已红冲的发票不能报销；如交易仍有效，请联系销售方重新开具。",
        problem_en="The registry shows this invoice as red-flushed (reversed).",
        fix_en=(
            "A reversed invoice cannot be claimed; if the purchase stands, ask the "
            "seller for a new invoice."
        ),
        status=record.status,
        red_flushed_amount=flushed,
    )


def _differs(name: str, mine: object, theirs: object, tolerance: Decimal) -> bool:
    if mine in (None, "") or theirs in (None, ""):
        return False  # a field one side lacks cannot disagree
    if name in _MONEY_FIELDS:
        return abs(mine - theirs) > tolerance  # type: ignore[operator]
    if name.endswith("tax_id"):
        return normalize.tax_id(str(mine)) != normalize.tax_id(str(theirs))
    if name == "check_code":
        a, b = str(mine).strip(), str(theirs).strip()
        return not (a.endswith(b) or b.endswith(a))
    if isinstance(mine, str):
        return mine.strip() != str(theirs).strip()
    return mine != theirs


def check_registry_match(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    record = ctx.registry
    if record is None or record == "unavailable":
        return failed(
            problem_zh="暂时无法向税务机关查验该发票（查验服务不可用）。",
            fix_zh="无需操作：系统会自动重试，审核人员也可人工查验。",
            problem_en="The invoice could not be verified: the verifier is down.",
            fix_en=(
                "Nothing to do: the portal retries automatically and a reviewer can "
                "verify it by hand."
            ),
            max_action=Action.REVIEW,
            registry="unavailable" if record else "not_checked",
        )
    if record == REGISTRY_NOT_FOUND:
        return failed(
            problem_zh="税务机关的发票登记中查无此票。",
            fix_zh="请核对发票号码、日期和金额；新开具的发票可能需要一两天才能查到。",
            problem_en="The invoice was not found in the tax authority's registry.",
            fix_en=(
                "Check the number, date and amounts; a newly issued invoice can take "
                "a day or two to appear."
            ),
            max_action=Action.REVIEW,
            registry="not_found",
        )
    if not isinstance(record, RegistryRecord):
        return skipped("查验结果无法识别。", "Unrecognised registry answer.")
    tolerance = param_decimal(params["amount_tolerance"])
    diffs = [
        {
            "field": name,
            "invoice": getattr(inv, name),
            "registry": getattr(record, name),
        }
        for name in params["fields"]
        if _differs(name, getattr(inv, name), getattr(record, name), tolerance)
    ]
    if not diffs:
        return passed(registry=record.status)
    names = ", ".join(str(d["field"]) for d in diffs)
    return failed(
        problem_zh=f"发票内容与税务机关登记的信息不一致（{names}）。",
        fix_zh="请核对上传的是否为原始发票；如为识别错误，请上传XML或OFD原件。",
        problem_en=(
            f"The invoice differs from the tax authority's registry record ({names})."
        ),
        fix_en=(
            "Check that you uploaded the original invoice; if it was misread, upload "
            "the XML or OFD original."
        ),
        max_action=Action.REVIEW,
        differences=diffs,
    )
