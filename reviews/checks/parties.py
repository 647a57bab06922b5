"""Parties: the buyer is the submitting organization; both tax IDs are well formed
(domain/einvoice.md section 2)."""

from __future__ import annotations

from invoiceportal.common.taxid import TaxIdForm, classify_tax_id
from invoiceportal.invoices.extraction.types import TICKET_KINDS, ExtractedInvoice

from . import normalize
from .base import Action, CheckContext, CheckOutcome, Params, failed, passed, skipped

DEFAULT_BUYER_ID_PARAMS: dict[str, object] = {}
DEFAULT_BUYER_NAME_PARAMS: dict[str, object] = {}
DEFAULT_FORM_PARAMS: dict[str, object] = {
    "accept_legacy_forms": True,
    "accept_personal_id": True,
}


def check_buyer_tax_id(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    buyer = normalize.tax_id(inv.buyer_tax_id)
    org = normalize.tax_id(ctx.organization_tax_id)
    if not buyer:
        return failed(
            problem_zh="未能读取发票上的购买方纳税人识别号。",
            fix_zh="请上传清晰的原始发票（最好是XML或OFD文件），审核人员将人工核对。",
            problem_en="The buyer's tax ID could not be read from the invoice.",
            fix_en=(
                "Upload a clear original (preferably the XML or OFD file); a reviewer "
                "will check it by hand."
            ),
            max_action=Action.REVIEW,
            organization_tax_id=org,
        )
    if buyer != org:
        return failed(
            problem_zh=(
                f"发票的购买方纳税人识别号{buyer}不是贵单位的{org}，"
                "该发票不是开给贵单位的。"
            ),
            fix_zh="请联系销售方按贵单位的名称和税号重新开具发票后再提交。",
            problem_en=(
                f"The buyer tax ID on the invoice, {buyer}, is not your "
                f"organization's ({org}): the invoice was not issued to you."
            ),
            fix_en=(
                "Ask the seller to issue a new invoice to your organization's name and "
                "tax ID, then submit that one."
            ),
            buyer_tax_id=buyer,
            organization_tax_id=org,
        )
    return passed(buyer_tax_id=buyer)


def check_buyer_name(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if not ctx.organization_name:
        return skipped("未配置单位名称。", "The organization has no name on file.")
    if not inv.buyer_name.strip():
        return skipped("发票上未读到购买方名称。", "No buyer name was read.")
    if normalize.party_name(inv.buyer_name) == normalize.party_name(
        ctx.organization_name
    ):
        return passed(buyer_name=inv.buyer_name)
    return failed(
        problem_zh=(
            f"发票的购买方名称“{inv.buyer_name}”与贵单位名称"
            f"“{ctx.organization_name}”不一致。"
        ),
        fix_zh="如名称确有误，请联系销售方重新开具；如为简称或旧名称，审核人员将核实。",
        problem_en=(
            f"The buyer name on the invoice, {inv.buyer_name!r}, differs from your "
            f"organization's name, {ctx.organization_name!r}."
        ),
        fix_en=(
            "If the name is wrong, ask the seller for a corrected invoice; if it is a "
            "former or short name, a reviewer will confirm it."
        ),
        buyer_name=inv.buyer_name,
        organization_name=ctx.organization_name,
    )


def _acceptable(form: TaxIdForm, params: Params) -> bool:
    if form is TaxIdForm.USCC:
        return True
    if form is TaxIdForm.PERSONAL_ID:
        return bool(params["accept_personal_id"])
    if form is TaxIdForm.LEGACY:
        return bool(params["accept_legacy_forms"])
    return False


def check_tax_id_forms(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """Seller and buyer IDs: a valid USCC or a recognised older or personal form. A
    buyer with no ID at all is a natural person on a 普票: not this rule's concern.
    Rail e-tickets and air itineraries print no seller tax ID (domain/einvoice.md
    section 11): a missing one is expected there, a printed one is still checked."""
    forms: dict[str, str] = {}
    bad: list[tuple[str, str, str]] = []  # (zh role, en role, value)
    for role_zh, role_en, value in (
        ("销售方", "seller", inv.seller_tax_id),
        ("购买方", "buyer", inv.buyer_tax_id),
    ):
        tid = normalize.tax_id(value)
        if not tid:
            if role_en == "seller" and inv.kind not in TICKET_KINDS:
                bad.append((role_zh, role_en, ""))
            continue
        form = classify_tax_id(tid)
        forms[role_en] = form.value
        if not _acceptable(form, params):
            bad.append((role_zh, role_en, tid))
    if not bad:
        return passed(forms=forms)
    zh = "；".join(f"{r}税号“{v}”" if v else f"{r}税号缺失" for r, _, v in bad)
    en = "; ".join(
        f"{r} tax ID {v!r}" if v else f"{r} tax ID missing" for _, r, v in bad
    )
    return failed(
        problem_zh=f"{zh}既不是有效的统一社会信用代码，也不是可识别的旧税号或身份证号。",
        fix_zh="请核对发票上的税号；如发票开具有误，请联系销售方重新开具。",
        problem_en=(
            f"{en[0].upper()}{en[1:]}: neither a valid Unified Social Credit Code nor "
            "a recognised older or personal ID."
        ),
        fix_en=(
            "Check the tax IDs printed on the invoice; if the seller made a mistake, "
            "ask for a corrected invoice."
        ),
        max_action=Action.REVIEW,
        forms=forms,
        invalid=[{"party": r, "value": v} for _, r, v in bad],
    )
