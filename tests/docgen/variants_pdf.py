"""PDFs of the real-world variants of issue 9, each with its ground truth.

Every generator is ``fn(seed: int) -> (pdf bytes, truth ExtractedInvoice)`` and is
deterministic in ``seed``; ``PDF_VARIANTS`` names them all (for a conformance set and a
per-variant benchmark). Layout facts and what is assumed: docs/domain-notes.md.

- ``legacy_seller_bottom``: a legacy 电子普票/电子专票 whose seller block sits below
  价税合计, beside 备注, with the vertical 销售方 label outside the text layer and
  taxpayer IDs set with wide character spacing.
- ``multipage_2`` / ``multipage_3``: lines continued over 2 or 3 pages (共N页 第i页),
  header and parties on every page, 小计 on continued pages, totals on the last.
- ``general_machine``: a provincial 通用机打发票（电子）, 12-digit code (often ending
  in 11), payer and payee, priced lines without tax, 合计 in capitals and figures.
- ``rail_ticket`` / ``air_itinerary``: 数电 passenger tickets printed by label and
  position; ``rail_ticket_xbrl`` / ``air_itinerary_xbrl`` also embed the XBRL
  attachment (whose values the reader takes first).
- ``ride_hailing_discount`` / ``fuel_discount``: 数电普票 with negative discount lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)

from .capitals import amount_to_capitals
from .pdf_doc import Doc, Style, _date, _qr, make_pdf, render_pages
from .truth import (
    CATEGORIES,
    _goods_line,
    random_company,
    random_digital_number,
    random_invoice,
    random_person,
    random_uscc,
    round_half_up,
)

Variant = Callable[[int], tuple[bytes, ExtractedInvoice]]


def _retotal(inv: ExtractedInvoice) -> ExtractedInvoice:
    """Totals, capitals and QR amount recomputed from the lines."""
    inv.amount = sum((ln.amount or Decimal(0) for ln in inv.lines), Decimal("0.00"))
    inv.tax_amount = sum(
        (ln.tax_amount or Decimal(0) for ln in inv.lines), Decimal("0.00")
    )
    inv.total_amount = inv.amount + inv.tax_amount
    inv.total_in_words = amount_to_capitals(inv.total_amount)
    if inv.qr_payload:
        parts = inv.qr_payload.split(",")
        digital = inv.kind in (
            InvoiceKind.DIGITAL_SPECIAL,
            InvoiceKind.DIGITAL_ORDINARY,
        )
        parts[4] = f"{inv.total_amount if digital else inv.amount:.2f}"
        inv.qr_payload = ",".join(parts)
    return inv


# --- legacy seller block at the bottom -----------------------------------------


def legacy_seller_bottom(seed: int) -> tuple[bytes, ExtractedInvoice]:
    rng = random.Random(seed)
    kind = rng.choice((InvoiceKind.E_ORDINARY, InvoiceKind.E_SPECIAL))
    truth = random_invoice(rng, kind=kind)
    style = dataclasses.replace(
        Style.for_variant(seed), labels_as_paths=("销售方",), spaced_ids=True
    )
    return make_pdf(truth, style=style), truth


# --- multi-page -------------------------------------------------------------------


def invoice_with_lines(
    rng: random.Random, kind: InvoiceKind, count: int
) -> ExtractedInvoice:
    truth = random_invoice(rng, kind=kind)
    while truth.is_red:
        truth = random_invoice(rng, kind=kind)
    # goods lines at their category's usual rate only: a long invoice is a clean one
    usual = {f"*{c.name}*": c.rate for c in CATEGORIES}
    lines = [
        ln
        for ln in truth.lines
        if (ln.amount or 0) > 0
        and usual.get(ln.name[: ln.name.find("*", 1) + 1]) == ln.tax_rate
    ]
    while len(lines) < count:
        cat = rng.choice(CATEGORIES)
        lines.append(_goods_line(rng, cat, cat.rate, 1))
    truth.lines = lines[:count]
    return _retotal(truth)


def multipage(seed: int, pages: int = 2) -> tuple[bytes, ExtractedInvoice]:
    rng = random.Random(seed)
    kind = rng.choice(
        (
            InvoiceKind.DIGITAL_SPECIAL,
            InvoiceKind.DIGITAL_ORDINARY,
            InvoiceKind.E_SPECIAL,
        )
    )
    truth = invoice_with_lines(rng, kind, pages * rng.randint(3, 4))
    return make_pdf(truth, layout_variant=seed, pages=pages), truth


# --- general machine-printed invoice ------------------------------------------


def general_machine(seed: int) -> tuple[bytes, ExtractedInvoice]:
    rng = random.Random(seed)
    day = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 1800))
    # 12 digits: 1, region 4400 (Guangdong), year (2), batch (3), kind (2)
    code = f"14400{day.year % 100:02d}{rng.randint(0, 999):03d}" + rng.choice(
        ("11", "11", "20", "04")
    )
    inv = ExtractedInvoice(
        kind=InvoiceKind.GENERAL_MACHINE,
        code=code[:12],
        number=f"{rng.randint(0, 99_999_999):08d}",
        issue_date=day,
    )
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    inv.seller_name, inv.seller_tax_id = random_company(rng)
    for _ in range(rng.randint(1, 3)):
        price = Decimal(rng.randint(500, 90000)) / 100
        qty = Decimal(rng.randint(1, 5))
        inv.lines.append(
            ExtractedLine(
                name=rng.choice(("停车费", "场地服务费", "会务费", "资料费")),
                unit=rng.choice(("次", "项", "份")),
                quantity=qty,
                unit_price=price,
                amount=round_half_up(price * qty),
            )
        )
    inv.amount = sum((ln.amount for ln in inv.lines if ln.amount), Decimal("0.00"))
    inv.total_amount = inv.amount
    inv.total_in_words = amount_to_capitals(inv.total_amount)
    inv.drawer = random_person(rng)
    return render_pages([draw_general_machine(inv)]), inv


def draw_general_machine(inv: ExtractedInvoice) -> Doc:
    """The page of a general machine-printed invoice (its design is assumed)."""
    day = inv.issue_date
    doc = Doc(Style())
    doc.text(120, 14, "广东通用机打发票（电子）", size=15, align="center", label=True)
    for i, (label, value) in enumerate(
        (("发票代码", inv.code), ("发票号码", inv.number), ("开票日期", _date(day)))
    ):
        doc.text(165, 9 + 5 * i, f"{label}：{value}", label=True)
    doc.text(10, 32, f"付款方名称：{inv.buyer_name}", label=True)
    doc.text(130, 32, f"付款方纳税人识别号：{inv.buyer_tax_id}", label=True)
    doc.text(10, 39, f"收款方名称：{inv.seller_name}", label=True)
    doc.text(130, 39, f"收款方纳税人识别号：{inv.seller_tax_id}", label=True)
    cols = ((12, "项目名称", "name"), (90, "单位", "unit"), (120, "数量", "quantity"))
    cols += ((160, "单价", "unit_price"), (205, "金额", "amount"))
    for x, title, _key in cols:
        doc.text(x, 48, title, label=True)
    y = 54.0
    for ln in inv.lines:
        doc.text(12, y, ln.name)
        doc.text(90, y, ln.unit)
        doc.text(120, y, "" if ln.quantity is None else f"{ln.quantity}")
        doc.text(160, y, "" if ln.unit_price is None else f"{ln.unit_price:.2f}")
        doc.text(205, y, "" if ln.amount is None else f"{ln.amount:.2f}")
        y += 5
    y = max(y, 70) + 2
    doc.text(12, y, "合\u3000\u3000计", label=True)
    total = inv.total_amount if inv.total_amount is not None else inv.amount
    doc.text(205, y, "" if inv.amount is None else f"¥{inv.amount:.2f}")
    doc.text(12, y + 7, "合计（大写）", label=True)
    doc.text(45, y + 7, inv.total_in_words)
    doc.text(150, y + 7, "（小写）", label=True)
    doc.text(170, y + 7, "" if total is None else f"¥{total:.2f}")
    doc.text(12, y + 16, f"开票人：{inv.drawer}", label=True)
    doc.rect(8, 26, 232, y + 10)
    return doc


# --- passenger tickets --------------------------------------------------------

STATIONS = (
    ("北京南", "Beijingnan"),
    ("上海虹桥", "Shanghaihongqiao"),
    ("杭州东", "Hangzhoudong"),
    ("广州南", "Guangzhounan"),
    ("深圳北", "Shenzhenbei"),
    ("成都东", "Chengdudong"),
)
AIRPORTS = ("杭州萧山", "北京首都", "上海虹桥", "广州白云", "成都天府", "深圳宝安")
CARRIERS = (("国航", "CA"), ("东航", "MU"), ("南航", "CZ"), ("海航", "HU"))


def _ticket_qr(kind_code: str, number: str, total: Decimal, day: dt.date) -> str:
    # [U] the QR type of a ticket is not confirmed; the layout follows section 9
    crc = f"{(int(number[-6:]) * 7919) % 0xFFFF:04X}"
    return f"01,{kind_code},,{number},{total:.2f},{day:%Y%m%d},,{crc}"


def rail_truth(rng: random.Random) -> ExtractedInvoice:
    day = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randint(0, 400))
    fare = Decimal(rng.randint(2000, 120000)) / 100
    (frm, frm_py), (to, to_py) = rng.sample(STATIONS, 2)
    inv = ExtractedInvoice(
        kind=InvoiceKind.RAIL_TICKET,
        number=random_digital_number(rng, day),
        issue_date=day,
        total_amount=fare,
    )
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    depart = day + dt.timedelta(days=rng.randint(0, 10))
    region, year = rng.randint(110000, 659999), rng.randint(1960, 2004)
    serial = rng.randint(0, 999)
    pid = f"{region}{year}****{serial:03d}"
    hour, minute = rng.randint(6, 21), rng.choice((0, 15, 30, 45))
    car, row = rng.randint(1, 16), rng.randint(1, 20)
    inv.extras = {
        "rail": {
            "from_station": frm,
            "to_station": to,
            "from_pinyin": frm_py,
            "to_pinyin": to_py,
            "train": rng.choice("GDC") + str(rng.randint(1, 9999)),
            "departure_date": depart.isoformat(),
            "departure_time": f"{hour:02d}:{minute:02d}",
            "seat": f"{car:02d}车{row:02d}{rng.choice('ABCDF')}号",
            "seat_class": rng.choice(("二等座", "一等座", "商务座")),
            "fare": f"{fare:.2f}",
            "passenger_id": pid + rng.choice("0123456789X"),
            "passenger": random_person(rng),
            "eticket": f"E{rng.randint(10**20, 10**21 - 1)}",
        }
    }
    inv.qr_payload = _ticket_qr("61", inv.number, fare, day)
    return inv


def draw_rail(inv: ExtractedInvoice, *, joined: bool = False) -> Doc:
    """The page of a rail ticket from its truth (missing extras print nothing);
    ``joined`` prints number, bureau and date as one run, as a real file's text
    layer gives them ("发票号码:2512…天津市税务局开票日期:2025年11月04日")."""
    rail = {k: "" for k in ("from_pinyin", "to_pinyin", "eticket", "train")}
    rail.update({"seat": "", "seat_class": "", "passenger": "", "passenger_id": ""})
    rail.update(inv.extras.get("rail", {}))
    doc = Doc(Style())
    _qr(doc, inv, 205, 3, 20)
    doc.text(110, 12, "电子发票（铁路电子客票）", size=15, align="center", label=True)
    if joined:
        run = f"发票号码:{inv.number}北京市税务局开票日期:{_date(inv.issue_date)}"
        doc.text(12, 26, run, label=True)
    else:
        doc.text(12, 26, f"发票号码:{inv.number}", label=True)
        doc.text(85, 26, "北京市税务局", label=True)
        doc.text(150, 26, f"开票日期:{_date(inv.issue_date)}", label=True)
    doc.text(25, 38, f"{rail['from_station']}站", size=13)
    doc.text(110, 38, rail["train"], size=12)
    doc.text(170, 38, f"{rail['to_station']}站", size=13)
    doc.text(25, 44, rail["from_pinyin"], size=8)
    doc.text(170, 44, rail["to_pinyin"], size=8)
    if rail.get("departure_date"):
        depart = dt.date.fromisoformat(rail["departure_date"])
        doc.text(20, 54, f"{_date(depart)} {rail.get('departure_time', '')}开")
    doc.text(105, 54, rail["seat"])
    doc.text(160, 54, rail["seat_class"])
    doc.text(20, 62, f"票价:￥{inv.total_amount:.2f}")
    doc.text(20, 70, f"{rail['passenger_id']} {rail['passenger']}")
    if rail["eticket"]:
        doc.text(20, 78, f"电子客票号:{rail['eticket']}", label=True)
    doc.text(20, 88, f"购买方名称:{inv.buyer_name}", label=True)
    doc.text(130, 88, f"统一社会信用代码:{inv.buyer_tax_id}", label=True)
    doc.text(20, 98, "买票请到12306 发货请到95306", size=8)
    return doc


def air_truth(rng: random.Random) -> ExtractedInvoice:
    day = dt.date(2024, 12, 1) + dt.timedelta(days=rng.randint(0, 400))
    # 票价 and 燃油附加费 printed excluding VAT, the VAT on their sum, 合计 = all of it
    # (a real itinerary's amount row, see docs/domain-notes.md)
    fare = round_half_up(Decimal(rng.randint(300, 3000)) * 10 / Decimal("1.09"))
    fuel = round_half_up(Decimal(rng.choice((0, 20, 40, 60, 80))) / Decimal("1.09"))
    fund = Decimal(50)
    vat = round_half_up((fare + fuel) * Decimal("0.09"))
    total = fare + fuel + vat + fund
    inv = ExtractedInvoice(
        kind=InvoiceKind.AIR_ITINERARY,
        number=random_digital_number(rng, day),
        issue_date=day,
        total_amount=total,
        tax_amount=vat,
    )
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    segments = []
    airports = rng.sample(AIRPORTS, 3)
    for i in range(rng.randint(1, 2)):
        carrier, code = rng.choice(CARRIERS)
        segments.append(
            {
                "from": airports[i],
                "to": airports[i + 1],
                "carrier": carrier,
                "flight": f"{code}{rng.randint(1000, 9999)}",
                "seat_class": rng.choice("YBMH"),
                "date": (day + dt.timedelta(days=i)).isoformat(),
                "time": f"{rng.randint(6, 22):02d}:{rng.choice((0, 10, 35, 50)):02d}",
            }
        )
    pid_tail = rng.randint(0, 9999)
    inv.extras = {
        "air": {
            "passenger": random_person(rng),
            "passenger_id": f"{rng.randint(110000, 659999)}********{pid_tail:04d}",
            "status": "正常",
            "domestic": "国内",
            "eticket": f"{rng.randint(780, 999)}{rng.randint(10**9, 10**10 - 1)}",
            "issuer": rng.choice(
                ("中国国际航空股份有限公司", "中国东方航空股份有限公司")
            ),
            "fare": f"{fare:.2f}",
            "fuel_surcharge": f"{fuel:.2f}",
            "vat_rate": "0.09",
            "vat_amount": f"{vat:.2f}",
            "caac_fund": f"{fund:.2f}",
            "other_taxes": "0.00",
            "total": f"{total:.2f}",
            "segments": segments,
        }
    }
    inv.qr_payload = _ticket_qr("51", inv.number, total, day)
    return inv


def draw_air(inv: ExtractedInvoice) -> Doc:
    """The page of an air itinerary from its truth (missing extras print nothing)."""
    air = {"status": "", "domestic": "", "passenger": "", "passenger_id": ""}
    air.update({"eticket": "", "issuer": "", "segments": []})
    air.update(inv.extras.get("air", {}))
    doc = Doc(Style())
    _qr(doc, inv, 10, 3, 20)
    doc.text(
        120,
        12,
        "电子发票（航空运输电子客票行程单）",
        size=14,
        align="center",
        label=True,
    )
    doc.text(165, 8, f"发票号码:{inv.number}", label=True)
    doc.text(165, 15, f"开票状态:{air['status']}", label=True)
    doc.text(165, 22, f"国内国际标识:{air['domestic']}", label=True)
    doc.text(10, 32, f"旅客姓名:{air['passenger']}", label=True)
    doc.text(90, 32, f"有效身份证件号码:{air['passenger_id']}", label=True)
    heads = (
        (14, "自", "from"),
        (44, "至", "to"),
        (76, "承运人", "carrier"),
        (104, "航班号", "flight"),
        (134, "座位等级", "seat_class"),
        (164, "日期", "date"),
        (196, "时间", "time"),
    )
    for x, title, _key in heads:
        doc.text(x, 41, title, label=True, align="center")
    for i, seg in enumerate(air["segments"]):
        for x, _title, key in heads:
            doc.text(x, 48 + 6 * i, seg.get(key, ""), align="center")
    money = (
        (20, "票价", "fare"),
        (50, "燃油附加费", "fuel_surcharge"),
        (82, "增值税税率", "vat_rate"),
        (114, "增值税税额", "vat_amount"),
        (146, "民航发展基金", "caac_fund"),
        (178, "其他税费", "other_taxes"),
        (210, "合计", "total"),
    )
    for x, title, key in money:
        doc.text(x, 66, title, label=True, align="center")
        value = air.get(key, "")
        if key == "vat_rate" and value:
            value = f"{(Decimal(value) * 100).normalize():f}%"
        elif value:
            value = f"CNY {value}"
        doc.text(x, 72, value, align="center")
    doc.text(10, 82, f"电子客票号码:{air['eticket']}", label=True)
    doc.text(80, 82, f"填开单位:{air['issuer']}", label=True)
    doc.text(170, 82, f"填开日期:{_date(inv.issue_date)}", label=True)
    doc.text(10, 90, f"购买方名称:{inv.buyer_name}", label=True)
    doc.text(130, 90, f"统一社会信用代码:{inv.buyer_tax_id}", label=True)
    return doc


def ticket_xbrl(inv: ExtractedInvoice) -> bytes:
    """A minimal XBRL instance as the national platform attaches it (facts named as
    xbrl.py reads them; see docs/domain-notes.md for what is assumed)."""
    rail = inv.kind is InvoiceKind.RAIL_TICKET
    ns = "http://xbrl.mof.gov.cn/taxonomy/2021-11-30/" + ("rai" if rail else "atr")
    facts = {
        ("ElectronicInvoiceRailwayETicketNumber" if rail
         else "ElectronicInvoiceAirTransportReceiptNumber"): inv.number,
        "DateOfIssue": inv.issue_date.isoformat() if inv.issue_date else "",
        "NameOfPurchaser": inv.buyer_name,
        "UnifiedSocialCreditCodeOfPurchaser": inv.buyer_tax_id,
    }  # fmt: skip
    if rail:
        facts["Fare"] = f"{inv.total_amount:.2f}"
        facts["TrainNumber"] = inv.extras["rail"]["train"]
    else:
        facts["TotalAmount"] = f"{inv.total_amount:.2f}"
        facts["VatTaxAmount"] = f"{inv.tax_amount:.2f}"
    body = "".join(f'<t:{k} contextRef="c">{v}</t:{k}>' for k, v in facts.items() if v)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<xbrli:xbrl xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:t="{ns}">'
        f"{body}</xbrli:xbrl>"
    ).encode()


def rail_ticket(seed: int, *, xbrl: bool = False) -> tuple[bytes, ExtractedInvoice]:
    inv = rail_truth(random.Random(seed))
    attach = {f"rai_issuer_{inv.number}.xml": ticket_xbrl(inv)} if xbrl else None
    doc = draw_rail(inv, joined=seed % 2 == 1)
    return render_pages([doc], attachments=attach), inv


def air_itinerary(seed: int, *, xbrl: bool = False) -> tuple[bytes, ExtractedInvoice]:
    inv = air_truth(random.Random(seed))
    attach = {f"atr_issuer_{inv.number}.xml": ticket_xbrl(inv)} if xbrl else None
    return render_pages([draw_air(inv)], attachments=attach), inv


# --- negative discount lines --------------------------------------------------


def _discounted(seed: int, category: str, product: str, rate: str) -> ExtractedInvoice:
    rng = random.Random(seed)
    truth = random_invoice(rng, kind=InvoiceKind.DIGITAL_ORDINARY)
    while truth.is_red:
        truth = random_invoice(rng, kind=InvoiceKind.DIGITAL_ORDINARY)
    rate_d = Decimal(rate)
    lines = []
    for _ in range(rng.randint(1, 3)):
        amount = Decimal(rng.randint(1000, 50000)) / 100
        name = f"*{category}*{product}"
        lines.append(
            ExtractedLine(
                name=name,
                unit="次" if category == "运输服务" else "升",
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
                tax_rate=rate_d,
                tax_amount=round_half_up(amount * rate_d),
            )
        )
        off = -round_half_up(amount * Decimal(rng.randint(5, 30)) / 100)
        lines.append(
            ExtractedLine(
                name=name,
                amount=off,
                tax_rate=rate_d,
                tax_amount=round_half_up(off * rate_d),
            )
        )
    truth.lines = lines
    truth.seller_tax_id = random_uscc(rng)
    return _retotal(truth)


def ride_hailing_discount(seed: int) -> tuple[bytes, ExtractedInvoice]:
    truth = _discounted(seed, "运输服务", "客运服务费", "0.03")
    return make_pdf(truth, layout_variant=seed), truth


def fuel_discount(seed: int) -> tuple[bytes, ExtractedInvoice]:
    truth = _discounted(seed, "汽油", "92号车用汽油(VIB)", "0.13")
    return make_pdf(truth, layout_variant=seed), truth


PDF_VARIANTS: dict[str, Variant] = {
    "legacy_seller_bottom": legacy_seller_bottom,
    "multipage_2": lambda seed: multipage(seed, 2),
    "multipage_3": lambda seed: multipage(seed, 3),
    "general_machine": general_machine,
    "rail_ticket": rail_ticket,
    "rail_ticket_xbrl": lambda seed: rail_ticket(seed, xbrl=True),
    "air_itinerary": air_itinerary,
    "air_itinerary_xbrl": lambda seed: air_itinerary(seed, xbrl=True),
    "ride_hailing_discount": ride_hailing_discount,
    "fuel_discount": fuel_discount,
}
