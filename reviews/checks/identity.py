"""Identity: number and code formats per kind; region and year decoded and consistent
with the issue date (domain/einvoice.md section 1)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from invoiceportal.invoices.extraction.types import (
    DIGITAL_KINDS,
    ExtractedInvoice,
    InvoiceKind,
)

from .base import CheckContext, CheckOutcome, Params, failed, passed

# 数电 kinds (both VAT kinds, rail e-tickets and air itineraries): no code, a 20-digit
# number of year(2) region(2) channel(1) sequence(15); rail numbers use the ordinary
# province codes [S: numbers in public test data, e.g. 26329116804009553237 = 2026,
# Jiangsu].

# Kinds that print a 20-digit check code (校验码).
CHECK_CODE_KINDS = (
    InvoiceKind.E_SPECIAL,
    InvoiceKind.E_ORDINARY,
    InvoiceKind.E_TOLL,
    InvoiceKind.PAPER_ORDINARY,
)
# GB/T 2260 provinces (first two digits of a region).
_PROVINCE_NUMBERS = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37)
PROVINCES = [
    str(n) for n in (*_PROVINCE_NUMBERS, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54)
] + ["61", "62", "63", "64", "65"]
# 数电 numbers: cities with their own tax bureaus. 92, 94, 95 confirmed; 91 (Dalian)
# and 93 (Ningbo) by analogy only [U], hence a parameter and a review-only rule.
DIGITAL_CITY_CODES = ["91", "92", "93", "94", "95"]

DEFAULT_PARAMS: dict[str, object] = {
    "province_codes": PROVINCES,
    "digital_city_codes": DIGITAL_CITY_CODES,
    "digital_year_tolerance": 0,
    "max_code_age_years": 3,
}


@dataclass(frozen=True)
class Decoded:
    region: str
    year: int


def _legacy_code_ok(kind: InvoiceKind, code: str) -> bool:
    if kind is InvoiceKind.GENERAL_MACHINE:
        # 通用机打发票: a 12-digit provincial code [C]; read like the other 12-digit
        # codes (digits 2-5 the region) [U], its year is not checked.
        return bool(re.fullmatch(r"\d{12}", code))
    if kind is InvoiceKind.PAPER_SPECIAL:
        return bool(re.fullmatch(r"\d{10}", code)) and code[7] in "15"
    if kind is InvoiceKind.PAPER_ORDINARY:
        if re.fullmatch(r"\d{10}", code):
            return code[7] in "36"
        return bool(re.fullmatch(r"0\d{9}(04|05)", code))
    suffix = {
        InvoiceKind.E_SPECIAL: "13",
        InvoiceKind.E_ORDINARY: "11",
        InvoiceKind.E_TOLL: "12",
    }[kind]
    return bool(re.fullmatch(rf"0\d{{9}}{suffix}", code))


def decode_legacy_code(code: str) -> Decoded:
    """10 digits: region(4) year(2) ...; 12 digits: ``0`` region(4) year(2) ..."""
    start = 1 if len(code) == 12 else 0
    return Decoded(code[start : start + 4], 2000 + int(code[start + 4 : start + 6]))


def decode_digital_number(number: str) -> Decoded:
    """20 digits: year(2) province(2) channel(1) sequence(15)."""
    return Decoded(number[2:4], 2000 + int(number[:2]))


def check_identity(
    inv: ExtractedInvoice, ctx: CheckContext, params: Params
) -> CheckOutcome:
    kind = inv.kind
    code, number = inv.code.strip(), inv.number.strip()
    problems_en: list[str] = []
    problems_zh: list[str] = []

    def problem(zh: str, en: str) -> None:
        problems_zh.append(zh)
        problems_en.append(en)

    decoded: Decoded | None = None
    if kind is InvoiceKind.OTHER:
        problem("发票种类无法识别", "the kind of invoice was not recognised")
    elif kind in DIGITAL_KINDS:
        if code:
            problem(
                f"数电票不应有发票代码（读到“{code}”）",
                f"a 数电 invoice has no code ({code!r})",
            )
        if re.fullmatch(r"\d{20}", number):
            decoded = decode_digital_number(number)
            known = [*params["province_codes"], *params["digital_city_codes"]]
            if decoded.region not in known:
                problem(
                    f"发票号码中的地区“{decoded.region}”无法识别",
                    f"region {decoded.region} in the number is not known",
                )
        else:
            problem("数电票号码应为20位数字", "a 数电 number has 20 digits")
    else:
        if not _legacy_code_ok(kind, code):
            problem(
                f"发票代码“{code}”与发票种类不符",
                f"code {code!r} does not fit a {kind.value} invoice",
            )
        else:
            decoded = decode_legacy_code(code)
            if decoded.region[:2] not in params["province_codes"]:
                problem(
                    f"发票代码中的地区“{decoded.region}”无法识别",
                    f"region {decoded.region} in the code is not known",
                )
        if not re.fullmatch(r"\d{8}", number):
            problem("发票号码应为8位数字", "the number of this kind has 8 digits")
        check = inv.check_code.strip()
        if check and kind in CHECK_CODE_KINDS and not re.fullmatch(r"\d{20}", check):
            problem("校验码应为20位数字", "the check code has 20 digits")

    if decoded is not None and inv.issue_date is not None:
        issue_year = inv.issue_date.year
        if kind in DIGITAL_KINDS:
            if abs(issue_year - decoded.year) > int(params["digital_year_tolerance"]):
                problem(
                    f"号码中的年份{decoded.year}与开票日期{inv.issue_date}不符",
                    f"year {decoded.year} in the number does not match the issue "
                    f"date {inv.issue_date}",
                )
        elif kind is InvoiceKind.GENERAL_MACHINE:
            pass  # the year's place in a general machine-printed code is [U]
        elif not 0 <= issue_year - decoded.year <= int(params["max_code_age_years"]):
            problem(
                f"代码中的年份{decoded.year}与开票日期{inv.issue_date}不符",
                f"year {decoded.year} in the code does not fit the issue date "
                f"{inv.issue_date}",
            )

    details = {"kind": kind.value, "code": code, "number": number}
    if decoded is not None:
        details |= {"region": decoded.region, "year": decoded.year}
    if not problems_en:
        return passed(**details)
    return failed(
        problem_zh="发票身份信息异常：" + "；".join(problems_zh) + "。",
        fix_zh="请核对上传的文件是否为完整、清晰的原始发票；若为识别错误，请上传XML或OFD原件。",
        problem_en="The invoice's identity looks wrong: "
        + "; ".join(problems_en)
        + ".",
        fix_en=(
            "Check that the file is the complete original invoice; if it was misread, "
            "upload the XML or OFD original."
        ),
        problems=problems_en,
        **details,
    )
