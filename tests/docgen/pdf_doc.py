"""Realistic invoice PDFs drawn from ground truth: ``make_pdf(inv, ...)``.

Two page designs for VAT invoices, chosen by the invoice kind (rail tickets, air
itineraries and general machine-printed invoices are drawn by ``variants_pdf``): the
数电 layout (QR top left, number and date top right, buyer and seller side by side, one
table, 价税合计, 备注, 开票人) and the legacy layout (code, number, date and check
code top right, 密码区, buyer above and seller below the table, 收款人/复核/开票人).
``layout_variant`` moves and rescales things, swaps fonts, spaces labels out
(``名　　称``), writes labels and values as separate runs or one run, narrows the name
column so item names wrap, draws the QR as vectors or as an image, and (odd variants)
maps glyphs to Kangxi radical code points as some real invoice fonts do. Variant 0 is
the plain form. ``pages`` continues the lines over several pages (共N页 第i页);
``Style.labels_as_paths`` and ``Style.spaced_ids`` give traits of real legacy prints.

Fonts: Source Han Serif SC and Noto Sans CJK SC from the ``mplfonts`` wheel (SIL OFL),
subset and converted to TrueType so reportlab can embed them; no system font is used.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import random
import unicodedata
import zlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import mplfonts
import numpy as np
import zxingcpp
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from PIL import Image
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as RLTTFont
from reportlab.pdfgen import canvas

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)

from .truth import random_address, random_bank_account, random_person, random_phone

logging.getLogger("fontTools").setLevel(logging.WARNING)  # subsetting chatter

FONT_DIR = Path(mplfonts.__file__).parent / "fonts"
FONT_FILES = {
    "serif": "SourceHanSerifSC-Regular.otf",
    "sans": "NotoSansCJKsc-Regular.otf",
}
DIGITAL_KINDS = (InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY)
# kinds with a page design of their own (tests/docgen/variants_pdf.py)
OWN_DESIGNS = (
    InvoiceKind.RAIL_TICKET,
    InvoiceKind.AIR_ITINERARY,
    InvoiceKind.GENERAL_MACHINE,
)
PAGE_W = 240.0
PAGE_H = 140.0
REGIONS = {
    "1100": "北京",
    "3100": "上海",
    "4403": "深圳",
    "4400": "广东",
    "3300": "浙江",
    "5100": "四川",
    "3702": "青岛",
    "3502": "厦门",
    "5200": "贵州",
}
# Kangxi radicals (U+2F00..) whose NFKC form is a common ideograph: '日' -> '⽇'
KANGXI = {
    unicodedata.normalize("NFKC", chr(cp)): chr(cp) for cp in range(0x2F00, 0x2FD6)
}
BASE_CHARS = (
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    " .,:;-+*/%()<>#=_&¥￥：（）、；，。·⊗*"
    "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正负数"
    "电子发票增值税专用普通通行费号码代码开具日期校验机器编购买方销售信息名称统一社会信用"
    "纳税人识别地址话户行及账项目规格型单位量价金额率征收合计大小写备注复核章密区"
    "货物或应劳务服务"
)


# --- fonts --------------------------------------------------------------------


def _otf_to_ttf(font: TTFont) -> bytes:
    """CFF outlines to quadratic TrueType outlines (reportlab embeds TrueType only)."""
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@lru_cache(maxsize=64)
def _registered_font(family: str, charset: frozenset[str]) -> str:
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(charset)))
    font = TTFont(str(FONT_DIR / FONT_FILES[family]))
    subsetter.subset(font)
    name = f"{family}-{zlib.crc32(''.join(sorted(charset)).encode()):08x}"
    # reportlab caches faces by their PostScript name: make each subset's unique
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 6):
            record.string = name
    pdfmetrics.registerFont(RLTTFont(name, io.BytesIO(_otf_to_ttf(font))))
    return name


class _FontBook:
    """One growing character set per family, so a process converts fonts rarely."""

    def __init__(self) -> None:
        self.charsets: dict[str, frozenset[str]] = {}

    def font(self, family: str, chars: set[str]) -> str:
        current = self.charsets.get(family) or frozenset(BASE_CHARS)
        if not chars <= current:
            current = current | frozenset(chars)
            self.charsets[family] = current
        return _registered_font(family, current)


FONTS = _FontBook()


# --- drawing model ------------------------------------------------------------


@dataclass
class Style:
    """What a layout variant changes."""

    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    kangxi: bool = False
    spaced_labels: bool = False
    joined_values: bool = True  # "名称：XX" as one run, or label and value apart
    narrow_names: bool = False
    value_family: str = "serif"
    qr_raster: bool = True
    qr_size: float = 20.0
    minus_first: bool = False  # "-¥12.00" instead of "¥-12.00"
    # Real legacy prints (assumed, docs/domain-notes.md): vertical party labels that
    # belong to the template are drawn as outlines, not text (those named here, e.g.
    # ("销售方",)), and taxpayer IDs set with wide character spacing (one word per
    # character).
    labels_as_paths: tuple[str, ...] = ()
    spaced_ids: bool = False

    @classmethod
    def for_variant(cls, variant: int) -> Style:
        if variant == 0:
            return cls()
        rng = random.Random(variant * 7919)
        return cls(
            dx=rng.uniform(-3, 3),
            dy=rng.uniform(-2, 3),
            scale=rng.uniform(0.9, 1.1),
            kangxi=variant % 2 == 1,
            spaced_labels=rng.random() < 0.5,
            joined_values=rng.random() < 0.5,
            narrow_names=rng.random() < 0.5,
            value_family=rng.choice(("serif", "sans")),
            qr_raster=rng.random() < 0.6,
            qr_size=rng.uniform(18, 24),
            minus_first=rng.random() < 0.5,
        )


@dataclass
class Doc:
    style: Style
    width: float = PAGE_W
    height: float = PAGE_H
    texts: list[tuple[float, float, str, float, str, str]] = field(default_factory=list)
    lines: list[tuple[float, float, float, float, float]] = field(default_factory=list)
    qrs: list[tuple[float, float, float, str]] = field(default_factory=list)
    sum_label: str = "合\u3000\u3000计"  # "小\u3000\u3000计" on a continued page
    page_note: str = ""  # "共2页 第1页"

    def text(
        self,
        x: float,
        baseline: float,
        s: str,
        *,
        size: float = 9.0,
        family: str = "serif",
        align: str = "left",
        label: bool = False,
    ) -> None:
        if not s:
            return
        if self.style.kangxi:
            s = "".join(KANGXI.get(ch, ch) for ch in s)
        st = self.style
        self.texts.append(
            (x + st.dx, baseline + st.dy, s, size * st.scale, family, align)
        )

    def line(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.6) -> None:
        st = self.style
        self.lines.append((x0 + st.dx, y0 + st.dy, x1 + st.dx, y1 + st.dy, w))

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.line(x0, y0, x1, y0)
        self.line(x1, y0, x1, y1)
        self.line(x1, y1, x0, y1)
        self.line(x0, y1, x0, y0)

    def party_label(self, x: float, top: float, bottom: float, s: str) -> None:
        """A vertical party label: text, or template outlines outside the text layer."""
        if s not in self.style.labels_as_paths:
            self.vertical(x, top, bottom, s)
            return
        step = (bottom - top) / (len(s) + 1)
        for i in range(len(s)):
            y = top + step * (i + 1) - 1.6
            self.rect(x - 1.4, y, x + 1.4, y + 2.8)
            self.line(x - 1.4, y + 1.4, x + 1.4, y + 1.4, 0.3)

    def vertical(self, x: float, top: float, bottom: float, s: str) -> None:
        """A label written top to bottom, one character per line, centred on x."""
        step = (bottom - top) / (len(s) + 1)
        for i, ch in enumerate(s):
            self.text(x, top + step * (i + 1) + 1.2, ch, align="center", label=True)


def _width_mm(s: str, size: float) -> float:
    pts = sum(size if ord(ch) > 0x2E80 else size * 0.55 for ch in s)
    return pts / mm


def _wrap(s: str, width: float, size: float) -> list[str]:
    """Break ``s`` into lines of at most ``width`` mm, never next to a space."""
    out: list[str] = []
    current = ""
    for ch in s:
        if current and _width_mm(current + ch, size) > width:
            cut = len(current)
            while cut > 1 and (current[cut - 1] == " " or current[cut - 2] == " "):
                cut -= 1
            out.append(current[:cut])
            current = current[cut:]
        current += ch
    if current:
        out.append(current)
    return out


def _money(value: Decimal | None, style: Style, *, yen: bool = True) -> str:
    if value is None:
        return ""
    text = f"{abs(value):.2f}"
    sign = "-" if value < 0 else ""
    if not yen:
        return sign + text
    return f"{sign}¥{text}" if style.minus_first else f"¥{sign}{text}"


def _rate(line: ExtractedLine) -> str:
    if line.tax_exempt:
        return "免税"
    if line.tax_rate is None:
        return ""
    pct = (line.tax_rate * 100).normalize()
    return f"{pct:f}%"


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _label(style: Style, text: str) -> str:
    if style.spaced_labels and len(text) == 2:
        return text[0] + "\u3000\u3000" + text[1]
    return text


def _labelled(
    doc: Doc, x: float, baseline: float, label: str, value: str, value_x: float
) -> None:
    """A ``label：value`` pair, as one run or as two runs."""
    label = _label(doc.style, label) + "："
    if doc.style.joined_values:
        doc.text(x, baseline, label + value, label=True)
    else:
        doc.text(x, baseline, label, label=True)
        label_end = x + _width_mm(label, 9.0 * doc.style.scale) + 1.5
        doc.text(
            max(value_x, label_end), baseline, value, family=doc.style.value_family
        )


# --- the two page designs -----------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    x0: float
    x1: float
    align: str


def _columns(legacy: bool, narrow: bool) -> list[Column]:
    name_w = (40.0 if legacy else 34.0) if narrow else (48.0 if legacy else 52.0)
    title = "货物或应税劳务、服务名称" if legacy else "项目名称"
    edges = [8.0, 8.0 + name_w]
    widths = (26.0, 12.0, 20.0, 30.0, 28.0, 16.0)
    for w in widths:
        edges.append(edges[-1] + w)
    edges.append(232.0)
    rate_title = "税率" if legacy else "税率/征收率"
    specs = (
        ("name", title, "left"),
        ("spec", "规格型号", "left"),
        ("unit", "单位", "center"),
        ("quantity", "数量", "right"),
        ("unit_price", "单价", "right"),
        ("amount", "金额", "right"),
        ("rate", rate_title, "center"),
        ("tax", "税额", "right"),
    )
    return [
        Column(key, t, edges[i], edges[i + 1], align)
        for i, (key, t, align) in enumerate(specs)
    ]


def _cell_x(col: Column) -> float:
    return {
        "left": col.x0 + 1.5,
        "center": (col.x0 + col.x1) / 2,
        "right": col.x1 - 1.5,
    }[col.align]


def _table(doc: Doc, inv: ExtractedInvoice, top: float, legacy: bool) -> float:
    """Header, item rows and the 合计 row; returns the y below the 合计 row."""
    cols = _columns(legacy, doc.style.narrow_names)
    size = 8.5
    header = top + 4.8
    for col in cols:
        doc.text(
            (col.x0 + col.x1) / 2,
            header,
            col.title,
            size=7.5 if len(col.title) > 8 else 9.0,
            align="center",
            label=True,
        )
    y = header + 5.2
    fam = doc.style.value_family
    for line in inv.lines:
        name_col = cols[0]
        names = _wrap(line.name, name_col.x1 - name_col.x0 - 3, size * doc.style.scale)
        values = {
            "spec": line.spec,
            "unit": line.unit,
            "quantity": _plain(line.quantity),
            "unit_price": _plain(line.unit_price),
            "amount": _money(line.amount, doc.style, yen=False),
            "rate": _rate(line),
            "tax": "***"
            if line.tax_exempt
            else _money(line.tax_amount, doc.style, yen=False),
        }
        for i, part in enumerate(names):
            doc.text(_cell_x(name_col), y + i * 4.2, part, size=size, family=fam)
        for col in cols[1:]:
            doc.text(
                _cell_x(col), y, values[col.key], size=size, family=fam, align=col.align
            )
        y += 4.2 * max(1, len(names)) + 0.6
    y = max(y, header + 20) + 1.5
    doc.text(
        (cols[0].x0 + cols[0].x1) / 2, y, doc.sum_label, align="center", label=True
    )
    amount_col = cols[5]
    tax_col = cols[7]
    doc.text(
        amount_col.x1 - 1.5, y, _money(inv.amount, doc.style), align="right", family=fam
    )
    doc.text(
        tax_col.x1 - 1.5,
        y,
        _money(inv.tax_amount, doc.style),
        align="right",
        family=fam,
    )
    return y + 2.5


def _total_row(doc: Doc, inv: ExtractedInvoice, top: float) -> float:
    baseline = top + 5.5
    doc.line(8, top, 232, top)
    doc.text(10, baseline, "价税合计（大写）", label=True)
    doc.line(52, top, 52, top + 8)
    doc.text(56, baseline, inv.total_in_words, family=doc.style.value_family, size=9.5)
    doc.text(160, baseline, "（小写）", label=True)
    doc.text(
        176,
        baseline,
        _money(inv.total_amount, doc.style),
        family=doc.style.value_family,
    )
    doc.line(8, top + 8, 232, top + 8)
    return top + 8


def _qr(doc: Doc, inv: ExtractedInvoice, x: float, y: float, max_size: float) -> None:
    if inv.qr_payload:
        st = doc.style
        doc.qrs.append(
            (x + st.dx, y + st.dy, min(st.qr_size, max_size), inv.qr_payload)
        )


def _date(value: dt.date | None) -> str:
    return value.strftime("%Y年%m月%d日") if value else ""


def _digital(doc: Doc, inv: ExtractedInvoice) -> None:
    title = (
        "电子发票（增值税专用发票）"
        if inv.kind is InvoiceKind.DIGITAL_SPECIAL
        else "电子发票（普通发票）"
    )
    _qr(doc, inv, 10, 3, 21)
    doc.text(120, 14, title, size=15, align="center", label=True)
    doc.text(120, 22.5, doc.page_note, size=8, align="center", label=True)
    doc.line(80, 16.5, 160, 16.5)
    doc.line(80, 17.3, 160, 17.3)
    _labelled(doc, 163, 11, "发票号码", inv.number, 181)
    _labelled(doc, 163, 18, "开票日期", _date(inv.issue_date), 181)
    top = 26.0
    doc.line(8, top, 232, top)
    for x0, who, name, tax_id in (
        (8.0, "购买方信息", inv.buyer_name, inv.buyer_tax_id),
        (120.0, "销售方信息", inv.seller_name, inv.seller_tax_id),
    ):
        doc.vertical(x0 + 3.5, top, top + 24, who)
        doc.line(x0 + 7, top, x0 + 7, top + 24)
        _labelled(doc, x0 + 10, top + 8, "名称", name, x0 + 22)
        _labelled(
            doc, x0 + 10, top + 17, "统一社会信用代码/纳税人识别号", tax_id, x0 + 62
        )
    doc.line(120, top, 120, top + 24)
    doc.line(8, top + 24, 232, top + 24)
    y = _table(doc, inv, top + 24, legacy=False)
    y = _total_row(doc, inv, y)
    remarks = _wrap(inv.remarks, 205, 8.5 * doc.style.scale)
    height = max(12.0, 4.5 * len(remarks) + 4)
    doc.vertical(11.5, y, y + height, "备注")
    doc.line(15, y, 15, y + height)
    for i, part in enumerate(remarks):
        doc.text(18, y + 5 + i * 4.5, part, size=8.5, family=doc.style.value_family)
    bottom = y + height
    doc.rect(8, 26, 232, bottom)
    _labelled(doc, 20, bottom + 6, "开票人", inv.drawer, 34)
    doc.height = max(PAGE_H, bottom + 12)


def _legacy_title(inv: ExtractedInvoice) -> str:
    region = REGIONS.get(inv.code[1:5] if len(inv.code) == 12 else inv.code[:4], "")
    return region + {
        InvoiceKind.E_SPECIAL: "增值税电子专用发票",
        InvoiceKind.E_ORDINARY: "增值税电子普通发票",
        InvoiceKind.E_TOLL: "增值税电子普通发票（通行费）",
        InvoiceKind.PAPER_SPECIAL: "增值税专用发票",
        InvoiceKind.PAPER_ORDINARY: "增值税普通发票",
    }.get(inv.kind, "增值税普通发票")


def _party_block(
    doc: Doc,
    rng: random.Random,
    top: float,
    who: str,
    name: str,
    tax_id: str,
) -> None:
    doc.party_label(11.5, top, top + 21, who)
    doc.line(15, top, 15, top + 21)
    fields = (
        ("名称", name),
        ("纳税人识别号", tax_id),
        (
            "地址、电话",
            f"{random_address(rng, name)} {random_phone(rng)}" if name else "",
        ),
        ("开户行及账号", f"中国工商银行 {random_bank_account(rng)}" if tax_id else ""),
    )
    for i, (label, value) in enumerate(fields):
        baseline = top + 4.5 + i * 5
        if doc.style.spaced_ids and label == "纳税人识别号" and value:
            doc.text(18, baseline, _label(doc.style, label) + "：", label=True)
            for j, ch in enumerate(value):
                doc.text(42 + j * 2.6, baseline, ch, family="sans")
            continue
        _labelled(doc, 18, baseline, label, value, 42)


def _legacy(doc: Doc, inv: ExtractedInvoice) -> None:
    rng = random.Random(zlib.crc32((inv.code + inv.number).encode()))
    _qr(doc, inv, 9, 3, 19)
    doc.text(120, 13, _legacy_title(inv), size=15, align="center", label=True)
    doc.text(120, 21, doc.page_note, size=8, align="center", label=True)
    doc.line(85, 15.5, 155, 15.5)
    machine = "".join(rng.choice("0123456789") for _ in range(12))
    doc.text(10, 27.5, f"机器编号：{machine}")
    _labelled(doc, 168, 8.5, "发票代码", inv.code, 184)
    _labelled(doc, 168, 13.5, "发票号码", inv.number, 184)
    _labelled(doc, 168, 18.5, "开票日期", _date(inv.issue_date), 184)
    if inv.check_code:
        check = " ".join(inv.check_code[i : i + 5] for i in range(0, 20, 5))
        _labelled(doc, 168, 23.5, "校验码", check, 184)
    top = 29.0
    _party_block(doc, rng, top, "购买方", inv.buyer_name, inv.buyer_tax_id)
    doc.line(135, top, 135, top + 21)
    doc.vertical(138, top, top + 21, "密码区")
    doc.line(141, top, 141, top + 21)
    for i in range(4):
        noise = "".join(rng.choice("0123456789+-*/<>") for _ in range(28))
        doc.text(143, top + 5 + i * 4.5, noise, size=9, family="sans")
    doc.line(8, top + 21, 232, top + 21)
    y = _table(doc, inv, top + 21, legacy=True)
    y = _total_row(doc, inv, y)
    _party_block(doc, rng, y, "销售方", inv.seller_name, inv.seller_tax_id)
    doc.line(135, y, 135, y + 21)
    doc.vertical(138, y, y + 21, "备注")
    doc.line(141, y, 141, y + 21)
    for i, part in enumerate(_wrap(inv.remarks, 88, 8.5 * doc.style.scale)[:4]):
        doc.text(143, y + 5 + i * 4.5, part, size=8.5, family=doc.style.value_family)
    bottom = y + 21
    doc.rect(8, top, 232, bottom)
    people = random.Random(rng.random())
    _labelled(doc, 12, bottom + 6, "收款人", random_person(people), 26)
    _labelled(doc, 70, bottom + 6, "复核", random_person(people), 82)
    _labelled(doc, 125, bottom + 6, "开票人", inv.drawer, 139)
    doc.text(180, bottom + 6, "销售方：（章）", label=True)
    doc.height = max(PAGE_H, bottom + 12)


# --- rendering ----------------------------------------------------------------


def _qr_image(payload: str) -> Image.Image:
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    matrix = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    img = Image.fromarray(matrix.astype(np.uint8), mode="L")
    return img.resize((img.width * 8, img.height * 8), Image.Resampling.NEAREST)


def _draw_qr(c: canvas.Canvas, doc: Doc, x: float, y: float, size: float, payload: str):
    img = _qr_image(payload)
    bottom = (doc.height - y - size) * mm
    if doc.style.qr_raster:
        c.drawImage(ImageReader(img), x * mm, bottom, size * mm, size * mm)
        return
    modules = np.asarray(img)[::8, ::8] < 128
    n = modules.shape[0]
    cell = size * mm / n
    c.setFillGray(0)
    for row in range(n):
        for col in range(n):
            if modules[row, col]:
                c.rect(
                    x * mm + col * cell,
                    bottom + (n - 1 - row) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def render_pages(
    docs: list[Doc], *, attachments: dict[str, bytes] | None = None
) -> bytes:
    """Draw ``docs`` as the pages of one PDF; ``attachments`` become embedded files."""
    families: dict[str, set[str]] = {}
    for doc in docs:
        for *_, s, _size, family, _align in doc.texts:
            families.setdefault(family, set()).update(s)
    names = {fam: FONTS.font(fam, chars) for fam, chars in families.items()}
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(docs[0].width * mm, docs[0].height * mm))
    c.setAuthor("docgen")
    for doc in docs:
        c.setPageSize((doc.width * mm, doc.height * mm))
        _draw_page(c, doc, names)
    c.save()
    data = out.getvalue()
    if attachments:
        import pypdf

        writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
        for name, content in attachments.items():
            writer.add_attachment(name, content)
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    return data


def _draw_page(c: canvas.Canvas, doc: Doc, names: dict[str, str]) -> None:
    c.setStrokeColorRGB(0.55, 0.35, 0.2)
    for x0, y0, x1, y1, w in doc.lines:
        c.setLineWidth(w)
        c.line(x0 * mm, (doc.height - y0) * mm, x1 * mm, (doc.height - y1) * mm)
    for x, baseline, s, size, family, align in doc.texts:
        c.setFont(names[family], size)
        px, py = x * mm, (doc.height - baseline) * mm
        if align == "center":
            c.drawCentredString(px, py, s)
        elif align == "right":
            c.drawRightString(px, py, s)
        else:
            c.drawString(px, py, s)
    for x, y, size, payload in doc.qrs:
        _draw_qr(c, doc, x, y, size, payload)
    c.showPage()


def render_page(pdf: bytes, *, dpi: float = 200, index: int = 0) -> Image.Image:
    """Page ``index`` of ``pdf`` as an RGB image (pdfium, no system fonts needed)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        img = page.render(scale=dpi / 72).to_pil().convert("RGB")
        page.close()
    finally:
        doc.close()
    return img


