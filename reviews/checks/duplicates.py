"""Duplicates: the same identity accepted or in flight (blocking); near duplicates and
files seen before (review). The identity key is ``ExtractedInvoice.identity``."""

from __future__ import annotations

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from . import normalize
from .base import (
    BLOCKING_STATUSES,
    Action,
    CheckContext,
    CheckOutcome,
    ExistingInvoice,
    Params,
    failed,
    passed,
    skipped,
)
from .normalize import param_decimal

DEFAULT_EXACT_PARAMS: dict[str, object] = {"blocking_statuses": list(BLOCKING_STATUSES)}
DEFAULT_NEAR_PARAMS: dict[str, object] = {
    "amount_tolerance": "0.00",
    "date_window_days": 0,
    "statuses": list(BLOCKING_STATUSES),
}
DEFAULT_FILE_PARAMS: dict[str, object] = {}


def _refs(invoices: list[ExistingInvoice]) -> str:
    return ", ".join(i.reference for i in invoices)


def check_exact_duplicate(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    identity = inv.identity
    if not identity:
        return skipped("未读到发票号码。", "No invoice number was read.")
    blocking = set(params["blocking_statuses"])
    blocking_copies = [i for i in ctx.same_identity_invoices if i.status in blocking]
    elsewhere = [i for i in blocking_copies if _other_organization(i, ctx)]
    live = [i for i in blocking_copies if i not in elsewhere]
    if not live and elsewhere:
        return _held_elsewhere(identity, elsewhere)
    if not live:
        earlier = [i.reference for i in ctx.same_identity_invoices]
        return passed(identity=identity, earlier_closed=earlier)
    refs = _refs(live)
    return failed(
        problem_zh=f"该发票（{identity}）已提交过：{refs}，同一张发票只能报销一次。",
        fix_zh="请勿重复提交；如需补充材料，请在原提交记录中回复或撤回原提交后再提交。",
        problem_en=(
            f"This invoice ({identity}) has already been submitted as {refs}; an "
            "invoice can be claimed only once."
        ),
        fix_en=(
            "Do not submit it again; to add information, answer on the existing "
            "submission, or withdraw it first."
        ),
        identity=identity,
        duplicates=[{"reference": i.reference, "status": i.status} for i in live],
    )


def _other_organization(invoice: ExistingInvoice, ctx: CheckContext) -> bool:
    """Held by another (known) organization than the one screened."""
    other = normalize.tax_id(invoice.organization_tax_id)
    return bool(other) and other != normalize.tax_id(ctx.organization_tax_id)


def _held_elsewhere(identity: str, others: list[ExistingInvoice]) -> CheckOutcome:
    """Another organization holds the same invoice (issue 16): never a rejection
    (whoever typed the number in first must not block the genuine buyer) but a fraud
    signal for a reviewer. The message names nothing of the other organization: the
    submitter must not learn that the number exists elsewhere; the details, read by
    reviewers, do."""
    return failed(
        problem_zh="该发票需要人工核对。",
        fix_zh="无需操作，审核人员将核对发票的受票方。",
        problem_en="This invoice needs a manual check.",
        fix_en="Nothing to do: a reviewer checks whom the invoice was issued to.",
        max_action=Action.REVIEW,
        identity=identity,
        held_by_other_organizations=[
            {
                "reference": i.reference,
                "status": i.status,
                "organization_tax_id": i.organization_tax_id,
            }
            for i in others
        ],
    )


def check_near_duplicate(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    seller = normalize.tax_id(inv.seller_tax_id)
    if not seller or inv.total_amount is None or inv.issue_date is None:
        return skipped(
            "缺少销售方税号、金额或日期。", "Seller, total or issue date is missing."
        )
    tolerance = param_decimal(params["amount_tolerance"])
    window = int(params["date_window_days"])
    statuses = set(params["statuses"])
    near = [
        c
        for c in ctx.near_duplicate_candidates
        if c.status in statuses
        and c.identity != inv.identity
        and normalize.tax_id(c.seller_tax_id) == seller
        and c.total_amount is not None
        and abs(c.total_amount - inv.total_amount) <= tolerance
        and c.issue_date is not None
        and abs((c.issue_date - inv.issue_date).days) <= window
    ]
    if not near:
        return passed()
    refs = _refs(near)
    return failed(
        problem_zh=(
            f"已有同一销售方、相同金额和日期的其他发票：{refs}，可能是同一笔费用重复报销。"
        ),
        fix_zh="如确为不同的费用，请在备注中说明；审核人员将核实。",
        problem_en=(
            f"Other invoices with the same seller, amount and date exist ({refs}): "
            "possibly the same expense claimed twice."
        ),
        fix_en=(
            "If these are separate expenses, say so in a comment; a reviewer will "
            "check."
        ),
        candidates=[{"reference": c.reference, "identity": c.identity} for c in near],
    )


def check_same_file(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if not ctx.file_sha256 and not ctx.same_file_invoices:
        return skipped("没有上传文件（手工录入）。", "No file was uploaded.")
    # The same file under the same identity, still live, is the exact duplicate's case.
    live_same = {
        i.reference for i in ctx.same_identity_invoices if i.status in BLOCKING_STATUSES
    }
    seen = [i for i in ctx.same_file_invoices if i.reference not in live_same]
    if not seen:
        return passed(sha256=ctx.file_sha256)
    refs = _refs(seen)
    return failed(
        problem_zh=f"同一文件曾用于其他提交：{refs}。",
        fix_zh="请确认上传的是本张发票的文件；如上传错误，请撤回后重新上传正确文件。",
        problem_en=f"The same file was already used for {refs}.",
        fix_en=(
            "Check that you uploaded this invoice's own file; if not, withdraw and "
            "upload the right one."
        ),
        sha256=ctx.file_sha256,
        submissions=[{"reference": i.reference, "status": i.status} for i in seen],
    )
