"""Kinds that are not ordinary VAT invoices: passenger tickets and the provincial
general machine-printed invoice (domain/einvoice.md section 11).

- ``deductible_input_vat``: the input VAT a 数电 rail ticket or air itinerary lets the
  organization deduct (财政部 税务总局 海关总署公告2019年第39号 §6): rail
  票面金额 ÷ (1+9%) × 9%; air (票价 + 燃油附加费) ÷ (1+9%) × 9%, domestic flights
  only, the civil aviation development fund (民航发展基金) excluded. The rates are
  rule parameters: the VAT Law in force from 2026 may change the basis [U].
- ``check_ticket_deduction`` (rule ``tickets.deductible_vat``, ``info`` by default):
  computes it at screening and stores it in the result's details (``deductible_tax``),
  which the pages and the API show.
- ``check_general_machine`` (rule ``kind.general_machine``, ``review`` by default): a
  通用机打发票 is not a VAT invoice, so it is never approved automatically as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from invoiceportal.common.money import round_half_up, to_decimal
from invoiceportal.invoices.extraction.types import (
    TICKET_KINDS,
    ExtractedInvoice,
    InvoiceKind,
)

from .base import (
    CheckContext,
    CheckOutcome,
    Outcome,
    Params,
    failed,
    jsonable,
    passed,
    skipped,
)
from .normalize import param_decimal

GENERAL_MACHINE_RULE = "kind.general_machine"
DEFAULT_DEDUCTION_PARAMS: dict[str, object] = {"rail_rate": "0.09", "air_rate": "0.09"}
DEFAULT_GENERAL_MACHINE_PARAMS: dict[str, object] = {}

# Why no amount could be computed (``Deduction.reason``).
NOT_A_TICKET = "not_a_ticket"
INTERNATIONAL = "international"
DOMESTIC_UNKNOWN = "domestic_unknown"
FARE_MISSING = "fare_missing"
PASSENGER_MISSING = "passenger_missing"


@dataclass(frozen=True)
class Deduction:
    """The deductible input VAT of a ticket: ``amount`` is None when it cannot be
    computed (``reason`` says why); 0.00 for an international flight."""

    amount: Decimal | None
    basis: Decimal | None = None  # the amount the rate applies to, tax included
    rate: Decimal | None = None
    reason: str = ""
    printed: bool = False  # the VAT printed on a 数电 itinerary, taken as it stands


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return to_decimal(value if isinstance(value, Decimal) else str(value))
    except ValueError:
        return None


def _section(extras: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    section = (extras or {}).get(key)
    return section if isinstance(section, Mapping) else {}


def is_international(flag: Any) -> bool | None:
    """The itinerary's 国内国际标识: True international, False domestic, None
    unknown."""
    text = str(flag or "").strip().upper()
    if not text:
        return None
    if "国际" in text or "地区" in text or text in ("I", "INTL", "INTERNATIONAL"):
        return True
    if "国内" in text or text in ("D", "DOMESTIC"):
        return False
    return None


def tax_in(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT included in a tax-inclusive ``gross`` at ``rate``, to the cent."""
    return round_half_up(gross * rate / (1 + rate))


def deductible_input_vat(
    kind: InvoiceKind | str,
    *,
    total_amount: Decimal | None,
    extras: Mapping[str, Any] | None,
    rail_rate: Decimal,
    air_rate: Decimal,
    printed_tax: Decimal | None = None,
) -> Deduction:
    """The input VAT a passenger ticket lets the buyer deduct (公告2019年第39号 §6).

    Rail: 票面金额 (the total, or the fare read into ``extras["rail"]``)
    ÷ (1+rate) × rate.
    Air: (票价 + 燃油附加费) ÷ (1+rate) × rate for a domestic flight; an international
    one gives nothing (0.00); the civil aviation fund and other taxes never count.
    Both need the passenger's name on the ticket. Rounded half up to the cent.

    A 数电 itinerary prints its 增值税税额 (``printed_tax``) with 票价 and 燃油附加费
    shown excluding VAT; the platform lets the buyer deduct that amount as it stands
    ("查询电子行程单对应的增值税税额并按规定勾选抵扣，免去按照总价进行换算", the
    announcement 2024 No. 9 explanation), so it wins over the formula when read.
    """
    kind = InvoiceKind(kind)
    if kind is InvoiceKind.RAIL_TICKET:
        rail = _section(extras, "rail")
        basis = total_amount if total_amount is not None else _money(rail.get("fare"))
        if basis is None:
            return Deduction(None, rate=rail_rate, reason=FARE_MISSING)
        if not str(rail.get("passenger", "")).strip():
            return Deduction(None, basis, rail_rate, PASSENGER_MISSING)
        return Deduction(tax_in(basis, rail_rate), basis, rail_rate)
    if kind is InvoiceKind.AIR_ITINERARY:
        air = _section(extras, "air")
        fare = _money(air.get("fare"))
        if fare is None:
            return Deduction(None, rate=air_rate, reason=FARE_MISSING)
        basis = fare + (_money(air.get("fuel_surcharge")) or Decimal("0.00"))
        international = is_international(air.get("domestic"))
        if international is None:
            return Deduction(None, basis, air_rate, DOMESTIC_UNKNOWN)
        if international:
            return Deduction(Decimal("0.00"), basis, air_rate, INTERNATIONAL)
        if not str(air.get("passenger", "")).strip():
            return Deduction(None, basis, air_rate, PASSENGER_MISSING)
        if printed_tax is not None and printed_tax >= 0:
            return Deduction(printed_tax, basis, air_rate, printed=True)
        return Deduction(tax_in(basis, air_rate), basis, air_rate)
    return Deduction(None, reason=NOT_A_TICKET)


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