def _image_pdf(images: list[Image.Image], width_mm: float, height_mm: float) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(width_mm * mm, height_mm * mm))
    for img in images:
        c.drawImage(ImageReader(img), 0, 0, width_mm * mm, height_mm * mm)
        c.showPage()
    c.save()
    return out.getvalue()


def _page_docs(inv: ExtractedInvoice, style: Style, pages: int) -> list[Doc]:
    """One Doc per page: header and parties on every page, the lines split in
    order, a 小计 row on continued pages, totals and remarks on the last page."""
    pages = max(1, min(pages, max(len(inv.lines), 1)))
    size = -(-len(inv.lines) // pages) if inv.lines else 0
    chunks = [inv.lines[i * size : (i + 1) * size] for i in range(pages)]
    docs = []
    for i, chunk in enumerate(chunks):
        last = i == pages - 1
        doc = Doc(style)
        page = inv
        if pages > 1:
            doc.page_note = f"共{pages}页 第{i + 1}页"
        if not last:
            doc.sum_label = "小\u3000\u3000计"
            page = replace(
                inv,
                lines=chunk,
                amount=sum((ln.amount or Decimal(0) for ln in chunk), Decimal("0.00")),
                tax_amount=sum(
                    (ln.tax_amount or Decimal(0) for ln in chunk), Decimal("0.00")
                ),
                total_amount=None,
                total_in_words="",
                remarks="",
            )
        elif pages > 1:
            page = replace(inv, lines=chunk)
        if inv.kind in DIGITAL_KINDS:
            _digital(doc, page)
        else:
            _legacy(doc, page)
        docs.append(doc)
    return docs


def make_pdf(
    inv: ExtractedInvoice,
    *,
    layout_variant: int = 0,
    scanned: bool = False,
    pages: int = 1,
    style: Style | None = None,
) -> bytes:
    """The invoice as a PDF of ``pages`` pages (its lines split across them);
    ``scanned`` gives an image-only PDF (no text)."""
    if inv.kind in OWN_DESIGNS:
        from . import variants_pdf  # draws the non-VAT designs; imports this module

        draw = {
            InvoiceKind.RAIL_TICKET: variants_pdf.draw_rail,
            InvoiceKind.AIR_ITINERARY: variants_pdf.draw_air,
            InvoiceKind.GENERAL_MACHINE: variants_pdf.draw_general_machine,
        }[inv.kind]
        docs = [draw(inv)]
    else:
        docs = _page_docs(inv, style or Style.for_variant(layout_variant), pages)
    doc = docs[0]
    pdf = render_pages(docs)
    if not scanned:
        return pdf
    images = [render_page(pdf, dpi=200, index=i).convert("L") for i in range(len(docs))]
    return _image_pdf(images, doc.width, doc.height)


def make_letter(text: str = "", *, pages: int = 1) -> bytes:
    """A non-invoice PDF (a Chinese business letter), ``pages`` pages long."""
    body = (
        text
        or "尊敬的客户：感谢您一直以来的支持。我司将于下月起调整办公地址，敬请留意。"
    )
    doc = Doc(Style())
    doc.text(20, 20, "通知函", size=16)
    for i, part in enumerate(_wrap(body, 190, 10)):
        doc.text(20, 35 + i * 7, part, size=10)
    names = {"serif": FONTS.font("serif", set("".join(t[2] for t in doc.texts)))}
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(210 * mm, 297 * mm))
    for page in range(pages):
        for x, baseline, s, size, _family, _align in doc.texts:
            c.setFont(names["serif"], size)
            c.drawString(x * mm, (297 - baseline) * mm, s)
        c.drawString(100 * mm, 10 * mm, str(page + 1))
        c.showPage()
    c.save()
    return out.getvalue()


