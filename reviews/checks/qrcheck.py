"""The QR payload agrees with the body of the document (domain/einvoice.md sections 9
and 11).

The QR amount is 价税合计 on a 数电 invoice (rail and air tickets included) and the
amount excluding tax on a legacy one; empty fields may hold spaces. A rail ticket or air
itinerary may carry a 数电 QR type (31/32): not a kind mismatch. A general machine-
printed invoice's QR type and amount basis are not known [U]: its type is not compared
and either total matches.
"""

from __future__ import annotations

from invoiceportal.invoices.extraction.qr import parse_qr_payload
from invoiceportal.invoices.extraction.types import (
    TICKET_KINDS,
    ExtractedInvoice,
    InvoiceKind,
)

from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped
from .identity import DIGITAL_KINDS
from .normalize import param_decimal

# QR types whose kind is confirmed enough to compare (20 for 电子专票 is [U]).
DEFAULT_PARAMS: dict[str, object] = {
    "compare_kind_types": ["31", "32", "10", "14", "01", "04"],
    "amount_tolerance": "0.00",
}


def check_qr(inv: ExtractedInvoice, ctx: CheckContext, params: Params) -> CheckOutcome:
    if not inv.qr_payload.strip():
        return skipped("未读到二维码。", "No QR code was read.")
    qr = parse_qr_payload(inv.qr_payload)
    if qr is None:
        return failed(
            problem_zh="二维码内容不是发票二维码格式。",
            fix_zh="请上传清晰完整的原始发票；审核人员将人工核对。",
            problem_en="The QR code does not hold an invoice payload.",
            fix_en="Upload a clear, complete original; a reviewer will check it.",
            payload=inv.qr_payload,
        )
    diffs: list[dict[str, object]] = []

    def differ(name: str, on_qr: object, on_body: object) -> None:
        diffs.append({"field": name, "qr": on_qr, "body": on_body})

    if inv.number and qr.number != inv.number.strip():
        differ("number", qr.number, inv.number)
    if qr.code and inv.code and qr.code != inv.code.strip():
        differ("code", qr.code, inv.code)
    if qr.issue_date and inv.issue_date and qr.issue_date != inv.issue_date:
        differ("issue_date", qr.issue_date, inv.issue_date)
    if (
        qr.qr_type in params["compare_kind_types"]
        and inv.kind not in (InvoiceKind.OTHER, InvoiceKind.GENERAL_MACHINE)
        and qr.kind is not inv.kind
        and not (inv.kind in TICKET_KINDS and qr.kind in DIGITAL_KINDS)
    ):
        differ("kind", qr.kind.value, inv.kind.value)
    digital = qr.kind in DIGITAL_KINDS or (
        qr.kind is InvoiceKind.OTHER and inv.kind in DIGITAL_KINDS
    )
    if inv.kind is InvoiceKind.GENERAL_MACHINE:
        candidates = [inv.total_amount, inv.amount]
        basis = "total_amount or amount"
    else:
        candidates = [inv.total_amount if digital else inv.amount]
        basis = "total_amount" if digital else "amount"
    bodies = [amount for amount in candidates if amount is not None]
    if qr.amount is not None and bodies:
        tolerance = param_decimal(params["amount_tolerance"])
        # Red invoices may print the QR amount with or without its sign.
        if all(
            min(abs(qr.amount - body), abs(abs(qr.amount) - abs(body))) > tolerance
            for body in bodies
        ):
            differ("amount", qr.amount, bodies[0])
    check = inv.check_code.strip()
    if (
        qr.check_code
        and check
        and not (check.endswith(qr.check_code) or qr.check_code.endswith(check))
    ):
        differ("check_code", qr.check_code, check)
    if not diffs:
        return passed(qr_type=qr.qr_type)
    names = ", ".join(str(d["field"]) for d in diffs)
    return failed(
        problem_zh=f"二维码信息与发票票面不一致（{names}），可能是识别错误或票面被修改。",
        fix_zh="请上传销售方提供的原始文件（XML、OFD或PDF），勿上传编辑过的文件。",
        problem_en=(
            f"The QR code disagrees with the invoice body ({names}): a misreading or "
            "an altered document."
        ),
        fix_en=(
            "Upload the original file from the seller (XML, OFD or PDF), never an "
            "edited copy."
        ),
        differences=diffs,
        amount_basis=basis,
    )