_NOT_COMPUTED = {
    FARE_MISSING: (
        "未读到票价，无法计算可抵扣的进项税额。",
        "The fare was not read, so the deductible input VAT cannot be computed.",
    ),
    PASSENGER_MISSING: (
        "未读到旅客身份信息；按财政部 税务总局 海关总署公告2019年第39号，"
        "注明旅客身份信息的客票才能计算抵扣进项税额。",
        "No passenger name was read; under announcement 2019 No. 39 only a ticket "
        "that names the passenger gives deductible input VAT.",
    ),
    DOMESTIC_UNKNOWN: (
        "未读到国内国际标识；只有国内航班可以计算抵扣进项税额。",
        "The domestic/international mark was not read; only domestic flights give "
        "deductible input VAT.",
    ),
}


def check_ticket_deduction(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """Computes the deductible input VAT of a rail ticket or air itinerary; fails
    (``info`` by default) when it cannot, saying why."""
    if inv.kind not in TICKET_KINDS:
        return skipped(
            "不是铁路电子客票或航空运输电子客票行程单。",
            "Not a rail e-ticket or an air itinerary.",
        )
    rail_rate = param_decimal(params["rail_rate"])
    air_rate = param_decimal(params["air_rate"])
    deduction = deductible_input_vat(
        inv.kind,
        total_amount=inv.total_amount,
        extras=inv.extras,
        rail_rate=rail_rate,
        air_rate=air_rate,
        printed_tax=inv.tax_amount,
    )
    details = {
        "deductible_tax": deduction.amount,
        "basis": deduction.basis,
        "rate": deduction.rate,
        "reason": deduction.reason,
    }
    if deduction.amount is None:
        zh, en = _NOT_COMPUTED[deduction.reason]
        return failed(
            problem_zh=zh,
            fix_zh="审核人员或财务可按票面信息人工计算；如为识别错误，请上传OFD或XML原件。",
            problem_en=en,
            fix_en=(
                "Finance can compute it from the ticket by hand; if the ticket was "
                "misread, upload the OFD or XML original."
            ),
            **details,
        )
    assert deduction.basis is not None and deduction.rate is not None
    rate = _pct(deduction.rate)
    if deduction.reason == INTERNATIONAL:
        zh = "国际航班的航空运输电子客票行程单不能抵扣进项税额（可抵扣0.00元）。"
        en = (
            "An international flight's itinerary gives no deductible input VAT "
            "(0.00 CNY)."
        )
    elif deduction.printed:
        zh = f"可抵扣进项税额{deduction.amount}元：电子行程单上注明的增值税税额。"
        en = (
            f"Deductible input VAT {deduction.amount} CNY: the VAT printed on the "
            "itinerary."
        )
    elif inv.kind is InvoiceKind.RAIL_TICKET:
        zh = (
            f"可抵扣进项税额{deduction.amount}元：票面金额{deduction.basis}÷"
            f"(1+{rate})×{rate}。"
        )
        en = (
            f"Deductible input VAT {deduction.amount} CNY: fare {deduction.basis} "
            f"/ (1 + {rate}) x {rate}."
        )
    else:
        zh = (
            f"可抵扣进项税额{deduction.amount}元：(票价+燃油附加费){deduction.basis}÷"
            f"(1+{rate})×{rate}，民航发展基金不计。"
        )
        en = (
            f"Deductible input VAT {deduction.amount} CNY: (fare + fuel surcharge) "
            f"{deduction.basis} / (1 + {rate}) x {rate}; the civil aviation fund is "
            "not counted."
        )
    return CheckOutcome(Outcome.PASS, zh, en, jsonable(details))


def check_general_machine(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    """A 通用机打发票 is a provincial general invoice, not a VAT invoice."""
    if inv.kind is not InvoiceKind.GENERAL_MACHINE:
        return passed(kind=inv.kind.value)
    return failed(
        problem_zh=(
            "这是一张地方通用机打发票（如“广东通用机打发票（电子）”），不是增值税发票："
            "不能抵扣进项税额，也不能按增值税发票自动受理。"
        ),
        fix_zh=(
            "审核人员将确认该费用能否凭此票据报销；如销售方可以开具增值税发票（数电票），"
            "请向其索取后重新提交。"
        ),
        problem_en=(
            "This is a provincial general machine-printed invoice (such as a "
            "广东通用机打发票（电子）), not a VAT invoice: it gives no input VAT "
            "deduction and cannot be accepted automatically as a VAT invoice."
        ),
        fix_en=(
            "A reviewer will confirm whether the expense can be claimed with it; if "
            "the seller can issue a VAT invoice (a 数电 invoice), ask for one and "
            "submit that instead."
        ),
        kind=inv.kind.value,
    )
