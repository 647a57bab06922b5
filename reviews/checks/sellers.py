"""Sellers on the admin-managed blocklist or watchlist; amounts above a threshold."""

from __future__ import annotations

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from . import normalize
from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped
from .normalize import param_decimal

DEFAULT_LIST_PARAMS: dict[str, object] = {}
DEFAULT_AMOUNT_PARAMS: dict[str, object] = {
    "threshold": "100000.00",
    "basis": "total_amount",
}


def _listed(inv: ExtractedInvoice, ids: frozenset[str]) -> bool:
    seller = normalize.tax_id(inv.seller_tax_id)
    return bool(seller) and seller in {normalize.tax_id(i) for i in ids}


def _list_outcome(
    inv: ExtractedInvoice,
    ids: frozenset[str],
    *,
    list_zh: str,
    list_en: str,
    fix_zh: str,
    fix_en: str,
) -> CheckOutcome:
    """Failed, naming the seller and the list, when the seller is on ``ids``."""
    if not _listed(inv, ids):
        return passed()
    return failed(
        problem_zh=f"销售方{inv.seller_name}（{inv.seller_tax_id}）在{list_zh}中。",
        fix_zh=fix_zh,
        problem_en=(
            f"The seller {inv.seller_name} ({inv.seller_tax_id}) is on the {list_en}."
        ),
        fix_en=fix_en,
        seller_tax_id=inv.seller_tax_id,
    )


def check_blocklist(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    return _list_outcome(
        inv,
        ctx.blocklist_seller_tax_ids,
        list_zh="禁止往来名单",
        list_en="blocklist",
        fix_zh="来自该销售方的发票不予报销；如有疑问，请联系财务部门。",
        fix_en=(
            "Invoices from this seller are not accepted; contact the finance team if "
            "you think this is wrong."
        ),
    )


def check_watchlist(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    return _list_outcome(
        inv,
        ctx.watchlist_seller_tax_ids,
        list_zh="重点关注名单",
        list_en="watchlist",
        fix_zh="无需操作，审核人员将人工审核；请准备好相关合同或证明以备询问。",
        fix_en=(
            "Nothing to do now: a reviewer will check it; keep the contract or other "
            "evidence ready in case they ask."
        ),
    )


def check_amount_threshold(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    basis = str(params["basis"])
    value = getattr(inv, basis)
    if value is None:
        return skipped("未读到金额。", "The amount was not read.", basis=basis)
    threshold = param_decimal(params["threshold"])
    if abs(value) <= threshold:
        return passed(amount=value, threshold=threshold)
    return failed(
        problem_zh=f"发票金额{value}元超过{threshold}元，需要人工审核。",
        fix_zh="无需操作，审核人员将审核；请准备好相关合同或审批单以备询问。",
        problem_en=(
            f"The amount, CNY {value}, is above CNY {threshold}: a reviewer must "
            "approve it."
        ),
        fix_en=(
            "Nothing to do now; keep the contract or approval form ready in case the "
            "reviewer asks."
        ),
        amount=value,
        threshold=threshold,
        basis=basis,
    )