# --- comparing an extraction with its truth -----------------------------------

FIELDS = (
    "kind",
    "code",
    "number",
    "issue_date",
    "check_code",
    "seller_name",
    "seller_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "amount",
    "tax_amount",
    "total_amount",
    "total_in_words",
    "remarks",
    "is_red",
    "red_of_number",
    "qr_payload",
    "drawer",
)
LINE_FIELDS = (
    "name",
    "spec",
    "unit",
    "quantity",
    "unit_price",
    "amount",
    "tax_rate",
    "tax_amount",
    "tax_exempt",
)
TEXT_FIELDS = ("seller_name", "buyer_name", "total_in_words", "remarks", "drawer")


def _loose(value: object) -> object:
    """OCR cannot tell full- from half-width punctuation nor see spaces in CJK text."""
    if isinstance(value, str):
        return "".join(unicodedata.normalize("NFKC", value).split())
    return value


def field_diff(
    truth: ExtractedInvoice, got: ExtractedInvoice, *, loose: bool = False
) -> dict[str, tuple[object, object]]:
    """Every printed field that differs: ``{name: (expected, got)}``. Line fields are
    ``lines[i].name``; ``loose`` compares text modulo width and whitespace (OCR)."""
    out: dict[str, tuple[object, object]] = {}
    for name in FIELDS:
        want, have = getattr(truth, name), getattr(got, name)
        if name == "qr_payload":
            want, have = want.rstrip(","), have.rstrip(",")
        if loose and name in (*TEXT_FIELDS, "check_code"):
            want, have = _loose(want), _loose(have)
        if want != have:
            out[name] = (want, have)
    for i in range(max(len(truth.lines), len(got.lines))):
        if i >= len(truth.lines) or i >= len(got.lines):
            out[f"lines[{i}]"] = ("present", "missing")
            continue
        for name in LINE_FIELDS:
            want = getattr(truth.lines[i], name)
            have = getattr(got.lines[i], name)
            if loose and name in ("name", "spec", "unit"):
                want, have = _loose(want), _loose(have)
            if want != have:
                out[f"lines[{i}].{name}"] = (want, have)
    return out


def field_count(truth: ExtractedInvoice) -> int:
    """How many fields ``field_diff`` compares for ``truth``."""
    return len(FIELDS) + len(truth.lines) * len(LINE_FIELDS)
