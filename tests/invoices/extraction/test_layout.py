"""The positional field finder, on hand-placed boxes (PDF words and OCR lines alike)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.layout import (
    TextBox,
    capitals_to_amount,
    consistency,
    fold,
    fold_value,
    group_lines,
    read_fields,
    read_pages,
)
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind

H = 10.0  # text height


def box(text: str, x: float, y: float, *, conf: float = 1.0, w: float | None = None):
    width = (
        w if w is not None else H * sum(1.0 if ord(c) > 0x2E80 else 0.55 for c in text)
    )
    return TextBox(text, x, y, x + width, y + H, conf)


def vertical(text: str, x: float, y: float) -> list[TextBox]:
    return [box(ch, x, y + i * 1.4 * H) for i, ch in enumerate(text)]


def digital_page(*, buyer_tax_id: str = "91110108551385082Q") -> list[TextBox]:
    """A 数电 special invoice as words: parties side by side, labels vertical."""
    return [
        box("电子发票（增值税专用发票）", 250, 20),
        box("发票号码：", 460, 15),
        box("24112000000048542163", 512, 15),
        box("开票⽇期：2024年05月28⽇", 460, 35),  # Kangxi 日
        *vertical("购买方信息", 20, 70),
        *vertical("销售方信息", 340, 70),
        box("名称：小米科技（北京）有限公司", 45, 75),
        box("名称：", 365, 75),
        box("北京东方信息技术有限公司", 400, 75),
        box(f"统一社会信用代码/纳税人识别号：{buyer_tax_id}", 45, 110),
        box("统一社会信用代码/纳税人识别号：", 365, 110),
        box("91110108690017781B", 525, 110),
        box("项目名称", 60, 150),
        box("规格型号", 170, 150),
        box("单位", 240, 150),
        box("数量", 280, 150),
        box("单价", 350, 150),
        box("金额", 430, 150),
        box("税率/征收率", 480, 150),
        box("税额", 590, 150),
        # the amount's right edge runs past the midpoint between 金额 and 税率 headers
        box("*信息技术服务*软件开", 20, 165),
        box("项", 245, 165),
        box("1", 320, 165),
        box("3962.42", 360, 165),
        box("3962.42", 441, 165, w=45),
        box("6%", 490, 165),
        box("237.74", 600, 165),
        box("发服务", 20, 180),  # a wrapped item name
        box("*蔬菜*白菜", 20, 195),
        box("千克", 240, 195),
        box("12.5", 315, 195),
        box("18.8", 360, 195),
        box("235.00", 441, 195, w=45),
        box("免税", 490, 195),
        box("***", 600, 195),
        box("合", 60, 225),
        box("计", 90, 225),
        box("¥4197.42", 430, 225),
        box("¥237.74", 590, 225),
        box("价税合计（大写）", 20, 250),
        box("肆仟肆佰叁拾伍圆壹角陆分", 150, 250),
        box("（小写）", 420, 250),
        box("¥4435.16", 470, 250),
        *vertical("备注", 20, 275),
        box("项目编号：XM2024-017", 45, 275),
        box("开票人：", 45, 320),
        box("王伟", 85, 320),
    ]


def test_a_digital_invoice_is_read_field_by_field_from_positions():
    inv, _ = read_fields(digital_page(), source=FieldSource.PDF_TEXT)

    assert inv.kind is InvoiceKind.DIGITAL_SPECIAL
    assert inv.number == "24112000000048542163"
    assert inv.issue_date == dt.date(2024, 5, 28)
    assert inv.buyer_name == "小米科技（北京）有限公司"  # full-width brackets kept
    assert inv.buyer_tax_id == "91110108551385082Q"
    assert inv.seller_name == "北京东方信息技术有限公司"
    assert inv.seller_tax_id == "91110108690017781B"
    assert inv.amount == Decimal("4197.42")
    assert inv.tax_amount == Decimal("237.74")
    assert inv.total_amount == Decimal("4435.16")
    assert inv.total_in_words == "肆仟肆佰叁拾伍圆壹角陆分"
    assert inv.remarks == "项目编号：XM2024-017"
    assert inv.drawer == "王伟"
    first, second = inv.lines
    assert first.name == "*信息技术服务*软件开发服务"
    assert (first.unit, first.quantity, first.unit_price) == (
        "项",
        1,
        Decimal("3962.42"),
    )
    assert (first.amount, first.tax_rate, first.tax_amount) == (
        Decimal("3962.42"),
        Decimal("0.06"),
        Decimal("237.74"),
    )
    assert second.tax_exempt and second.tax_rate is None and second.tax_amount is None
    assert second.quantity == Decimal("12.5")
    assert all(r.source is FieldSource.PDF_TEXT for r in inv.readings.values())


def test_a_buyer_without_tax_id_does_not_borrow_the_sellers():
    inv, _ = read_fields(digital_page(buyer_tax_id=""), source=FieldSource.PDF_TEXT)

    assert inv.buyer_tax_id == ""
    assert inv.seller_tax_id == "91110108690017781B"


def test_without_vertical_labels_left_is_buyer_and_right_is_seller():
    page = [b for b in digital_page() if len(b.text) > 1 or b.x0 > 40]
    page = [b for b in page if b.text not in "购买方信息销售方信息"]

    inv, _ = read_fields(page, source=FieldSource.PDF_TEXT)

    assert inv.buyer_name == "小米科技（北京）有限公司"
    assert inv.seller_name == "北京东方信息技术有限公司"


def test_legacy_parties_above_and_below_the_table_with_spaced_labels():
    page = [
        box("发票代码：033002000211", 460, 10),
        box("发票号码：", 460, 25),
        box("00312345", 515, 25),
        box("开票日期：2020年11月02日", 460, 40),
        box("校验码：", 460, 55),
        box("12345 67890 12345 67890", 505, 55),
        *vertical("购买方", 20, 80),
        box("名", 45, 80),
        box("称：", 75, 80),
        box("杭州星辰科技有限公司", 120, 80),
        box("纳税人识别号：", 45, 95),
        box("914403001922038216", 120, 95),
        *vertical("密码区", 380, 80),
        box("0<4>+-*/1234567890123456789+", 400, 95),
        *vertical("销售方", 20, 300),
        box("名", 45, 300),
        box("称：", 75, 300),
        box("浙江新源商贸有限公司", 120, 300),
        box("纳税人识别号：", 45, 315),
        box("92522726MA7GNHJ07M", 120, 315),
    ]

    inv, _ = read_fields(page, source=FieldSource.OCR)

    assert inv.kind is InvoiceKind.E_ORDINARY  # from the code's shape
    assert (inv.code, inv.number) == ("033002000211", "00312345")
    assert inv.check_code == "12345678901234567890"
    assert inv.buyer_name == "杭州星辰科技有限公司"
    assert inv.buyer_tax_id == "914403001922038216"
    assert inv.seller_name == "浙江新源商贸有限公司"
    assert inv.seller_tax_id == "92522726MA7GNHJ07M"


def test_ocr_confidence_travels_into_the_readings():
    page = [box("发票号码：24952000000031722382", 10, 10, conf=0.87)]

    inv, _ = read_fields(page, source=FieldSource.OCR)

    assert inv.number == "24952000000031722382"
    assert inv.readings["number"].source is FieldSource.OCR
    assert inv.readings["number"].confidence == pytest.approx(0.87)


def test_an_oddly_shaped_value_gets_a_lower_confidence():
    inv, _ = read_fields([box("发票号码：2495200000", 10, 10)], source=FieldSource.OCR)

    assert inv.number == "2495200000"
    assert inv.readings["number"].confidence <= 0.5


def test_boxes_on_one_visual_line_group_even_when_heights_differ():
    lines = group_lines(
        [
            TextBox("合计", 10, 100, 40, 114),
            TextBox("¥1.00", 200, 103, 240, 113),
            TextBox("价税合计", 10, 130, 50, 140),
        ]
    )

    assert [ln.text for ln in lines] == ["合计\t¥1.00", "价税合计"]


def test_fold_maps_kangxi_radicals_and_keeps_length():
    assert fold("开票⽇期：") == "开票日期:"
    assert len(fold("⾦额（元）")) == len("⾦额（元）")
    assert fold_value("北京⽅正（集团）") == "北京方正（集团）"


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("壹仟肆佰零玖元伍角", "1409.50"),
        ("陆仟零柒元壹角肆分", "6007.14"),
        ("壹万陆仟肆佰零玖元零贰分", "16409.02"),
        ("壹仟陆佰捌拾元零叁角贰分", "1680.32"),
        ("壹仟陆佰捌拾元叁角贰分", "1680.32"),
        ("肆仟肆佰肆拾玖圆整", "4449.00"),
        ("⊗肆拾陆圆肆分", "46.04"),
        ("（负数）壹佰圆正", "-100.00"),
        ("伍角", "0.50"),
        ("壹亿零贰万圆整", "100020000.00"),
    ],
)
def test_capitals_are_read_as_numbers(text, amount):
    value = capitals_to_amount(text)
    assert value is not None
    assert abs(value) == abs(Decimal(amount))
    assert (value < 0) == text.startswith("（负数）")


def test_capitals_that_are_not_capitals_give_none():
    assert capitals_to_amount("壹佰X圆") is None


def test_consistency_raises_confidence_when_the_arithmetic_holds_and_fills_a_gap():
    inv, _ = read_fields(digital_page(), source=FieldSource.OCR)
    inv.readings["amount"] = type(inv.readings["amount"])(FieldSource.OCR, 0.8)
    inv.tax_amount = None
    del inv.readings["tax_amount"]
    lines = inv.lines
    inv.lines = []

    consistency(inv)

    assert inv.tax_amount == Decimal("237.74")  # 价税合计 − 金额, unconfirmed
    assert inv.readings["tax_amount"].confidence < 0.9
    assert inv.readings["amount"].confidence == 0.8  # nothing independent confirms it
    inv.lines = lines
    consistency(inv)
    assert inv.readings["amount"].confidence >= 0.99  # Σ line amounts agrees
    assert inv.readings["tax_amount"].confidence >= 0.99  # Σ line taxes agrees


def test_consistency_lowers_confidence_when_totals_disagree():
    inv, _ = read_fields(digital_page(), source=FieldSource.PDF_TEXT)
    inv.total_amount = Decimal("9999.99")
    before = inv.readings["total_amount"].confidence

    consistency(inv)

    assert inv.readings["total_amount"].confidence < before


def _legacy_bottom_page(*, seller_label: bool) -> list[TextBox]:
    """A legacy e-invoice: buyer on top, seller block below 价税合计 beside 备注."""
    return [
        box("增值税电子普通发票", 200, 5),
        box("发票代码：033002000211", 460, 10),
        box("发票号码：00312345", 460, 25),
        box("开票日期：2020年11月02日", 460, 40),
        *vertical("购买方", 20, 80),
        box("名称：杭州星辰科技有限公司", 45, 80),
        box("纳税人识别号：914403001922038216", 45, 95),
        box("价税合计（大写）", 20, 250),
        box("壹佰圆整", 150, 250),
        box("（小写）", 420, 250),
        box("¥100.00", 470, 250),
        *(vertical("销售方", 20, 275) if seller_label else []),
        box("名称：浙江新源商贸有限公司", 45, 275),
        box("纳税人识别号：92522726MA7GNHJ07M", 45, 290),
        *vertical("备注", 380, 275),
        box("工程名称：滨江一期", 400, 275),
    ]


@pytest.mark.parametrize("seller_label", [True, False])
def test_the_block_below_the_total_is_the_sellers_even_without_its_label(
    seller_label,
):
    inv, _ = read_fields(
        _legacy_bottom_page(seller_label=seller_label), source=FieldSource.OCR
    )

    assert inv.buyer_name == "杭州星辰科技有限公司"
    assert inv.buyer_tax_id == "914403001922038216"
    assert inv.seller_name == "浙江新源商贸有限公司"  # not the 工程名称 in 备注
    assert inv.seller_tax_id == "92522726MA7GNHJ07M"
    assert inv.remarks == "工程名称：滨江一期"


def _page(number: int, of: int, rows: list[tuple[str, str, str]], *, last: bool):
    boxes = [
        box("电子发票（普通发票）", 250, 20),
        box(f"共{of}页 第{number}页", 250, 40),
        box("发票号码：24952000000031722382", 460, 15),
        box("开票日期：2024年03月15日", 460, 35),
        *vertical("购买方信息", 20, 70),
        *vertical("销售方信息", 340, 70),
        box("名称：小米科技（北京）有限公司", 45, 75),
        box("名称：北京东方信息技术有限公司", 365, 75),
        box("项目名称", 60, 150),
        box("单位", 240, 150),
        box("数量", 280, 150),
        box("单价", 350, 150),
        box("金额", 430, 150),
        box("税率/征收率", 480, 150),
        box("税额", 590, 150),
    ]
    y = 165
    for name, amount, tax in rows:
        boxes += [
            box(name, 20, y),
            box(amount, 441, y, w=45),
            box("6%", 490, y),
            box(tax, 600, y),
        ]
        y += 15
    if last:
        boxes += [
            box("合", 60, 225),
            box("计", 90, 225),
            box("¥300.00", 430, 225),
            box("¥18.00", 590, 225),
            box("价税合计（大写）", 20, 250),
            box("叁佰壹拾捌圆整", 150, 250),
            box("（小写）", 420, 250),
            box("¥318.00", 470, 250),
        ]
    else:
        boxes += [box("小", 60, 225), box("计", 90, 225), box("¥200.00", 430, 225)]
        boxes += [box("价税合计（大写）", 20, 250), box("（小写）", 420, 250)]
    return boxes


def test_pages_are_read_apart_lines_joined_and_totals_taken_from_the_last():
    meal = ("*餐饮服务*餐费", "100.00", "6.00")
    pages = [
        _page(1, 2, [meal, meal], last=False),
        _page(2, 2, [("*住宿服务*住宿费", "100.00", "6.00")], last=True),
    ]

    inv = read_pages(pages, source=FieldSource.PDF_TEXT)

    assert [ln.name for ln in inv.lines] == ["*餐饮服务*餐费"] * 2 + [
        "*住宿服务*住宿费"
    ]
    assert (inv.amount, inv.tax_amount, inv.total_amount) == (
        Decimal("300.00"),
        Decimal("18.00"),
        Decimal("318.00"),
    )
    assert inv.total_in_words == "叁佰壹拾捌圆整"
    assert inv.number == "24952000000031722382"
    assert inv.seller_name == "北京东方信息技术有限公司"


def test_a_continued_pages_subtotal_row_is_not_a_line():
    page = _page(1, 2, [("*餐饮服务*餐费", "100.00", "6.00")], last=False)

    inv, _ = read_fields(page, source=FieldSource.PDF_TEXT)

    assert [ln.amount for ln in inv.lines] == [Decimal("100.00")]
    assert inv.amount is None and inv.total_amount is None
