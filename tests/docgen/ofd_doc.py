"""OFD packages for a ground-truth invoice: ``make_ofd(inv, legacy=...)``.

A real ZIP built with ``zipfile``: ``OFD.xml`` (DocInfo/CustomDatas),
``Doc_0/Document.xml``, page content with ``TextObject``s,
``Doc_0/Tags/CustomTag.xml`` whose ``ObjectRef``s point at them, a signature
stub and, for legacy e-invoices, ``Doc_0/Attachs/original_invoice.xml`` in the
2019 e-invoice namespace. Layouts (chosen from the invoice number unless given):
0. full CustomDatas, one page, deflated;
1. minimal CustomDatas, long names split over two TextObjects, lines spilling
   to a second page, stored (uncompressed) members;
2. no CustomDatas, absolute BaseLoc paths, amounts printed with '¥' and
   thousands separators.
"""

from __future__ import annotations

import io
import random
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from invoiceportal.invoices.extraction.types import ExtractedInvoice, InvoiceKind

from .truth import DIGITAL_KINDS

OFD_NS = "http://www.ofdspec.org/2016"
FP_NS = "http://www.edrm.org.cn/schema/e-invoice/2019"
LAYOUTS = (0, 1, 2)
TITLES = {
    InvoiceKind.DIGITAL_SPECIAL: "电子发票（增值税专用发票）",
    InvoiceKind.DIGITAL_ORDINARY: "电子发票（普通发票）",
    InvoiceKind.E_SPECIAL: "增值税电子专用发票",
    InvoiceKind.E_ORDINARY: "增值税电子普通发票",
    InvoiceKind.E_TOLL: "增值税电子普通发票（通行费）",
}


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _money(value: Decimal | None, layout: int) -> str:
    if value is None:
        return ""
    if layout == 2:
        return f"¥{value:,.2f}"
    return f"{value:.2f}"


def _rate(rate: Decimal | None, exempt: bool) -> str:
    if exempt or rate is None:
        return "免税"
    return f"{(rate * 100).normalize():f}%"


class _Pages:
    """Text objects on pages; every value gets ids that tags can point at."""

    def __init__(self, layout: int) -> None:
        self.layout = layout
        self.pages: list[list[str]] = [[]]
        self.next_id = 100
        self.page = 0

    def new_page(self) -> None:
        self.pages.append([])
        self.page = len(self.pages) - 1

    def page_id(self) -> str:
        return str(self.page + 1)

    def add(self, text: str, x: float, y: float) -> list[str]:
        """Place ``text``; returns the object ids (two when a long name is split)."""
        if not text:
            return []
        chunks = [text]
        if self.layout == 1 and len(text) > 14:
            chunks = [text[:12], text[12:]]
        ids = []
        for offset, chunk in enumerate(chunks):
            self.next_id += 1
            obj_id = str(self.next_id)
            ids.append(obj_id)
            self.pages[self.page].append(
                f'<ofd:TextObject ID="{obj_id}" Boundary="{x} {y + 4 * offset} 80 4"'
                f' Font="3" Size="3.175"><ofd:FillColor Value="128 0 0"/>'
                f'<ofd:TextCode X="0" Y="3">{escape(chunk)}</ofd:TextCode>'
                f"</ofd:TextObject>"
            )
        return ids

    def content(self, index: int) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
            f'<ofd:Layer ID="{index + 2}">'
            + "".join(self.pages[index])
            + "</ofd:Layer>"
            "</ofd:Content></ofd:Page>"
        )


class _Tags:
    def __init__(self, pages: _Pages) -> None:
        self.pages = pages
        self.parts: list[str] = []

    def ref(self, tag: str, text: str, x: float, y: float) -> None:
        ids = self.pages.add(text, x, y)
        if ids:
            refs = "".join(
                f'<ofd:ObjectRef PageRef="{self.pages.page_id()}">{i}</ofd:ObjectRef>'
                for i in ids
            )
            self.parts.append(f"<fp:{tag}>{refs}</fp:{tag}>")

    def raw(self, text: str) -> None:
        self.parts.append(text)


