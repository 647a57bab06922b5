"""Dates: not in the future, not older than a configurable age."""

from __future__ import annotations

import datetime as dt

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped

DEFAULT_FUTURE_PARAMS: dict[str, object] = {"grace_days": 0}
DEFAULT_AGE_PARAMS: dict[str, object] = {"max_age_days": 365}


def check_not_future(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if inv.issue_date is None:
        return skipped("未读到开票日期。", "The issue date was not read.")
    latest = ctx.today + dt.timedelta(days=int(params["grace_days"]))
    if inv.issue_date <= latest:
        return passed(issue_date=inv.issue_date)
    return failed(
        problem_zh=f"开票日期{inv.issue_date}晚于今天（{ctx.today}），发票不可能已开具。",
        fix_zh="请核对开票日期；如发票信息有误，请联系销售方重新开具后再提交。",
        problem_en=(
            f"The issue date {inv.issue_date} is after today ({ctx.today}): no invoice "
            "can have been issued then."
        ),
        fix_en=(
            "Check the issue date; if the invoice is wrong, ask the seller for a "
            "corrected one and submit that."
        ),
        issue_date=inv.issue_date,
        today=ctx.today,
    )


def check_max_age(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    max_age = int(params["max_age_days"])
    if inv.issue_date is None:
        return failed(
            problem_zh="未能读取开票日期。",
            fix_zh="请上传清晰的原始发票（最好是XML或OFD文件），审核人员将人工核对。",
            problem_en="The issue date could not be read.",
            fix_en=(
                "Upload a clear original (preferably the XML or OFD file); a reviewer "
                "will check it by hand."
            ),
        )
    age = (ctx.today - inv.issue_date).days
    if age <= max_age:
        return passed(age_days=age)
    return failed(
        problem_zh=f"发票开具于{inv.issue_date}，已超过{max_age}天的报销期限（{age}天）。",
        fix_zh="如确需报销，请在备注中说明逾期原因，审核人员将决定是否受理。",
        problem_en=(
            f"The invoice was issued on {inv.issue_date}, {age} days ago: older than "
            f"the {max_age}-day limit."
        ),
        fix_en=(
            "If it must still be claimed, explain the delay in a comment; a reviewer "
            "will decide."
        ),
        age_days=age,
        max_age_days=max_age,
    )
