"""Every screening rule: its check, defaults, parameters and help-centre text.

The database keeps ``Rule(code, enabled, outcome_on_fail, params)`` rows; a code missing
there runs with the defaults below. Codes are stable: stored results refer to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from invoiceportal.invoices.special_business import DEDUCTION_RULE

from . import (
    arithmetic,
    audit_sample,
    confidence,
    dates,
    duplicates,
    identity,
    parties,
    qrcheck,
    rates,
    redletter,
    registry,
    sellers,
    tickets,
)
from .base import INVOICE_STATUSES, Action, Check
from .params import ParamSpec, ParamValidation, validate

_FORMATS = ("xml", "ofd", "pdf", "image", "manual")
_REJECT_FORMATS = ParamSpec(
    "reject_formats",
    "str_list",
    "Formats where a mismatch may reject",
    "可直接退回的文件格式",
    choices=_FORMATS,
)

# The tolerance of the rules that compare the invoice with another source (QR code,
# registry).
_AMOUNT_TOLERANCE = ParamSpec(
    "amount_tolerance",
    "decimal",
    "Amount tolerance (CNY)",
    "金额容差（元）",
    0,
    Decimal("1.00"),
)


def _tolerance(maximum: str) -> ParamSpec:
    return ParamSpec(
        "tolerance", "decimal", "Tolerance (CNY)", "容差（元）", 0, Decimal(maximum)
    )


@dataclass(frozen=True)
class RuleSpec:
    code: str
    check: Check
    default_outcome_on_fail: Action
    default_params: Mapping[str, Any]
    param_specs: tuple[ParamSpec, ...]
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    how_to_fix_zh: str
    how_to_fix_en: str
    default_enabled: bool = True

    def validate_params(self, params: Any) -> ParamValidation:
        return validate(self.param_specs, self.default_params, params)


@dataclass(frozen=True)
class RuleConfig:
    """A rule as configured by admins (the ``Rule`` row, as plain data)."""

    enabled: bool
    outcome_on_fail: Action
    params: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "identity.format",
        identity.check_identity,
        Action.REVIEW,
        identity.DEFAULT_PARAMS,
        (
            ParamSpec(
                "province_codes",
                "str_list",
                "Province codes (GB/T 2260)",
                "省级行政区划代码",
                pattern=r"\d{2}",
            ),
            ParamSpec(
                "digital_city_codes",
                "str_list",
                "Extra region codes in 数电 numbers",
                "数电票号码中的计划单列市代码",
                pattern=r"\d{2}",
            ),
            ParamSpec(
                "digital_year_tolerance",
                "int",
                "Years the 数电 number may differ from the issue year",
                "数电票号码年份与开票年份允许相差的年数",
                0,
                5,
            ),
            ParamSpec(
                "max_code_age_years",
                "int",
                "Maximum age of a legacy invoice code (years)",
                "发票代码年份最多早于开票年份的年数",
                0,
                20,
            ),
        ),
        "发票代码与号码格式",
        "Invoice code and number format",
        "按发票种类核对代码和号码的格式，并解读其中的地区和年份是否与开票日期一致。",
        "Checks the code and number formats of the invoice's kind, and that the "
        "region and year they encode fit the issue date.",
        "上传完整清晰的原始发票，最好是XML或OFD文件。",
        "Upload the complete original invoice, preferably the XML or OFD file.",
    ),
    RuleSpec(
        tickets.GENERAL_MACHINE_RULE,
        tickets.check_general_machine,
        Action.REVIEW,
        tickets.DEFAULT_GENERAL_MACHINE_PARAMS,
        (),
        "不是通用机打发票（非增值税发票）",
        "Not a general machine-printed invoice (not VAT)",
        "地方通用机打发票（如广东通用机打发票（电子），12位发票代码）不是增值税发票，"
        "不能抵扣进项税额；默认转人工审核，管理员可改为退回或仅提示。",
        "A provincial general machine-printed invoice (such as "
        "广东通用机打发票（电子）, with a 12-digit code) is not a VAT invoice and "
        "gives no input VAT deduction; by default a reviewer decides, and admins may "
        "make it reject or only inform.",
        "如能取得增值税发票（数电票），请向销售方索取后提交；否则由审核人员决定。",
        "Ask the seller for a VAT invoice (数电票) if possible; otherwise a reviewer "
        "decides.",
    ),
    RuleSpec(
        "parties.buyer_tax_id",
        parties.check_buyer_tax_id,
        Action.REJECT,
        parties.DEFAULT_BUYER_ID_PARAMS,
        (),
        "购买方税号为本单位",
        "Buyer tax ID is your organization's",
        "发票的购买方纳税人识别号必须是提交单位的统一社会信用代码。",
        "The buyer's tax ID on the invoice must be the submitting organization's.",
        "请销售方按本单位的名称和税号重新开具发票。",
        "Ask the seller to reissue the invoice to your organization's name and tax ID.",
    ),
    RuleSpec(
        "parties.buyer_name",
        parties.check_buyer_name,
        Action.REVIEW,
        parties.DEFAULT_BUYER_NAME_PARAMS,
        (),
        "购买方名称为本单位",
        "Buyer name is your organization's",
        "发票的购买方名称应与提交单位的名称一致（忽略全角半角和空格差异）。",
        "The buyer name should equal the organization's name (ignoring full-width "
        "characters and spaces).",
        "名称有误时请销售方重新开具；简称或旧名称由审核人员核实。",
        "If the name is wrong, ask for a corrected invoice; a reviewer confirms former "
        "or short names.",
    ),
    RuleSpec(
        "parties.tax_id_form",
        parties.check_tax_id_forms,
        Action.REVIEW,
        parties.DEFAULT_FORM_PARAMS,
        (
            ParamSpec(
                "accept_legacy_forms",
                "bool",
                "Accept older 15/17/20-character IDs",
                "接受15、17、20位旧税号",
            ),
            ParamSpec(
                "accept_personal_id",
                "bool",
                "Accept personal ID-card numbers",
                "接受居民身份证号码",
            ),
        ),
        "税号格式有效",
        "Tax IDs are well formed",
        "销售方和购买方税号应为校验位正确的统一社会信用代码（GB 32100），或可识别的旧"
        "税号、身份证号；否则转人工审核，不会直接退回。",
        "Seller and buyer IDs should be valid Unified Social Credit Codes (GB 32100) "
        "or a recognised older or personal form; otherwise a reviewer checks them.",
        "核对发票上的税号，如开具有误请销售方重新开具。",
        "Check the tax IDs on the invoice; if the seller erred, ask for a new invoice.",
    ),
    RuleSpec(
        "arithmetic.line_amount",
        arithmetic.check_line_amounts,
        Action.REVIEW,
        arithmetic.DEFAULT_LINE_AMOUNT_PARAMS,
        (_tolerance("1.00"),),
        "数量×单价=金额",
        "Quantity x unit price = amount",
        "每行的数量乘以单价应等于金额，容差默认0.01元。",
        "On each line, quantity times unit price equals the amount, within 0.01 CNY "
        "by default.",
        "上传XML或OFD原件；如发票本身有误，请销售方重新开具。",
        "Upload the XML or OFD original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "arithmetic.line_tax",
        arithmetic.check_line_taxes,
        Action.REVIEW,
        arithmetic.DEFAULT_LINE_TAX_PARAMS,
        (_tolerance("1.00"),),
        "行税额=金额×税率",
        "Line tax = amount x rate",
        "每行税额应等于金额×税率四舍五入到分，容差默认0.06元；免税行不应有税额。",
        "Each line's tax equals amount x rate rounded half up to the cent, within "
        "0.06 CNY by default; exempt lines carry no tax.",
        "上传XML或OFD原件；如发票本身有误，请销售方重新开具。",
        "Upload the XML or OFD original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "arithmetic.line_sums",
        arithmetic.check_line_sums,
        Action.REJECT,
        arithmetic.DEFAULT_LINE_SUMS_PARAMS,
        (_tolerance("10.00"), _REJECT_FORMATS),
        "明细合计=发票合计",
        "Lines add up to the totals",
        "各行金额之和等于合计金额，各行税额之和等于合计税额。XML、OFD文件不符时退回，"
        "PDF或图片不符时转人工审核。",
        "Line amounts add up to the total amount and line taxes to the total tax. "
        "Rejected for XML and OFD files; reviewed for PDFs and images.",
        "上传正确的原始发票；如发票本身有误，请销售方重新开具。",
        "Upload the correct original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "arithmetic.total",
        arithmetic.check_total,
        Action.REJECT,
        arithmetic.DEFAULT_TOTAL_PARAMS,
        (_tolerance("10.00"), _REJECT_FORMATS),
        "金额+税额=价税合计",
        "Amount + tax = total",
        "合计金额加合计税额应等于价税合计。XML、OFD文件不符时退回，PDF或图片不符时转人工"
        "审核。",
        "The total amount plus the total tax equals the total including tax. "
        "Rejected for XML and OFD files; reviewed for PDFs and images.",
        "上传正确的原始发票；如发票本身有误，请销售方重新开具。",
        "Upload the correct original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "arithmetic.invoice_tax",
        arithmetic.check_invoice_tax,
        Action.REVIEW,
        arithmetic.DEFAULT_INVOICE_TAX_PARAMS,
        (_tolerance("100.00"),),
        "合计税额在容差内",
        "Total tax within tolerance",
        "各行金额×税率之和与合计税额之差不超过容差（默认1.27元）。",
        "The sum of amount x rate over the lines is within the tolerance (1.27 CNY by "
        "default) of the total tax.",
        "上传XML或OFD原件；如发票本身有误，请销售方重新开具。",
        "Upload the XML or OFD original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "arithmetic.capitals",
        arithmetic.check_capitals,
        Action.REJECT,
        arithmetic.DEFAULT_CAPITALS_PARAMS,
        (_REJECT_FORMATS,),
        "大写金额=价税合计",
        "Amount in capitals = total",
        "大写金额解读为数字后应等于小写价税合计；无法解读时转人工审核。",
        "The amount in Chinese capitals, read as a number, equals the total in "
        "figures; capitals that cannot be read go to a reviewer.",
        "上传正确的原始发票；如发票本身有误，请销售方重新开具。",
        "Upload the correct original; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "rates.valid_for_date",
        rates.check_rate_for_date,
        Action.REVIEW,
        rates.DEFAULT_RATE_PARAMS,
        (ParamSpec("periods", "rate_periods", "Rate periods", "税率适用期间"),),
        "税率适用于开票日期",
        "Tax rate valid on the issue date",
        "税率须为开票日期有效的税率：2019-04-01起13%、9%、6%、0%，此前16%、10%或"
        "17%、11%，以及征收率3%、5%、1.5%、1%。",
        "Each rate must be valid on the issue date: 13/9/6/0 % from 2019-04-01, "
        "16/10 % or 17/11 % before, and the levy rates 3, 5, 1.5 and 1 %.",
        "如税率开具错误，请销售方重新开具。",
        "If the seller used a wrong rate, ask for a corrected invoice.",
    ),
    RuleSpec(
        "rates.category",
        rates.check_category_rate,
        Action.REVIEW,
        rates.DEFAULT_CATEGORY_PARAMS,
        (
            ParamSpec(
                "categories", "category_rates", "Category -> usual rates", "类别与税率"
            ),
            ParamSpec(
                "neutral_rates", "str_list", "Rates never flagged", "不提示的税率"
            ),
        ),
        "类别与税率相符",
        "Category matches the rate",
        "商品服务类别（如*餐饮服务*）与税率不相符时提示人工审核，不会退回。",
        "A category (such as *餐饮服务*) with an unusual rate is flagged for review, "
        "never rejected.",
        "如类别或税率开具错误，请销售方重新开具。",
        "If the category or rate is wrong, ask the seller for a corrected invoice.",
    ),
    RuleSpec(
        "dates.not_future",
        dates.check_not_future,
        Action.REJECT,
        dates.DEFAULT_FUTURE_PARAMS,
        (ParamSpec("grace_days", "int", "Grace days", "宽限天数", 0, 7),),
        "开票日期不晚于今天",
        "Issue date not in the future",
        "开票日期不能晚于今天（北京时间）。",
        "The issue date cannot be after today (Beijing time).",
        "核对开票日期；发票有误时请销售方重新开具。",
        "Check the issue date; if the invoice is wrong, ask for a new one.",
    ),
    RuleSpec(
        "dates.max_age",
        dates.check_max_age,
        Action.REVIEW,
        dates.DEFAULT_AGE_PARAMS,
        (
            ParamSpec(
                "max_age_days", "int", "Maximum age (days)", "最长期限（天）", 1, 3650
            ),
        ),
        "发票未超过报销期限",
        "Invoice not too old",
        "开票日期距今不超过设定天数（默认365天）；缺少开票日期也转人工审核。",
        "The invoice is not older than the set number of days (365 by default); a "
        "missing issue date also goes to review.",
        "在备注中说明逾期原因，由审核人员决定。",
        "Explain the delay in a comment; a reviewer decides.",
    ),
    RuleSpec(
        "redletter.not_expense",
        redletter.check_red_letter,
        Action.REJECT,
        redletter.DEFAULT_PARAMS,
        (),
        "红字发票不能报销",
        "Red-letter invoices are not expenses",
        "红字（负数）发票用于冲销原发票，不能作为费用报销；系统会关联其原蓝字发票。",
        "A red-letter (negative) invoice reverses an earlier one and is not an "
        "expense; the portal links it to its blue invoice when known.",
        "如原发票已报销，请联系财务冲减；不要将红字发票作为费用提交。",
        "If the original was claimed, ask finance to reverse that claim.",
    ),
    RuleSpec(
        "qr.consistent",
        qrcheck.check_qr,
        Action.REVIEW,
        qrcheck.DEFAULT_PARAMS,
        (
            ParamSpec(
                "compare_kind_types",
                "str_list",
                "QR types whose kind is compared",
                "比对发票种类的二维码类型",
                pattern=r"\d{2}",
            ),
            _AMOUNT_TOLERANCE,
        ),
        "二维码与票面一致",
        "QR code agrees with the invoice",
        "发票二维码中的号码、代码、日期、金额和校验码应与票面一致。",
        "The number, code, date, amount and check code in the QR code match the "
        "invoice body.",
        "上传销售方提供的原始文件，不要上传编辑过的文件。",
        "Upload the seller's original file, never an edited copy.",
    ),
    RuleSpec(
        DEDUCTION_RULE,
        tickets.check_ticket_deduction,
        Action.INFO,
        tickets.DEFAULT_DEDUCTION_PARAMS,
        (
            ParamSpec(
                "rail_rate",
                "decimal",
                "Rail tickets: deduction rate",
                "铁路客票计算抵扣率",
                0,
                Decimal("1"),
            ),
            ParamSpec(
                "air_rate",
                "decimal",
                "Air itineraries: deduction rate",
                "航空客票计算抵扣率",
                0,
                Decimal("1"),
            ),
        ),
        "客票可抵扣进项税额",
        "Deductible input VAT of a ticket",
        "按财政部 税务总局 海关总署公告2019年第39号计算铁路电子客票和"
        "航空运输电子客票行程单可抵扣的进项税额：铁路为票面金额÷(1+9%)×9%；航空为(票价+燃油附加费)÷(1+9%)×9%，"
        "仅限国内航班，民航发展基金不计。无法计算时仅作提示，不影响审核结果。",
        "Computes the input VAT a rail e-ticket or air itinerary lets you deduct "
        "(announcement 2019 No. 39): rail fare / (1 + 9 %) x 9 %; air (fare + fuel "
        "surcharge) / (1 + 9 %) x 9 %, domestic flights only, the civil aviation fund "
        "excluded. When it cannot be computed this is a note only.",
        "无需操作；如需抵扣，请确认客票上注明了旅客身份信息。",
        "Nothing to do; to deduct, make sure the ticket names the passenger.",
    ),
    RuleSpec(
        "duplicates.exact",
        duplicates.check_exact_duplicate,
        Action.REJECT,
        duplicates.DEFAULT_EXACT_PARAMS,
        (
            ParamSpec(
                "blocking_statuses",
                "str_list",
                "Statuses that block a resubmission",
                "阻止重复提交的状态",
                choices=INVOICE_STATUSES,
            ),
        ),
        "不重复报销",
        "Not already submitted",
        "同一张发票（数电票按号码，其他按代码+号码）已被受理或正在处理时，不能再次提交。",
        "An invoice (its number for 数电票, code and number otherwise) that is "
        "accepted or in progress cannot be submitted again.",
        "不要重复提交；在原提交记录中补充信息，或先撤回原提交。",
        "Do not resubmit; add information to the existing submission or withdraw it.",
    ),
    RuleSpec(
        "duplicates.near",
        duplicates.check_near_duplicate,
        Action.REVIEW,
        duplicates.DEFAULT_NEAR_PARAMS,
        (
            ParamSpec(
                "amount_tolerance",
                "decimal",
                "Amount tolerance (CNY)",
                "金额容差（元）",
                0,
                Decimal("1000"),
            ),
            ParamSpec(
                "date_window_days", "int", "Date window (days)", "日期范围（天）", 0, 31
            ),
            ParamSpec(
                "statuses",
                "str_list",
                "Statuses compared",
                "参与比对的状态",
                choices=INVOICE_STATUSES,
            ),
        ),
        "疑似重复报销",
        "Possible duplicate expense",
        "同一销售方、相同金额和日期的其他发票可能是同一笔费用，转人工审核。",
        "Other invoices with the same seller, amount and date may be the same "
        "expense; a reviewer checks.",
        "如确为不同费用，请在备注中说明。",
        "If they are separate expenses, say so in a comment.",
    ),
    RuleSpec(
        "duplicates.file_hash",
        duplicates.check_same_file,
        Action.REVIEW,
        duplicates.DEFAULT_FILE_PARAMS,
        (),
        "文件未被重复使用",
        "File not used before",
        "同一文件（SHA-256相同）已用于其他提交时，转人工审核。",
        "A file (same SHA-256) already used for another submission goes to review.",
        "确认上传的是本张发票的文件。",
        "Make sure you uploaded this invoice's own file.",
    ),
    RuleSpec(
        "sellers.blocklist",
        sellers.check_blocklist,
        Action.REJECT,
        sellers.DEFAULT_LIST_PARAMS,
        (),
        "销售方不在禁止名单",
        "Seller not blocklisted",
        "管理员维护的禁止往来销售方开具的发票不予报销。",
        "Invoices from sellers on the admin-managed blocklist are not accepted.",
        "如有疑问请联系财务部门。",
        "Contact the finance team if you think this is wrong.",
    ),
    RuleSpec(
        "sellers.watchlist",
        sellers.check_watchlist,
        Action.REVIEW,
        sellers.DEFAULT_LIST_PARAMS,
        (),
        "销售方重点关注",
        "Seller on the watchlist",
        "管理员维护的重点关注销售方开具的发票转人工审核。",
        "Invoices from sellers on the admin-managed watchlist go to review.",
        "无需操作；准备好合同等材料以备询问。",
        "Nothing to do; keep the contract or other evidence ready.",
    ),
    RuleSpec(
        "amount.threshold",
        sellers.check_amount_threshold,
        Action.REVIEW,
        sellers.DEFAULT_AMOUNT_PARAMS,
        (
            ParamSpec(
                "threshold", "decimal", "Threshold (CNY)", "金额阈值（元）", 0, None
            ),
            ParamSpec(
                "basis",
                "choice",
                "Amount compared",
                "比对的金额",
                choices=("total_amount", "amount"),
            ),
        ),
        "大额发票",
        "Large amount",
        "价税合计超过阈值（默认100,000元）的发票转人工审核。",
        "Invoices above the threshold (100,000 CNY by default) go to review.",
        "无需操作；准备好合同或审批单以备询问。",
        "Nothing to do; keep the contract or approval form ready.",
    ),
    RuleSpec(
        "registry.status",
        registry.check_registry_status,
        Action.REJECT,
        registry.DEFAULT_STATUS_PARAMS,
        (),
        "发票未作废、未红冲",
        "Not void or red-flushed",
        "经税务机关查验已作废或已全额红冲的发票退回；部分红冲转人工审核。",
        "Invoices the registry shows as void or fully red-flushed are rejected; "
        "partly red-flushed ones are reviewed.",
        "请销售方重新开具有效发票。",
        "Ask the seller for a new, valid invoice.",
    ),
    RuleSpec(
        "registry.match",
        registry.check_registry_match,
        Action.REVIEW,
        registry.DEFAULT_MATCH_PARAMS,
        (
            ParamSpec(
                "fields",
                "str_list",
                "Fields compared",
                "比对的字段",
                choices=registry.REGISTRY_FIELDS,
            ),
            _AMOUNT_TOLERANCE,
        ),
        "税务机关查验一致",
        "Matches the tax authority's registry",
        "发票须在税务机关登记中查到且信息一致；查无此票、信息不一致或查验服务不可用时转人工"
        "审核，不会因查验服务不可用而退回。",
        "The invoice must be found in the registry with matching fields; not found, "
        "mismatching or an unavailable verifier go to review, never to rejection.",
        "核对号码、日期和金额；新开发票可能需要一两天才能查到。",
        "Check the number, date and amounts; new invoices can take a day to appear.",
    ),
    RuleSpec(
        "extraction.confidence",
        confidence.check_confidence,
        Action.REVIEW,
        confidence.DEFAULT_PARAMS,
        (
            ParamSpec(
                "min_confidence", "fraction", "Minimum confidence", "最低识别可信度"
            ),
        ),
        "识别可信度",
        "Extraction confidence",
        "从PDF或图片识别的字段可信度低于阈值（默认0.9）时转人工审核。",
        "Fields read from a PDF or image below the confidence threshold (0.9 by "
        "default) go to review.",
        "如有XML或OFD原件，请上传原件。",
        "Upload the XML or OFD original if you have it.",
    ),
    RuleSpec(
        "audit.sample",
        audit_sample.check_audit_sample,
        Action.REVIEW,
        audit_sample.DEFAULT_PARAMS,
        (
            ParamSpec("rate", "fraction", "Sample rate", "抽查比例"),
            ParamSpec("salt", "str", "Sample salt", "抽样盐值"),
        ),
        "随机抽查",
        "Random audit",
        "按发票身份确定性地随机抽取一定比例（默认2%）的发票人工复核，重新提交不会改变结果。",
        "A fixed share (2 % by default) of invoices, picked by their identity so a "
        "resubmission cannot re-roll it, is audited by a reviewer.",
        "无需操作。",
        "Nothing to do.",
    ),
)

RULES_BY_CODE: dict[str, RuleSpec] = {rule.code: rule for rule in RULES}

# What a passed check says, for the rules whose title names the problem it looks
# for (zh, en): a green tick beside "疑似重复报销" reads as an accusation.
PASSED_TITLES: dict[str, tuple[str, str]] = {
    "duplicates.near": ("未发现重复报销", "No duplicate found"),
    "redletter.not_expense": ("不是红字发票", "Not a red-letter invoice"),
    "sellers.watchlist": ("销售方不在重点关注名单", "Seller not on the watchlist"),
    "amount.threshold": ("金额未达人工审核限额", "Amount below the review threshold"),
    "extraction.confidence": ("各字段识别可信", "Fields read with confidence"),
    "audit.sample": ("未抽中随机抽查", "Not picked for a random audit"),
    "kind.general_machine": ("是增值税发票", "A VAT invoice"),
}

# Rules that cannot apply to a document format: their "skipped" result is not shown
# (an XML or OFD file carries its data itself and has no QR code to read).
NOT_APPLICABLE_FORMATS: dict[str, frozenset[str]] = {
    "qr.consistent": frozenset({"xml", "ofd"}),
}


def get_rule(code: str) -> RuleSpec:
    return RULES_BY_CODE[code]


def default_config(code: str) -> RuleConfig:
    spec = RULES_BY_CODE[code]
    return RuleConfig(
        enabled=spec.default_enabled,
        outcome_on_fail=spec.default_outcome_on_fail,
        params=dict(spec.default_params),
    )


def default_rules() -> dict[str, RuleConfig]:
    return {rule.code: default_config(rule.code) for rule in RULES}
