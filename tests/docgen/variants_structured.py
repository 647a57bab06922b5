"""Real-file variants of structured invoices (XML, OFD) with ground truth.

Every generator takes a seed and returns ``(document bytes, truth ExtractedInvoice)``;
``VARIANTS`` lists them by name with their format, for conformance sets and per-variant
benchmarks. The structure follows what real files do (domain/einvoice.md sections 9
and 11, docs/domain-notes.md):

- ``legacy_ofd_broken_tag``: a legacy 电子普票 OFD whose ``Doc_0/Tags/CustomTag.xml``
  opens with an empty prefix (``<:eInvoice xmlns:="">``) and uses ``ofd:`` undeclared;
  ``legacy_ofd_unreadable_tag``: the same part beyond repair (truncated), so what
  only the tags give (the amount in capitals) is missing from the truth;
- ``digital_ofd_template_title``: a 数电 OFD with no kind in CustomData and no title
  tag, the title drawn one character per text object in ``Doc_0/Tpls/Tpl_0``, in
  Kangxi radicals for odd seeds;
- ``general_machine_ofd``: a 通用机打发票 (广东通用机打发票(电子)) whose 12-digit code
  ends in 11, title in the template;
- ``toll_xml``: a 数电 toll invoice without InherentLabel, passages in
  ``SpecificInformation/Toll`` (plate number before the invoice number, the number only
  in EIid and TaxSupervisionInfo), ``extras["toll"]`` in the truth;
- ``discount_xml``: a 数电 ordinary invoice without InherentLabel carrying a negative
  discount line;
- ``rail_ofd_xbrl`` / ``rail_ofd_page``: a 电子发票（铁路电子客票） OFD with and without
  its ``rai_issuer_*.xml`` attachment; ``rail_xbrl``: the attachment alone;
- ``air_ofd_xbrl`` / ``air_ofd_page`` / ``air_xbrl``: the same for
  电子发票（航空运输电子客票行程单）.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    InvoiceKind,
)

from .capitals import amount_to_capitals
from .ofd_doc import FP_NS, OFD_NS, TITLES, make_ofd
from .truth import (
    _discount_line,
    _qr_payload,
    random_company,
    random_digital_number,
    random_invoice,
    random_person,
    round_half_up,
)
from .xml_doc import make_xml

Generated = tuple[bytes, ExtractedInvoice]
RAI_NS = "http://xbrl.mof.gov.cn/taxonomy/2021-11-30/rai"
ATR_NS = "http://xbrl.mof.gov.cn/taxonomy/2021-11-30/atr"
XBRLI_NS = "http://www.xbrl.org/2003/instance"
KANGXI = str.maketrans({"子": "\u2f26", "用": "\u2f64"})  # radicals NFKC folds
RAIL_TITLE = "电子发票（铁路电子客票）"
AIR_TITLE = "电子发票（航空运输电子客票行程单）"
STATIONS = (
    ("北京南", "Beijingnan"),
    ("上海虹桥", "Shanghaihongqiao"),
    ("杭州东", "Hangzhoudong"),
    ("广州南", "Guangzhounan"),
    ("深圳北", "Shenzhenbei"),
    ("南京南", "Nanjingnan"),
    ("武汉", "Wuhan"),
    ("成都东", "Chengdudong"),
    ("西安北", "Xianbei"),
)
SEAT_CLASSES = ("二等座", "二等座", "一等座", "商务座", "无座", "硬卧", "软卧")
AIRPORTS = ("北京首都", "上海虹桥", "广州白云", "深圳宝安", "成都天府", "杭州萧山")
CARRIERS = ("CA", "MU", "CZ", "HU", "ZH", "3U")


# --- packaging helpers ---------------------------------------------------------


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(
                name, content if isinstance(content, bytes) else content.encode()
            )
    return buffer.getvalue()


def rebuild_zip(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """Copy a package, passing each member through ``change`` (None drops it)."""
    files: dict[str, str | bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        for info in src.infolist():
            content = change(info.filename, src.read(info))
            if content is not None:
                files[info.filename] = content
    return _zip(files)


def _text_object(obj_id: int, x: float, y: float, text: str) -> str:
    return (
        f'<ofd:TextObject ID="{obj_id}" Boundary="{x} {y} 60 5" Font="3" Size="3.5">'
        f'<ofd:TextCode X="0" Y="3.5">{escape(text)}</ofd:TextCode></ofd:TextObject>'
    )


def _content(items: list[tuple[float, float, str]], first_id: int) -> str:
    objects = "".join(
        _text_object(first_id + i, x, y, text) for i, (x, y, text) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer ID="{first_id - 1}">'
        f"{objects}</ofd:Layer></ofd:Content></ofd:Page>"
    )


def _title_items(title: str, x: float, y: float, kangxi: bool) -> list:
    """A title drawn one character per text object, as real templates do."""
    if kangxi:
        title = title.translate(KANGXI)
    return [(x + 4.2 * i, y, ch) for i, ch in enumerate(title)]


def _add_template(data: bytes, items: list[tuple[float, float, str]]) -> bytes:
    """Add ``Doc_0/Tpls/Tpl_0/Content.xml`` holding ``items`` and declare it."""

    def change(name: str, content: bytes) -> bytes:
        if name == "Doc_0/Document.xml":
            return content.replace(
                b"</ofd:PageArea>",
                b'</ofd:PageArea><ofd:TemplatePage ID="900" '
                b'BaseLoc="Tpls/Tpl_0/Content.xml"/>',
            )
        return content

    rebuilt = rebuild_zip(data, change)
    with zipfile.ZipFile(io.BytesIO(rebuilt)) as src:
        files: dict[str, str | bytes] = {
            i.filename: src.read(i) for i in src.infolist()
        }
    files["Doc_0/Tpls/Tpl_0/Content.xml"] = _content(items, 901)
    return _zip(files)


# --- legacy OFD with a damaged custom tag part -----------------------------------


def _broken_tag(content: bytes) -> bytes:
    text = content.decode()
    text = text.replace(
        f'<fp:eInvoice xmlns:fp="{FP_NS}" xmlns:ofd="{OFD_NS}">',
        '<:eInvoice xmlns:="">',
    )
    return text.replace("</fp:", "</:").replace("<fp:", "<:").encode()


def legacy_ofd_broken_tag(seed: int) -> Generated:
    """Real legacy 电子普票 shape: CustomTag.xml with an empty prefix and ``ofd:``
    undeclared; OFD.xml and original_invoice.xml are fine."""
    truth = random_invoice(random.Random(seed), kind=InvoiceKind.E_ORDINARY)
    data = make_ofd(truth, legacy=True, layout=seed % 3)

    def change(name: str, content: bytes) -> bytes:
        return _broken_tag(content) if name.endswith("Tags/CustomTag.xml") else content

    return rebuild_zip(data, change), truth


def legacy_ofd_unreadable_tag(seed: int) -> Generated:
    """The custom tag part cut short (beyond repair): the invoice still reads from
    its trusted parts; the amount in capitals, printed only, is lost."""
    truth = random_invoice(random.Random(seed), kind=InvoiceKind.E_ORDINARY)
    data = make_ofd(truth, legacy=True, layout=seed % 3)

    def change(name: str, content: bytes) -> bytes:
        if name.endswith("Tags/CustomTag.xml"):
            return _broken_tag(content)[: len(content) // 2]
        return content

    truth.total_in_words = ""
    return rebuild_zip(data, change), truth


# --- titles in the template -------------------------------------------------------


def _move_title_to_template(
    data: bytes, printed_title: str, template_title: str, kangxi: bool
) -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name.endswith("Tags/CustomTag.xml"):
            return re.sub(rb"<fp:Title>.*?</fp:Title>", b"", content)
        if name.endswith("Content.xml"):
            return content.replace(f">{printed_title}<".encode(), b"><")
        return content

    stripped = rebuild_zip(data, change)
    return _add_template(stripped, _title_items(template_title, 60, 6, kangxi))


def digital_ofd_template_title(seed: int) -> Generated:
    """A 数电 OFD as the platform issues it: no kind in CustomData, the title only in
    the template (per character; Kangxi radicals for odd seeds)."""
    rng = random.Random(seed)
    kind = rng.choice((InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY))
    truth = random_invoice(rng, kind=kind)
    data = make_ofd(truth, layout=seed % 3)
    title = TITLES[kind]
    # not printed on a 数电 page: the QR is an image, tax codes are not shown
    truth.qr_payload = ""
    for line in truth.lines:
        line.tax_classification_code = ""
    return _move_title_to_template(data, title, title, kangxi=seed % 2 == 1), truth


def general_machine_ofd(seed: int) -> Generated:
    """广东通用机打发票(电子): a 12-digit code ending in 11, yet not a VAT invoice."""
    truth = random_invoice(random.Random(seed), kind=InvoiceKind.E_ORDINARY)
    truth.kind = InvoiceKind.GENERAL_MACHINE
    data = make_ofd(truth, legacy=True, layout=seed % 3)
    return _move_title_to_template(data, "发票", "广东通用机打发票(电子)", False), truth


# --- 数电 XML without InherentLabel -------------------------------------------------

_TOLL_NAMES = (
    ("PlateNumber", "VehicleType", "StartDateOfPassage", "EndDateOfPassage"),
    ("LicensePlateNumber", "TypeOfVehicle", "PassageStartDate", "PassageEndDate"),
    ("CarNumber", "VehicleType", "TollStartTime", "TollEndTime"),
)


def _el(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else ""


def _finish_truth(inv: ExtractedInvoice, rng: random.Random) -> None:
    inv.amount = sum((ln.amount for ln in inv.lines if ln.amount), Decimal("0.00"))
    inv.tax_amount = sum(
        (ln.tax_amount for ln in inv.lines if ln.tax_amount is not None),
        Decimal("0.00"),
    )
    inv.total_amount = inv.amount + inv.tax_amount
    inv.total_in_words = amount_to_capitals(inv.total_amount, yuan="圆")
    inv.qr_payload = _qr_payload(inv, rng)


def toll_xml(seed: int) -> Generated:
    """A 数电 toll invoice as real files carry it: no InherentLabel (so no kind
    label), passages in SpecificInformation/Toll, the invoice number only in EIid and
    TaxSupervisionInfo/InvoiceNumber."""
    rng = random.Random(seed)
    issue = dt.date(2024, 12, 1) + dt.timedelta(days=rng.randint(0, 600))
    inv = ExtractedInvoice(kind=InvoiceKind.DIGITAL_ORDINARY, issue_date=issue)
    inv.number = random_digital_number(rng, issue)
    inv.seller_name, inv.seller_tax_id = random_company(rng)
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    inv.drawer = random_person(rng)
    plate = (
        rng.choice("浙京沪粤苏川")
        + rng.choice("ABCDE")
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
    )
    vehicle = rng.choice(("一型客车", "二型客车", ""))
    names = _TOLL_NAMES[seed % len(_TOLL_NAMES)]
    passages, records = [], []
    for _ in range(rng.randint(1, 3)):
        start = issue - dt.timedelta(days=rng.randint(1, 40))
        end = start + dt.timedelta(days=rng.randint(0, 1))
        amount = Decimal(rng.randint(500, 30000)) / 100
        inv.lines.append(
            ExtractedLine(
                name="*经营租赁*通行费",
                amount=amount,
                tax_rate=Decimal("0.03"),
                tax_amount=round_half_up(amount * Decimal("0.03")),
                tax_classification_code="3040502020200000000",
            )
        )
        fmt = ("%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S")[rng.randint(0, 2)]
        started = dt.datetime.combine(start, dt.time(rng.randint(0, 23), 5))
        ended = dt.datetime.combine(end, dt.time(rng.randint(0, 23), 40))
        passage = {"plate": plate, "from": start.isoformat(), "to": end.isoformat()}
        if vehicle:
            passage["vehicle_type"] = vehicle
        passages.append(passage)
        records.append(
            "<TollInformation>"
            + _el(names[0], plate)
            + _el(names[1], vehicle)
            + _el(names[2], started.strftime(fmt))
            + _el(names[3], ended.strftime(fmt))
            + "</TollInformation>"
        )
    _finish_truth(inv, rng)
    inv.qr_payload = ""  # not in the XML
    inv.remarks = rng.choice(("", "不可用于增值税进项抵扣"))
    toll: dict[str, object] = {"plate": plate, "passages": passages}
    if vehicle:
        toll["vehicle_type"] = vehicle
    inv.extras = {"toll": toll}
    items = "".join(
        "<IssuItemInformation>"
        + _el("ItemName", ln.name)
        + _el("Amount", f"{ln.amount:.2f}")
        + _el("TaxRate", "0.03")
        + _el("ComTaxAm", f"{ln.tax_amount:.2f}")
        + _el("TaxClassificationCode", ln.tax_classification_code)
        + "</IssuItemInformation>"
        for ln in inv.lines
    )
    stamp = f"{issue:%Y-%m-%d} 10:{rng.randint(10, 59)}:00"
    body = (
        "<EInvoice><Header>"
        + _el("EIid", inv.number)
        + _el("EInvoiceTag", "SWEI" + inv.number[:4])
        + _el("Version", "0.1")
        + "</Header><EInvoiceData><SellerInformation>"
        + _el("SellerIdNum", inv.seller_tax_id)
        + _el("SellerName", inv.seller_name)
        + "</SellerInformation><BuyerInformation>"
        + _el("BuyerIdNum", inv.buyer_tax_id)
        + _el("BuyerName", inv.buyer_name)
        + "</BuyerInformation><BasicInformation>"
        + _el("TotalAmWithoutTax", f"{inv.amount:.2f}")
        + _el("TotalTaxAm", f"{inv.tax_amount:.2f}")
        + _el("TotalTax-includedAmount", f"{inv.total_amount:.2f}")
        + _el("TotalTax-includedAmountInChinese", inv.total_in_words)
        + _el("Drawer", inv.drawer)
        + _el("RequestTime", stamp)
        + "</BasicInformation>"
        + items
        + "<SpecificInformation><Toll>"
        + "".join(records)
        + "</Toll></SpecificInformation><AdditionalInformation>"
        + _el("Remark", inv.remarks)
        + "</AdditionalInformation></EInvoiceData><TaxSupervisionInfo>"
        + _el("InvoiceNumber", inv.number)
        + _el("IssueTime", stamp)
        + _el("TaxBureauCode", "13300000000")
        + "</TaxSupervisionInfo></EInvoice>"
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode(), inv


def discount_xml(seed: int) -> Generated:
    """A 数电 ordinary invoice (fuel, ride-hailing) without InherentLabel whose goods
    line is followed by a negative discount line."""
    rng = random.Random(seed)
    while True:
        inv = random_invoice(rng, kind=InvoiceKind.DIGITAL_ORDINARY)
        if not inv.is_red and inv.lines[0].amount:
            break
    goods = inv.lines[0]
    inv.lines = [goods, _discount_line(rng, goods), *inv.lines[1:]]
    _finish_truth(inv, rng)
    data = make_xml(inv, variant=seed % 2)
    data = re.sub(rb"<InherentLabel>.*?</InherentLabel>", b"", data, flags=re.S)
    inv.qr_payload = ""
    return data, inv


# --- rail tickets -----------------------------------------------------------------


def _masked_id(rng: random.Random) -> str:
    region = rng.choice(("110105", "330106", "440305"))
    return f"{region}********{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"


def _rail_truth(seed: int, with_xbrl: bool) -> tuple[ExtractedInvoice, dict]:
    rng = random.Random(f"rail-{seed}")
    issue = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randint(0, 700))
    inv = ExtractedInvoice(kind=InvoiceKind.RAIL_TICKET, issue_date=issue)
    inv.number = random_digital_number(rng, issue)
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    (src, src_py), (dst, dst_py) = rng.sample(STATIONS, 2)
    depart = issue - dt.timedelta(days=rng.randint(0, 20))
    fare = Decimal(rng.randint(1500, 150000)) / 100
    raw = {
        "passenger": random_person(rng),
        "passenger_id": _masked_id(rng),
        "from_station": src,
        "to_station": dst,
        "from_pinyin": src_py,
        "to_pinyin": dst_py,
        "train": rng.choice("GGGDC") + str(rng.randint(1, 9999)),
        "departure_date": depart.isoformat(),
        "departure_time": f"{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}",
        "seat_class": rng.choice(SEAT_CLASSES),
        "carriage": f"{rng.randint(1, 16):02d}",
        "seat_no": f"{rng.randint(1, 20):02d}{rng.choice('ABCDF')}",
        "eticket": "E" + "".join(rng.choice("0123456789") for _ in range(9)),
        "fare": f"{fare:.2f}",
    }
    rail = {k: v for k, v in raw.items() if k not in ("carriage", "seat_no")}
    rail["seat"] = f"{raw['carriage']}车{raw['seat_no']}号"
    inv.total_amount = fare
    if with_xbrl:
        inv.amount = round_half_up(fare / Decimal("1.09"))
        inv.tax_amount = fare - inv.amount
        rail["tax_rate"] = "0.09"
    inv.extras = {"rail": rail}
    return inv, raw


def _rail_xbrl_bytes(inv: ExtractedInvoice, raw: dict) -> bytes:
    assert inv.issue_date is not None
    ctx = f"As_Of_{inv.issue_date:%Y_%m_%d}"
    facts = {
        "TypeOfVoucher": RAIL_TITLE,
        "ElectronicInvoiceRailwayETicketNumber": inv.number,
        "DateOfIssue": inv.issue_date.isoformat(),
        "DepartureStation": raw["from_station"],
        "PhonicsOfDepartureStation": raw["from_pinyin"],
        "DestinationStation": raw["to_station"],
        "PhonicsOfDestinationStation": raw["to_pinyin"],
        "TrainNumber": raw["train"],
        "TravelDate": raw["departure_date"],
        "DepartureTime": raw["departure_time"],
        "SeatLevel": raw["seat_class"],
        "Carriage": raw["carriage"],
        "Seat": raw["seat_no"],
        "Fare": raw["fare"],
        "ElectronicTicketNum": raw["eticket"],
        "IdNumber": raw["passenger_id"],
        "Name": raw["passenger"],
        "TotalAmountExcludingTax": f"{inv.amount:.2f}",
        "TaxRate": "0.09",
        "TaxAmount": f"{inv.tax_amount:.2f}",
        "NameOfPurchaser": inv.buyer_name,
        "UnifiedSocialCreditCodeOfPurchaser": inv.buyer_tax_id,
        "IssueParty": "",
    }
    body = "".join(
        f'<rai:{k} contextRef="{ctx}">{escape(v)}</rai:{k}>' for k, v in facts.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xbrl xmlns="{XBRLI_NS}" xmlns:rai="{RAI_NS}">'
        f'<context id="{ctx}"><entity><identifier scheme="http://xbrl.mof.gov.cn">'
        f"{inv.number}</identifier></entity><period><instant>"
        f"{inv.issue_date.isoformat()}</instant></period></context>"
        '<unit id="CNY"><measure>iso4217:CNY</measure></unit>'
        f"{body}</xbrl>"
    ).encode()


def _rail_layout(inv: ExtractedInvoice, raw: dict, kangxi: bool) -> tuple[list, list]:
    """(template items, page items): labels in the template, values on the page."""
    assert inv.issue_date is not None
    depart = dt.date.fromisoformat(raw["departure_date"])
    template = [
        *_title_items(RAIL_TITLE, 55, 6, kangxi),
        (130, 16, "发票号码:"),
        (130, 22, "开票日期:"),
        (20, 52, "票价:"),
        (20, 68, "电子客票号:"),
        (20, 76, "购买方名称:"),
        (110, 76, "统一社会信用代码:"),
    ]
    page = [
        (148, 16, inv.number),
        (148, 22, f"{inv.issue_date:%Y年%m月%d日}"),
        (20, 30, raw["from_station"] + "站"),
        (75, 30, raw["train"]),
        (125, 30, raw["to_station"] + "站"),
        (20, 36, raw["from_pinyin"]),
        (125, 36, raw["to_pinyin"]),
        (20, 44, f"{depart:%Y年%m月%d日} {raw['departure_time']}开"),
        (85, 44, f"{raw['carriage']}车{raw['seat_no']}号"),
        (125, 44, raw["seat_class"]),
        (32, 52, f"￥{raw['fare']}"),
        (20, 60, raw["passenger_id"]),
        (65, 60, raw["passenger"]),
        (42, 68, raw["eticket"]),
        (44, 76, inv.buyer_name),
        (142, 76, inv.buyer_tax_id),
        (20, 84, "买票请到12306 发货请到95306"),
    ]
    return template, page


def _ticket_ofd(
    inv: ExtractedInvoice,
    template: list,
    page: list,
    attachment: tuple[str, bytes] | None,
) -> bytes:
    assert inv.issue_date is not None
    custom = (
        f'<ofd:CustomData Name="发票号码">{inv.number}</ofd:CustomData>'
        f'<ofd:CustomData Name="开票日期">{inv.issue_date:%Y年%m月%d日}'
        "</ofd:CustomData>"
    )
    attach_ref = "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>"
    files: dict[str, str | bytes] = {
        "OFD.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ofd:OFD xmlns:ofd="{OFD_NS}" DocType="OFD" Version="1.1"><ofd:DocBody>'
            f"<ofd:DocInfo><ofd:DocID>{inv.number}</ofd:DocID>"
            f"<ofd:CustomDatas>{custom}</ofd:CustomDatas></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
            "<ofd:MaxUnitID>999</ofd:MaxUnitID><ofd:PageArea>"
            "<ofd:PhysicalBox>0 0 190 110</ofd:PhysicalBox></ofd:PageArea>"
            '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/>'
            '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" '
            'BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
            + (attach_ref if attachment else "")
            + "</ofd:Document>"
        ),
        "Doc_0/Tpls/Tpl_0/Content.xml": _content(template, 10),
        "Doc_0/Pages/Page_0/Content.xml": _content(page, 200),
    }
    if attachment:
        name, content = attachment
        files["Doc_0/Attachs/Attachments.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ofd:Attachments xmlns:ofd="{OFD_NS}">'
            f'<ofd:Attachment ID="1" Name="{name}" Format="xml">'
            f"<ofd:FileLoc>{name}</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
        )
        files[f"Doc_0/Attachs/{name}"] = content
    return _zip(files)


def rail_xbrl(seed: int) -> Generated:
    """The ``rai_issuer_*.xml`` XBRL instance alone (as uploaded or embedded)."""
    inv, raw = _rail_truth(seed, with_xbrl=True)
    return _rail_xbrl_bytes(inv, raw), inv


def rail_ofd(seed: int, *, with_xbrl: bool = True) -> Generated:
    inv, raw = _rail_truth(seed, with_xbrl)
    template, page = _rail_layout(inv, raw, kangxi=seed % 2 == 1)
    attachment = None
    if with_xbrl:
        attachment = (f"rai_issuer_{inv.number}.xml", _rail_xbrl_bytes(inv, raw))
    return _ticket_ofd(inv, template, page, attachment), inv


def rail_ofd_xbrl(seed: int) -> Generated:
    return rail_ofd(seed, with_xbrl=True)


def rail_ofd_page(seed: int) -> Generated:
    return rail_ofd(seed, with_xbrl=False)


# --- air itineraries --------------------------------------------------------------


def _air_truth(seed: int) -> ExtractedInvoice:
    rng = random.Random(f"air-{seed}")
    issue = dt.date(2024, 12, 1) + dt.timedelta(days=rng.randint(0, 600))
    inv = ExtractedInvoice(kind=InvoiceKind.AIR_ITINERARY, issue_date=issue)
    inv.number = random_digital_number(rng, issue)
    inv.buyer_name, inv.buyer_tax_id = random_company(rng)
    segments = []
    cities = rng.sample(AIRPORTS, 3)
    count = rng.choice((1, 1, 2))
    for index in range(count):
        carrier = rng.choice(CARRIERS)
        day = issue + dt.timedelta(days=rng.randint(0, 10) + index)
        segments.append(
            {
                "from": cities[index],
                "to": cities[index + 1],
                "carrier": carrier,
                "flight": f"{carrier}{rng.randint(100, 9999)}",
                "seat_class": rng.choice("YBMHK"),
                "date": day.isoformat(),
                "time": f"{rng.randint(6, 22):02d}:{rng.choice((0, 15, 30, 45)):02d}",
                "fare_basis": rng.choice(("Y", "B", "M", "YOW")),
            }
        )
    # 数电 itinerary: 票价 and 燃油附加费 exclude VAT; 增值税税额 = 9 % of their sum;
    # 合计 = 票价 + 燃油附加费 + 增值税税额 + 民航发展基金 + 其他税费
    fare = Decimal(rng.randint(30000, 300000)) / 100
    fuel = Decimal(rng.choice((0, 10, 20, 40, 60)) * count).quantize(Decimal("0.01"))
    vat = round_half_up((fare + fuel) * Decimal("0.09"))
    fund = Decimal(50 * count).quantize(Decimal("0.01"))
    other = Decimal("0.00")
    total = fare + fuel + vat + fund + other
    inv.total_amount = total
    inv.tax_amount = vat
    inv.extras = {
        "air": {
            "status": "正常",
            "domestic": "国内",
            "passenger": random_person(rng),
            "passenger_id": _masked_id(rng),
            "eticket": "".join(rng.choice("0123456789") for _ in range(13)),
            "verification_code": f"{rng.randint(0, 9999):04d}",
            "issuer": random_company(rng)[0],
            "agent_code": f"PEK{rng.randint(100, 999)}",
            "insurance": "0.00",
            "fare": f"{fare:.2f}",
            "fuel_surcharge": f"{fuel:.2f}",
            "vat_rate": "0.09",
            "vat_amount": f"{vat:.2f}",
            "caac_fund": f"{fund:.2f}",
            "other_taxes": f"{other:.2f}",
            "total": f"{total:.2f}",
            "segments": segments,
        }
    }
    return inv


def _air_xbrl_bytes(inv: ExtractedInvoice) -> bytes:
    assert inv.issue_date is not None
    air = inv.extras["air"]
    facts = {
        "ElectronicInvoiceAirTransportReceiptNumber": inv.number,
        "IssueDate": inv.issue_date.isoformat(),
        "IssuingStatus": air["status"],
        "MarkingOfDomesticOrInternational": air["domestic"],
        "PassengerName": air["passenger"],
        "ValidIdNumber": air["passenger_id"],
        "Fare": air["fare"],
        "FuelSurcharge": air["fuel_surcharge"],
        "VatRate": "9%",
        "VatTaxAmount": air["vat_amount"],
        "CivilAviationDevelopmentFund": air["caac_fund"],
        "OtherTaxes": air["other_taxes"],
        "TotalAmount": air["total"],
        "ElectronicTicketNum": air["eticket"],
        "VerificationCode": air["verification_code"],
        "Insurance": air["insurance"],
        "AgentCode": air["agent_code"],
        "IssueParty": air["issuer"],
        "NameOfPurchaser": inv.buyer_name,
        "UnifiedSocialCreditCodeOfPurchaser": inv.buyer_tax_id,
    }
    body = "".join(f"<atr:{k}>{escape(v)}</atr:{k}>" for k, v in facts.items())
    tuples = "".join(
        "<atr:DetailInformationOfAirTicketTuple>"
        f"<atr:DepartureStation>{s['from']}</atr:DepartureStation>"
        f"<atr:DestinationStation>{s['to']}</atr:DestinationStation>"
        f"<atr:Carrier>{s['carrier']}</atr:Carrier><atr:Flight>{s['flight']}</atr:Flight>"
        f"<atr:SeatClass>{s['seat_class']}</atr:SeatClass>"
        f"<atr:CarrierDate>{s['date']}</atr:CarrierDate>"
        f"<atr:DepartureTime>{s['time']}</atr:DepartureTime>"
        f"<atr:FareBasis>{s['fare_basis']}</atr:FareBasis>"
        "</atr:DetailInformationOfAirTicketTuple>"
        for s in air["segments"]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<xbrli:xbrl xmlns:xbrli="{XBRLI_NS}" xmlns:atr="{ATR_NS}">'
        f"{body}{tuples}</xbrli:xbrl>"
    ).encode()


def _air_layout(inv: ExtractedInvoice, kangxi: bool) -> tuple[list, list]:
    assert inv.issue_date is not None
    air = inv.extras["air"]
    labels = [
        (120, 16, "发票号码:"),
        (10, 22, "开票状态:"),
        (60, 22, "国内国际标识:"),
        (120, 22, "填开日期:"),
        (10, 30, "旅客姓名:"),
        (60, 30, "有效身份证件号码:"),
        (10, 74, "电子客票号码:"),
        (80, 74, "验证码:"),
        (130, 74, "保险费:"),
        (10, 82, "销售网点代号:"),
        (80, 82, "填开单位:"),
        (10, 90, "购买方名称:"),
        (100, 90, "统一社会信用代码:"),
    ]
    columns = (10, 35, 60, 80, 100, 120, 142, 160)
    seg_header = ("自", "至", "承运人", "航班号", "座位等级", "日期", "时间")
    labels += [
        (x, 38, h)
        for x, h in zip(columns, (*seg_header, "客票级别/客票类别"), strict=True)
    ]
    amount_header = ("票价", "燃油附加费", "增值税税率", "增值税税额", "民航发展基金")
    labels += [
        (x, 60, h)
        for x, h in zip(columns, (*amount_header, "其他税费", "合计"), strict=False)
    ]
    template = _title_items(AIR_TITLE, 40, 6, kangxi) + labels
    page = [
        (140, 16, inv.number),
        (28, 22, air["status"]),
        (85, 22, air["domestic"]),
        (140, 22, inv.issue_date.isoformat()),
        (28, 30, air["passenger"]),
        (92, 30, air["passenger_id"]),
        (35, 74, air["eticket"]),
        (95, 74, air["verification_code"]),
        (145, 74, air["insurance"]),
        (35, 82, air["agent_code"]),
        (98, 82, air["issuer"]),
        (30, 90, inv.buyer_name),
        (130, 90, inv.buyer_tax_id),
    ]
    keys = ("from", "to", "carrier", "flight", "seat_class", "date", "time")
    for row, segment in enumerate(air["segments"]):
        y = 44 + 6 * row
        page += [
            (x, y, segment[k])
            for x, k in zip(columns, (*keys, "fare_basis"), strict=True)
        ]
    amounts = (
        f"CNY {air['fare']}",
        f"CNY {air['fuel_surcharge']}",
        "9%",
        f"CNY {air['vat_amount']}",
        f"CNY {air['caac_fund']}",
        f"CNY {air['other_taxes']}",
        f"CNY {air['total']}",
    )
    page += [(x, 66, v) for x, v in zip(columns, amounts, strict=False)]
    return template, page


def air_xbrl(seed: int) -> Generated:
    inv = _air_truth(seed)
    return _air_xbrl_bytes(inv), inv


def air_ofd(seed: int, *, with_xbrl: bool = True) -> Generated:
    inv = _air_truth(seed)
    template, page = _air_layout(inv, kangxi=seed % 2 == 1)
    attachment = None
    if with_xbrl:
        attachment = (f"atr_issuer_{inv.number}.xml", _air_xbrl_bytes(inv))
    return _ticket_ofd(inv, template, page, attachment), inv


def air_ofd_xbrl(seed: int) -> Generated:
    return air_ofd(seed, with_xbrl=True)


def air_ofd_page(seed: int) -> Generated:
    return air_ofd(seed, with_xbrl=False)


# name -> (format, generator)
VARIANTS: dict[str, tuple[str, Callable[[int], Generated]]] = {
    "legacy_ofd_broken_tag": ("ofd", legacy_ofd_broken_tag),
    "legacy_ofd_unreadable_tag": ("ofd", legacy_ofd_unreadable_tag),
    "digital_ofd_template_title": ("ofd", digital_ofd_template_title),
    "general_machine_ofd": ("ofd", general_machine_ofd),
    "toll_xml": ("xml", toll_xml),
    "discount_xml": ("xml", discount_xml),
    "rail_xbrl": ("xml", rail_xbrl),
    "rail_ofd_xbrl": ("ofd", rail_ofd_xbrl),
    "rail_ofd_page": ("ofd", rail_ofd_page),
    "air_xbrl": ("xml", air_xbrl),
    "air_ofd_xbrl": ("ofd", air_ofd_xbrl),
    "air_ofd_page": ("ofd", air_ofd_page),
}
