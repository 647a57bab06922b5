"""Ground truth for generated invoices: ``random_invoice(rng, kind=...)``.

Every invoice is internally consistent (domain/einvoice.md sections 1-4, 8):
- tax IDs are checksum-valid USCCs (a natural-person buyer on a 普票 has
  none);
- line tax = round_half_up(amount x rate, 2); quantity x unit price = amount
  within 0.01;
- 合计金额 = Σ line amounts, 合计税额 = Σ line taxes,
  价税合计 = 合计金额 + 合计税额, exactly;
- exempt lines: ``tax_rate=None``, ``tax_exempt=True``, ``tax_amount=None``
  (printed ``***``, counted as 0 in the totals);
- red-letter invoices: negative quantities, amounts and taxes (unit prices
  stay positive), capitals prefixed ``（负数）``, ``red_of_number`` names the
  blue invoice and the remarks repeat it;
- ``qr_payload`` follows section 9 (价税合计 for 数电票, amount excluding tax
  for legacy kinds).

``readings`` stay empty: this is truth, not an extraction. The signature of
``random_invoice`` is shared with other test modules: keep it stable.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from invoiceportal.common.taxid import USCC_ALPHABET, uscc_check_char
from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)

from .capitals import amount_to_capitals

CENT = Decimal("0.01")
DIGITAL_KINDS = (InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY)
E_KINDS = (InvoiceKind.E_SPECIAL, InvoiceKind.E_ORDINARY, InvoiceKind.E_TOLL)
PAPER_KINDS = (InvoiceKind.PAPER_SPECIAL, InvoiceKind.PAPER_ORDINARY)
GENERAL_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"))
SMALL_SCALE_RATES = (Decimal("0.03"), Decimal("0.01"))

QR_TYPES = {
    InvoiceKind.DIGITAL_SPECIAL: "31",
    InvoiceKind.DIGITAL_ORDINARY: "32",
    InvoiceKind.E_SPECIAL: "20",
    InvoiceKind.E_ORDINARY: "10",
    InvoiceKind.E_TOLL: "14",
    InvoiceKind.PAPER_SPECIAL: "01",
    InvoiceKind.PAPER_ORDINARY: "04",
}


def round_half_up(value: Decimal, places: str = "0.01") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Category:
    name: str
    rate: Decimal
    tax_code: str  # 19-digit tax classification code
    products: tuple[str, ...]
    units: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    exempt_possible: bool = False


CATEGORIES = (
    Category(
        "餐饮服务", Decimal("0.06"), "3070401000000000000", ("餐费", "餐饮费", "工作餐")
    ),
    Category(
        "住宿服务",
        Decimal("0.06"),
        "3070402000000000000",
        ("住宿费", "房费"),
        ("天", "间夜"),
    ),
    Category(
        "信息技术服务",
        Decimal("0.06"),
        "3040201000000000000",
        ("软件开发服务", "技术服务费", "信息系统运维服务"),
        ("项", "次"),
    ),
    Category(
        "现代服务",
        Decimal("0.06"),
        "3040802000000000000",
        ("咨询费", "会议服务费", "培训费"),
    ),
    Category(
        "运输服务",
        Decimal("0.09"),
        "3010101020000000000",
        ("客运服务费", "国内道路货物运输服务", "快递服务"),
        ("次", "票"),
    ),
    Category(
        "经营租赁",
        Decimal("0.09"),
        "3040502020200000000",
        ("通行费", "场地租赁费"),
        ("次", "月"),
    ),
    Category(
        "办公用品",
        Decimal("0.13"),
        "1060501010000000000",
        ("打印纸", "签字笔", "文件夹", "订书机"),
        ("包", "支", "个", "箱"),
        ("A4 70g", "0.5mm", "A4", "24/6", "500张/包"),
    ),
    Category(
        "计算机配套产品",
        Decimal("0.13"),
        "1090511990000000000",
        ("笔记本电脑", "显示器", "无线鼠标", "移动硬盘"),
        ("台", "个", "块"),
        ("ThinkPad X1", "27英寸", "M720", "2TB", "XPS 13"),
    ),
    Category(
        "电子元件",
        Decimal("0.13"),
        "1090418010000000000",
        ("电阻", "电容", "集成电路"),
        ("个", "盒", "片"),
        ("0805 10kΩ", "100uF/25V", "STM32F103"),
    ),
    Category(
        "蔬菜",
        Decimal("0.09"),
        "1010112000000000000",
        ("白菜", "土豆", "西红柿"),
        ("千克", "斤"),
        ("一级", "散装"),
        exempt_possible=True,
    ),
    Category(
        "水果",
        Decimal("0.09"),
        "1010115000000000000",
        ("苹果", "香蕉", "橙子"),
        ("千克", "箱"),
        ("5kg/箱", "特级"),
        exempt_possible=True,
    ),
    Category(
        "汽油",
        Decimal("0.13"),
        "1070101010100000000",
        ("92号车用汽油(VIB)", "95号车用汽油(VIB)"),
        ("升",),
        ("92#", "95#"),
    ),
)

CITIES = (
    ("北京", "110108"),
    ("上海", "310104"),
    ("深圳", "440300"),
    ("广州", "440106"),
    ("杭州", "330106"),
    ("成都", "510107"),
    ("青岛", "370202"),
    ("厦门", "350203"),
    ("武汉", "420106"),
    ("贵阳", "520102"),
    ("南京", "320104"),
    ("西安", "610113"),
)
CORE_NAMES = (
    "华科", "中恒", "鼎信", "瑞丰", "宏远", "新源", "博睿", "嘉禾", "金桥", "东方",
    "天成", "恒通", "汇智", "云帆", "星辰", "万达", "正泰", "海纳", "蓝海", "和信",
)  # fmt: skip
INDUSTRIES = (
    "信息技术", "科技", "餐饮管理", "酒店管理", "商贸", "物流", "电子", "文化传媒",
    "建筑工程", "咨询", "软件", "能源",
)  # fmt: skip
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "有限公司分公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
# 数电 number provinces (section 1): regions and cities with their own bureaus
DIGITAL_PROVINCES = ("11", "31", "44", "33", "51", "92", "94", "95", "52", "32")
LEGACY_REGIONS = (
    "1100",
    "3100",
    "4403",
    "4400",
    "3300",
    "5100",
    "3702",
    "3502",
    "5200",
)
BANKS = ("中国工商银行", "中国建设银行", "招商银行", "中国银行", "交通银行")


def random_uscc(rng: random.Random, division: str | None = None) -> str:
    """A checksum-valid Unified Social Credit Code."""
    authority_type = rng.choice(("91", "91", "91", "92", "12", "52", "71", "93", "11"))
    division = division or rng.choice(CITIES)[1]
    org = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    first17 = authority_type + division + org
    return first17 + uscc_check_char(first17)


def random_company(rng: random.Random) -> tuple[str, str]:
    city, division = rng.choice(CITIES)
    name = city + rng.choice(CORE_NAMES) + rng.choice(INDUSTRIES) + rng.choice(SUFFIXES)
    return name, random_uscc(rng, division)


def random_person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(
        rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
    )


def random_digital_number(rng: random.Random, issue_date: dt.date) -> str:
    seq = "".join(rng.choice("0123456789") for _ in range(15))
    return (
        f"{issue_date.year % 100:02d}{rng.choice(DIGITAL_PROVINCES)}"
        f"{rng.choice('0123')}{seq}"
    )


def random_legacy_code(
    rng: random.Random, kind: InvoiceKind, issue_date: dt.date
) -> str:
    region = rng.choice(LEGACY_REGIONS)
    year = f"{issue_date.year % 100:02d}"
    if kind in E_KINDS or (kind is InvoiceKind.PAPER_ORDINARY and rng.random() < 0.5):
        suffix = {
            InvoiceKind.E_SPECIAL: "13",
            InvoiceKind.E_ORDINARY: "11",
            InvoiceKind.E_TOLL: "12",
        }.get(kind) or rng.choice(("04", "05"))
        return f"0{region}{year}{rng.randint(0, 999):03d}{suffix}"
    kind_digit = rng.choice("15" if kind is InvoiceKind.PAPER_SPECIAL else "36")
    return (
        f"{region}{year}{rng.randint(0, 9)}{kind_digit}"
        f"{rng.choice('3456')}{rng.randint(0, 9)}"
    )


def random_issue_date(rng: random.Random, kind: InvoiceKind) -> dt.date:
    if kind in DIGITAL_KINDS:
        start, end = dt.date(2022, 1, 1), dt.date(2026, 6, 30)
    else:
        start, end = dt.date(2019, 4, 1), dt.date(2024, 11, 30)
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _quantity(rng: random.Random, unit: str) -> Decimal:
    if unit in ("千克", "斤", "升") and rng.random() < 0.7:
        return Decimal(rng.randint(100, 50000)) / Decimal(rng.choice((10, 100)))
    return Decimal(rng.choice((1, 1, 2, 3, 5, 10, 12, 20, 50, 100, 240)))


def _goods_line(
    rng: random.Random, cat: Category, rate: Decimal | None, sign: int
) -> ExtractedLine:
    product = rng.choice(cat.products)
    line = ExtractedLine(
        name=f"*{cat.name}*{product}",
        tax_classification_code=cat.tax_code,
        tax_rate=rate,
        tax_exempt=rate is None,
    )
    with_quantity = bool(cat.units) or rng.random() < 0.4
    if with_quantity:
        line.unit = rng.choice(cat.units) if cat.units else rng.choice(("次", "项"))
        line.spec = rng.choice(cat.specs) if cat.specs and rng.random() < 0.7 else ""
        quantity = _quantity(rng, line.unit)
        places = rng.choice((2, 2, 2, 4, 6, 8))
        price = Decimal(rng.randint(50, 900_000)) / Decimal(100)
        if places > 2:
            price = round_half_up(
                price + Decimal(rng.randint(1, 9999)) / Decimal(10**6),
                "1e-" + str(places),
            )
        amount = round_half_up(quantity * price)
        if amount == 0:
            price, amount = Decimal("1.00"), round_half_up(quantity)
        line.quantity = quantity * sign
        line.unit_price = price
        line.amount = amount * sign
    else:
        line.amount = Decimal(rng.randint(100, 2_000_000)) / Decimal(100) * sign
    line.tax_amount = None if rate is None else round_half_up(line.amount * rate)
    return line


def _discount_line(rng: random.Random, goods: ExtractedLine) -> ExtractedLine:
    """A discount line: same name and rate, negative amount and tax."""
    assert goods.amount is not None
    share = Decimal(rng.randint(1, 30)) / Decimal(100)
    amount = -round_half_up(abs(goods.amount) * share)
    if amount == 0:
        amount = Decimal("-0.01")
    rate = goods.tax_rate
    return ExtractedLine(
        name=goods.name,
        amount=amount,
        tax_rate=rate,
        tax_amount=None if rate is None else round_half_up(amount * rate),
        tax_exempt=goods.tax_exempt,
        tax_classification_code=goods.tax_classification_code,
    )


def random_lines(
    rng: random.Random, *, small_scale: bool, red: bool
) -> list[ExtractedLine]:
    sign = -1 if red else 1
    lines: list[ExtractedLine] = []
    count = rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6, 8))
    while len(lines) < count:
        cat = rng.choice(CATEGORIES)
        if cat.exempt_possible and rng.random() < 0.3:
            rate: Decimal | None = None
        elif small_scale:
            rate = rng.choice(SMALL_SCALE_RATES)
        else:
            rate = cat.rate if rng.random() < 0.85 else rng.choice(GENERAL_RATES)
        goods = _goods_line(rng, cat, rate, sign)
        lines.append(goods)
        if not red and len(lines) < count and rng.random() < 0.1:
            lines.append(_discount_line(rng, goods))
    return lines


def _qr_payload(inv: ExtractedInvoice, rng: random.Random) -> str:
    assert inv.issue_date is not None
    amount = inv.total_amount if inv.kind in DIGITAL_KINDS else inv.amount
    crc = f"{rng.randint(0, 0xFFFF):04X}"
    parts = [
        "01",
        QR_TYPES[inv.kind],
        inv.code,
        inv.number,
        f"{amount:.2f}",
        inv.issue_date.strftime("%Y%m%d"),
        inv.check_code,
        crc,
    ]
    return ",".join(parts) + ("," if rng.random() < 0.5 else "")


def random_invoice(
    rng: random.Random, *, kind: InvoiceKind | None = None
) -> ExtractedInvoice:
    """A varied, internally consistent invoice of ``kind`` (random when None)."""
    if kind is None:
        kind = rng.choice(
            (*DIGITAL_KINDS, *DIGITAL_KINDS, *DIGITAL_KINDS, *E_KINDS, *PAPER_KINDS)
        )
    kind = InvoiceKind(kind)
    if kind is InvoiceKind.OTHER:
        raise ValueError("cannot generate an invoice of kind 'other'")
    issue_date = random_issue_date(rng, kind)
    red = rng.random() < 0.12
    inv = ExtractedInvoice(kind=kind, issue_date=issue_date, is_red=red)
    if kind in DIGITAL_KINDS:
        inv.number = random_digital_number(rng, issue_date)
    else:
        inv.code = random_legacy_code(rng, kind, issue_date)
        inv.number = f"{rng.randint(0, 99_999_999):08d}"
        if kind is not InvoiceKind.PAPER_SPECIAL:
            inv.check_code = "".join(rng.choice("0123456789") for _ in range(20))
    inv.seller_name, inv.seller_tax_id = random_company(rng)
    special = kind in (
        InvoiceKind.DIGITAL_SPECIAL,
        InvoiceKind.E_SPECIAL,
        InvoiceKind.PAPER_SPECIAL,
    )
    if not special and rng.random() < 0.1:
        inv.buyer_name = random_person(rng)  # a natural person: no taxpayer ID
    else:
        inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    small_scale = inv.seller_tax_id.startswith("92") or rng.random() < 0.15
    inv.lines = random_lines(rng, small_scale=small_scale, red=red)
    if kind is InvoiceKind.E_TOLL:
        for line in inv.lines:
            line.name = "*经营租赁*通行费"
            line.tax_classification_code = "3040502020200000000"
    inv.amount = sum((ln.amount for ln in inv.lines if ln.amount), Decimal("0.00"))
    inv.tax_amount = sum(
        (ln.tax_amount for ln in inv.lines if ln.tax_amount is not None),
        Decimal("0.00"),
    )
    if (inv.amount <= 0) != red or inv.amount == 0:
        # discounts ate the whole invoice: keep the goods, drop the discounts
        inv.lines = [
            ln for ln in inv.lines if (ln.amount or 0) * (-1 if red else 1) > 0
        ]
        inv.amount = sum((ln.amount for ln in inv.lines if ln.amount), Decimal("0.00"))
        inv.tax_amount = sum(
            (ln.tax_amount for ln in inv.lines if ln.tax_amount is not None),
            Decimal("0.00"),
        )
    inv.total_amount = inv.amount + inv.tax_amount
    yuan = "圆" if kind in DIGITAL_KINDS or rng.random() < 0.7 else "元"
    red_prefix = "（负数）" if kind in DIGITAL_KINDS else rng.choice(("（负数）", "⊗"))
    inv.total_in_words = amount_to_capitals(
        inv.total_amount, yuan=yuan, red_prefix=red_prefix
    )
    inv.drawer = random_person(rng)
    remarks: list[str] = []
    if red:
        if kind in DIGITAL_KINDS:
            inv.red_of_number = random_digital_number(rng, issue_date)
            remarks.append(f"被红冲蓝字数电发票号码：{inv.red_of_number}")
        else:
            inv.red_of_number = f"{rng.randint(0, 99_999_999):08d}"
            remarks.append(f"对应正数发票代码:{inv.code}号码:{inv.red_of_number}")
    if rng.random() < 0.3:
        remarks.append(
            rng.choice(("项目编号：XM2024-017", "合同号HT-88123", "工号 1024"))
        )
    if rng.random() < 0.15:
        remarks.append(f"购方开户银行：{rng.choice(BANKS)}")
    inv.remarks = "；".join(remarks)
    inv.qr_payload = _qr_payload(inv, rng)
    return inv


def random_bank_account(rng: random.Random) -> str:
    """For writers that print bank details (not part of ``ExtractedInvoice``)."""
    return "".join(rng.choice("0123456789") for _ in range(rng.choice((16, 19))))


def random_address(rng: random.Random, name: str) -> str:
    city = name[:2]
    return (
        f"{city}市{rng.choice(('海淀', '南山', '西湖', '天河', '锦江'))}区"
        f"{rng.choice(('中关村', '科技园', '文三', '人民'))}路{rng.randint(1, 999)}号"
    )


def random_phone(rng: random.Random) -> str:
    return f"0{rng.randint(10, 999)}-{rng.randint(10_000_000, 99_999_999)}"
