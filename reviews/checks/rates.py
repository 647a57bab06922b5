"""Tax rates valid for the issue date, and category/rate consistency
(domain/einvoice.md section 5)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal

from invoiceportal.invoices.extraction.types import ExtractedInvoice, InvoiceKind

from .base import CheckContext, CheckOutcome, Params, failed, passed, skipped
from .normalize import param_decimal

# Periods are inclusive; None is open-ended. The 13 % general rate before 2017-07-01 is
# the old reduced rate (abolished by 财税〔2017〕37号), not today's standard rate.
DEFAULT_RATE_PERIODS: list[dict[str, object]] = [
    {"from": None, "until": "2017-06-30", "rates": ["0.17", "0.13", "0.11", "0.06"]},
    {"from": "2017-07-01", "until": "2018-04-30", "rates": ["0.17", "0.11", "0.06"]},
    {"from": "2018-05-01", "until": "2019-03-31", "rates": ["0.16", "0.10", "0.06"]},
    {"from": "2019-04-01", "until": None, "rates": ["0.13", "0.09", "0.06"]},
    # zero rate and levy rates for small-scale taxpayers; 2 % is [U]: left to review
    {"from": None, "until": None, "rates": ["0", "0.03", "0.05", "0.015"]},
    {"from": "2020-03-01", "until": "2027-12-31", "rates": ["0.01"]},
]
DEFAULT_RATE_PARAMS: dict[str, object] = {"periods": DEFAULT_RATE_PERIODS}

_STANDARD = ["0.13", "0.16", "0.17"]
_REDUCED = ["0.09", "0.10", "0.11", "0.13"]
_SERVICES = ["0.06"]
DEFAULT_CATEGORY_RATES: dict[str, list[str]] = {
    **{
        c: _SERVICES
        for c in [
            "餐饮服务",
            "住宿服务",
            "现代服务",
            "生活服务",
            "信息技术服务",
            "研发和技术服务",
            "鉴证咨询服务",
            "文化创意服务",
            "广播影视服务",
            "商务辅助服务",
            "金融服务",
            "经纪代理服务",
            "文化体育服务",
            "教育医疗服务",
            "旅游娱乐服务",
            "居民日常服务",
            "增值电信服务",
            "物流辅助服务",
        ]
    },
    **{
        c: _REDUCED
        for c in [
            "运输服务",
            "建筑服务",
            "不动产",
            "销售不动产",
            "不动产租赁服务",
            "基础电信服务",
            "邮政服务",
            "图书",
            "报纸",
            "蔬菜",
            "水果",
            "谷物",
        ]
    },
    **{
        c: _STANDARD
        for c in [
            "有形动产租赁服务",
            "修理修配劳务",
            "计算机配套产品",
            "日用杂品",
            "文具",
        ]
    },
}
# Rates that never conflict with a category: zero and the levy rates.
DEFAULT_NEUTRAL_RATES = ["0", "0.01", "0.015", "0.02", "0.03", "0.05"]
DEFAULT_CATEGORY_PARAMS: dict[str, object] = {
    "categories": DEFAULT_CATEGORY_RATES,
    "neutral_rates": DEFAULT_NEUTRAL_RATES,
}

_CATEGORY = re.compile(r"^\s*\*([^*]+)\*")


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def valid_rates(periods: Iterable[Mapping[str, object]], day: dt.date) -> set[Decimal]:
    rates: set[Decimal] = set()
    for period in periods:
        start, until = period.get("from"), period.get("until")
        if start is not None and day < dt.date.fromisoformat(str(start)):
            continue
        if until is not None and day > dt.date.fromisoformat(str(until)):
            continue
        values = period["rates"]
        assert isinstance(values, list)
        rates.update(param_decimal(r) for r in values)
    return rates


def _not_vat() -> CheckOutcome:
    return skipped(
        "通用机打发票不是增值税发票，不核对税率。",
        "A general machine-printed invoice is not a VAT invoice: no rate to check.",
    )


def check_rate_for_date(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if inv.kind is InvoiceKind.GENERAL_MACHINE:
        return _not_vat()
    if inv.issue_date is None:
        return skipped("未读到开票日期。", "The issue date was not read.")
    if not inv.lines:
        return skipped("未读到发票明细行。", "No line items were read.")
    allowed = valid_rates(params["periods"], inv.issue_date)
    bad: list[tuple[int, Decimal | None]] = [
        (index, line.tax_rate)
        for index, line in enumerate(inv.lines, start=1)
        if not line.tax_exempt
        and (line.tax_rate is None or line.tax_rate not in allowed)
    ]
    if not bad:
        return passed(allowed=sorted(allowed))
    shown = "、".join(
        f"第{n}行" + (_pct(rate) if rate is not None else "（未读到）")
        for n, rate in bad
    )
    shown_en = ", ".join(
        f"line {n}: " + (_pct(rate) if rate is not None else "not read")
        for n, rate in bad
    )
    return failed(
        problem_zh=f"税率在开票日期{inv.issue_date}不适用或未读到：{shown}。",
        fix_zh="审核人员将核实；如税率开具错误，请联系销售方重新开具。",
        problem_en=(
            f"Tax rate not valid on the issue date {inv.issue_date} or not read "
            f"({shown_en})."
        ),
        fix_en=(
            "A reviewer will check it; if the seller used a wrong rate, ask for a "
            "corrected invoice."
        ),
        lines=[{"line": n, "rate": rate} for n, rate in bad],
    )


def line_category(name: str) -> str:
    """``*餐饮服务*餐费`` -> ``餐饮服务``; empty when the name has no category."""
    match = _CATEGORY.match(name or "")
    return match.group(1).strip() if match else ""


def check_category_rate(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    if inv.kind is InvoiceKind.GENERAL_MACHINE:
        return _not_vat()
    if not inv.lines:
        return skipped("未读到发票明细行。", "No line items were read.")
    categories: Mapping[str, list[str]] = params["categories"]
    neutral = {param_decimal(r) for r in params["neutral_rates"]}
    bad: list[tuple[int, str, Decimal, list[Decimal]]] = []
    for index, line in enumerate(inv.lines, start=1):
        category = line_category(line.name)
        rate = line.tax_rate
        if line.tax_exempt or rate is None or category not in categories:
            continue
        expected = {param_decimal(r) for r in categories[category]}
        if rate not in neutral and rate not in expected:
            bad.append((index, category, rate, sorted(expected)))
    if not bad:
        return passed()
    zh = "、".join(f"第{n}行“{cat}”{_pct(rate)}" for n, cat, rate, _ in bad)
    en = ", ".join(f"line {n} {cat} at {_pct(rate)}" for n, cat, rate, _ in bad)
    return failed(
        problem_zh=f"商品服务类别与税率不相符：{zh}。",
        fix_zh="审核人员将核实；如类别或税率开具错误，请联系销售方重新开具。",
        problem_en=f"Category and tax rate do not usually go together: {en}.",
        fix_en=(
            "A reviewer will check it; if the seller used a wrong category or rate, "
            "ask for a corrected invoice."
        ),
        lines=[
            {"line": n, "category": cat, "rate": rate, "expected": expected}
            for n, cat, rate, expected in bad
        ],
    )