def _page_layout(
    inv: ExtractedInvoice, layout: int, legacy: bool
) -> tuple[_Pages, str]:
    pages = _Pages(layout)
    tags = _Tags(pages)
    dx = 3 * layout
    for label, x, y in (
        ("购买方", 5, 30),
        ("销售方", 5, 100),
        ("价税合计（大写）", 5, 90),
    ):
        pages.add(label, x, y)
    tags.ref("Title", TITLES.get(inv.kind, "发票"), 70 + dx, 8)
    if legacy:
        tags.ref("InvoiceCode", inv.code, 160, 10)
    tags.ref("InvoiceNo", inv.number, 160, 15)
    assert inv.issue_date is not None
    tags.ref("IssueDate", f"{inv.issue_date:%Y年%m月%d日}", 160, 20)
    if legacy and inv.check_code:
        check = " ".join(inv.check_code[i : i + 5] for i in range(0, 20, 5))
        tags.ref("InvoiceCheckCode", check, 160, 25)
    tags.ref("BuyerName", inv.buyer_name, 30 + dx, 32)
    tags.ref("BuyerTaxID", inv.buyer_tax_id, 30 + dx, 38)
    tags.ref("SellerName", inv.seller_name, 30 + dx, 102)
    tags.ref("SellerTaxID", inv.seller_tax_id, 30 + dx, 108)
    tags.raw("<fp:GoodsInfos>")
    y = 55.0
    for index, line in enumerate(inv.lines):
        if layout == 1 and index == 4:
            pages.new_page()
            y = 20.0
        tags.raw("<fp:GoodsInfo>")
        tags.ref("Item", line.name, 5, y)
        tags.ref("Specification", line.spec, 50, y)
        tags.ref("MeasurementDimension", line.unit, 70, y)
        tags.ref("Quantity", _num(line.quantity), 85, y)
        tags.ref("Price", _num(line.unit_price), 100, y)
        tags.ref("Amount", _money(line.amount, layout), 125, y)
        tags.ref("TaxScheme", _rate(line.tax_rate, line.tax_exempt), 150, y)
        tax = "***" if line.tax_amount is None else _money(line.tax_amount, layout)
        tags.ref("TaxAmount", tax, 170, y)
        tags.raw("</fp:GoodsInfo>")
        y += 4.5
    tags.raw("</fp:GoodsInfos>")
    tags.ref("TaxExclusiveTotalAmount", _money(inv.amount, layout), 125, 85)
    tags.ref("TaxTotalAmount", _money(inv.tax_amount, layout), 170, 85)
    tags.ref("TaxInclusiveTotalAmountInWords", inv.total_in_words, 50, 90)
    tags.ref("TaxInclusiveTotalAmount", _money(inv.total_amount, layout), 160, 90)
    tags.ref("Note", inv.remarks, 130, 105)
    tags.ref("InvoiceClerk", inv.drawer, 30, 125)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<fp:eInvoice xmlns:fp="{FP_NS}" xmlns:ofd="{OFD_NS}">'
        + "".join(tags.parts)
        + "</fp:eInvoice>"
    )
    return pages, xml


def _custom_datas(inv: ExtractedInvoice, layout: int, legacy: bool) -> str:
    if layout == 2:
        return ""
    assert inv.issue_date is not None
    pairs = [("发票号码", inv.number), ("开票日期", f"{inv.issue_date:%Y年%m月%d日}")]
    if legacy:
        pairs.insert(0, ("发票代码", inv.code))
        pairs.append(("校验码", inv.check_code))
    if layout == 0:
        pairs += [
            ("合计金额", _num(inv.amount)),
            ("合计税额", _num(inv.tax_amount)),
            ("购买方纳税人识别号", inv.buyer_tax_id),
            ("销售方纳税人识别号", inv.seller_tax_id),
        ]
    pairs.insert(0, ("native-producer", "SuwellFormSDK"))
    items = "".join(
        f"<ofd:CustomData Name={quoteattr(k)}>{escape(v)}</ofd:CustomData>"
        for k, v in pairs
        if v
    )
    return f"<ofd:CustomDatas>{items}</ofd:CustomDatas>"


def _original_invoice(inv: ExtractedInvoice) -> str:
    def el(tag: str, value: str) -> str:
        return f"<fp:{tag}>{escape(value)}</fp:{tag}>" if value else ""

    assert inv.issue_date is not None
    goods = "".join(
        "<fp:GoodsInfo>"
        + el("Item", ln.name)
        + el("Specification", ln.spec)
        + el("MeasurementDimension", ln.unit)
        + el("Quantity", _num(ln.quantity))
        + el("Price", _num(ln.unit_price))
        + el("Amount", _num(ln.amount))
        + el("TaxScheme", _rate(ln.tax_rate, ln.tax_exempt))
        + el("TaxAmount", "***" if ln.tax_amount is None else _num(ln.tax_amount))
        + el("TaxClassificationCode", ln.tax_classification_code)
        + "</fp:GoodsInfo>"
        for ln in inv.lines
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<fp:eInvoice xmlns:fp="{FP_NS}">'
        + el("InvoiceCode", inv.code)
        + el("InvoiceNo", inv.number)
        + el("TypeCode", "10")
        + el("IssueDate", f"{inv.issue_date:%Y年%m月%d日}")
        + el("InvoiceCheckCode", inv.check_code)
        + el("MachineNo", "661234567890")
        + "<fp:Buyer>"
        + el("BuyerName", inv.buyer_name)
        + el("BuyerTaxID", inv.buyer_tax_id)
        + "</fp:Buyer><fp:Seller>"
        + el("SellerName", inv.seller_name)
        + el("SellerTaxID", inv.seller_tax_id)
        + "</fp:Seller><fp:GoodsInfos>"
        + goods
        + "</fp:GoodsInfos>"
        + el("TaxInclusiveTotalAmount", _num(inv.total_amount))
        + el("TaxExclusiveTotalAmount", _num(inv.amount))
        + el("TaxTotalAmount", _num(inv.tax_amount))
        + el("Note", inv.remarks)
        + el("InvoiceClerk", inv.drawer)
        + el("Payee", "收款员")
        + el("Checker", "复核员")
        + el("GraphCode", inv.qr_payload)
        + "</fp:eInvoice>"
    )


def make_ofd(
    inv: ExtractedInvoice, *, legacy: bool = False, layout: int | None = None
) -> bytes:
    """An OFD package carrying every field of ``inv``."""
    if legacy and inv.kind in DIGITAL_KINDS:
        raise ValueError("a legacy OFD needs a legacy invoice (with a code)")
    rng = random.Random(f"ofd-{inv.code}-{inv.number}")
    if layout is None:
        layout = rng.choice(LAYOUTS)
    pages, tag_xml = _page_layout(inv, layout, legacy)
    page_locs = []
    files: dict[str, bytes | str] = {}
    for index in range(len(pages.pages)):
        loc = f"Pages/Page_{index}/Content.xml"
        files[f"Doc_0/{loc}"] = pages.content(index)
        page_locs.append("/Doc_0/" + loc if layout == 2 else loc)
    files["OFD.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ofd:OFD xmlns:ofd="{OFD_NS}" DocType="OFD" Version="1.1"><ofd:DocBody>'
        f"<ofd:DocInfo><ofd:DocID>{rng.getrandbits(128):032x}</ofd:DocID>"
        "<ofd:Creator>generated</ofd:Creator>"
        + _custom_datas(inv, layout, legacy)
        + "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
        "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures>"
        "</ofd:DocBody></ofd:OFD>"
    )
    pages_xml = "".join(
        f'<ofd:Page ID="{i + 1}" BaseLoc="{loc}"/>' for i, loc in enumerate(page_locs)
    )
    attach = (
        "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>" if legacy else ""
    )
    files["Doc_0/Document.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData><ofd:MaxUnitID>999'
        "</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 140</ofd:PhysicalBox>"
        f"</ofd:PageArea></ofd:CommonData><ofd:Pages>{pages_xml}</ofd:Pages>"
        f"<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>{attach}</ofd:Document>"
    )
    files["Doc_0/Tags/CustomTags.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:CustomTags xmlns:ofd="{OFD_NS}">'
        f'<ofd:CustomTag NameSpace="{FP_NS}"><ofd:FileLoc>CustomTag.xml</ofd:FileLoc>'
        "</ofd:CustomTag></ofd:CustomTags>"
    )
    files["Doc_0/Tags/CustomTag.xml"] = tag_xml
    files["Doc_0/Signs/Signatures.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures xmlns:ofd="{OFD_NS}">'
        '<ofd:Signature ID="1" BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>'
    )
    files["Doc_0/Signs/Sign_0/SignedValue.dat"] = rng.randbytes(256)
    if legacy:
        files["Doc_0/Attachs/Attachments.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<ofd:Attachments xmlns:ofd="{OFD_NS}">'
            '<ofd:Attachment ID="1" Name="original_invoice" Format="xml">'
            "<ofd:FileLoc>original_invoice.xml</ofd:FileLoc></ofd:Attachment>"
            "</ofd:Attachments>"
        )
        files["Doc_0/Attachs/original_invoice.xml"] = _original_invoice(inv)
    method = zipfile.ZIP_STORED if layout == 1 else zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as zf:
        for name, content in files.items():
            zf.writestr(
                name, content if isinstance(content, bytes) else content.encode()
            )
    return buffer.getvalue()
