"""OFD (GB/T 33190) invoices to ``ExtractedInvoice`` (domain/einvoice.md section 9).

Sources, most reliable first: the legacy ``Doc_0/Attachs/original_invoice.xml``; the
key/value pairs of ``OFD.xml`` DocInfo/CustomDatas; the custom tags (``Doc_0/Tags``)
whose ``ObjectRef``s point at ``TextObject``s of the page content. A tag value that
contradicts a more reliable source keeps the reliable value at lower confidence.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import refuse
from .kinds import digital_kind, kind_from_code
from .legacy_xml import read_legacy_root
from .safety import DEFAULT_LIMITS, Limits, open_zip_safely, read_member, safe_parse_xml
from .types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .values import parse_amount, parse_date, parse_decimal, parse_rate, red_reference
from .xmltools import find, find_all, names, norm, text_of

TRUSTED = FieldReading(FieldSource.OFD, 1.0)
PRINTED = FieldReading(FieldSource.OFD, 0.95)  # a tag resolved to page text
CONFLICT = FieldReading(FieldSource.OFD, 0.5)

Parser = Callable[[str], object]
_text: Parser = str.strip
_nospace: Parser = lambda s: s.replace(" ", "")  # noqa: E731

# CustomData name -> (field, parser)
CUSTOM_DATA: dict[str, tuple[str, Parser]] = {
    "发票代码": ("code", _nospace),
    "发票号码": ("number", _nospace),
    "开票日期": ("issue_date", parse_date),
    "校验码": ("check_code", _nospace),
    "合计金额": ("amount", parse_amount),
    "合计税额": ("tax_amount", parse_amount),
    "价税合计": ("total_amount", parse_amount),
    "购买方名称": ("buyer_name", _text),
    "购买方纳税人识别号": ("buyer_tax_id", _nospace),
    "销售方名称": ("seller_name", _text),
    "销售方纳税人识别号": ("seller_tax_id", _nospace),
}
# tag element (normalized) -> (field, parser)
TAGS: dict[str, tuple[str, Parser]] = {
    norm(k): v
    for k, v in {
        "InvoiceCode": ("code", _nospace),
        "InvoiceNo": ("number", _nospace),
        "InvoiceNumber": ("number", _nospace),
        "IssueDate": ("issue_date", parse_date),
        "InvoiceCheckCode": ("check_code", _nospace),
        "BuyerName": ("buyer_name", _text),
        "BuyerTaxID": ("buyer_tax_id", _nospace),
        "SellerName": ("seller_name", _text),
        "SellerTaxID": ("seller_tax_id", _nospace),
        "TaxExclusiveTotalAmount": ("amount", parse_amount),
        "TaxTotalAmount": ("tax_amount", parse_amount),
        "TaxInclusiveTotalAmount": ("total_amount", parse_amount),
        "TaxInclusiveTotalAmountInWords": ("total_in_words", _text),
        "TaxInclusiveTotalAmountInChinese": ("total_in_words", _text),
        "Note": ("remarks", _text),
        "Remark": ("remarks", _text),
        "InvoiceClerk": ("drawer", _text),
        "Drawer": ("drawer", _text),
    }.items()
}
TITLE_TAGS = names("Title", "InvoiceTitle", "TypeName")
LINE_TAGS = names("GoodsInfo")
LINE_FIELDS = {
    norm(k): v
    for k, v in {
        "Item": "name",
        "ItemName": "name",
        "Specification": "spec",
        "MeasurementDimension": "unit",
        "Unit": "unit",
        "Quantity": "quantity",
        "Price": "unit_price",
        "Amount": "amount",
        "TaxScheme": "tax_rate",
        "TaxRate": "tax_rate",
        "TaxAmount": "tax_amount",
    }.items()
}


@dataclass
class _Package:
    zf: zipfile.ZipFile
    limits: Limits
    by_path: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for info in self.zf.infolist():
            if not info.is_dir():
                self.by_path[posixpath.normpath(info.filename.lstrip("/")).lower()] = (
                    info
                )

    def xml(self, path: str) -> ET.Element | None:
        info = self.by_path.get(posixpath.normpath(path.lstrip("/")).lower())
        if info is None:
            return None
        return safe_parse_xml(read_member(self.zf, info, self.limits))

    def paths(self, predicate: Callable[[str], bool]) -> list[str]:
        return sorted(p for p in self.by_path if predicate(p))


def read_ofd(data: bytes, *, limits: Limits | None = None) -> ExtractedInvoice:
    """Read an OFD invoice, fully digital or legacy."""
    pkg = _Package(
        open_zip_safely(data, limits or DEFAULT_LIMITS), limits or DEFAULT_LIMITS
    )
    entry = pkg.xml("OFD.xml")
    if entry is None:
        raise refuse("not_an_invoice")
    doc_root = _doc_root(entry)
    inv = _legacy(pkg) or ExtractedInvoice()
    merger = _Merger(inv)
    merger.merge(_custom_data(entry), TRUSTED)
    tags, lines, title = _tags(pkg, doc_root)
    merger.merge(tags, PRINTED)
    if not inv.lines and lines:
        inv.lines = lines
        inv.readings["lines"] = PRINTED
    _finish(inv, title)
    if not inv.number and inv.total_amount is None and inv.amount is None:
        raise refuse("not_an_invoice")
    return inv


def _doc_root(entry: ET.Element) -> str:
    el = find(entry, names("DocRoot"))
    path = text_of(el) or "Doc_0/Document.xml"
    return posixpath.normpath(path.lstrip("/"))


def _legacy(pkg: _Package) -> ExtractedInvoice | None:
    for path in pkg.paths(lambda p: p.endswith("original_invoice.xml")):
        root = pkg.xml(path)
        if root is not None:
            return read_legacy_root(root, source=FieldSource.OFD)
    return None


def _custom_data(entry: ET.Element) -> dict[str, object]:
    values: dict[str, object] = {}
    for el in find_all(entry, names("CustomData")):
        key = (el.get("Name") or el.get("name") or "").strip()
        if key in CUSTOM_DATA:
            field_name, parse = CUSTOM_DATA[key]
            value = parse(text_of(el))
            if value not in (None, ""):
                values[field_name] = value
    return values


class _Merger:
    """Fill fields from one source; disagreement with a filled field lowers its
    confidence instead of overwriting it."""

    def __init__(self, inv: ExtractedInvoice) -> None:
        self.inv = inv

    def merge(self, values: dict[str, object], reading: FieldReading) -> None:
        for name, value in values.items():
            current = getattr(self.inv, name)
            if name not in self.inv.readings:
                setattr(self.inv, name, value)
                self.inv.readings[name] = reading
            elif current != value:
                self.inv.readings[name] = CONFLICT


# --- custom tags and page text ---------------------------------------------------


def _page_texts(pkg: _Package, doc_root: str) -> dict[tuple[str, str], str]:
    """``(page id, object id) -> text`` for every TextObject; page id '' too."""
    document = pkg.xml(doc_root)
    base = posixpath.dirname(doc_root)
    texts: dict[tuple[str, str], str] = {}
    pages = find_all(document, names("Page")) if document is not None else []
    if len(pages) > pkg.limits.max_pdf_pages:
        raise refuse(
            "too_many_pages",
            unsafe=True,
            pages=len(pages),
            limit=pkg.limits.max_pdf_pages,
        )
    for page in pages:
        loc = page.get("BaseLoc") or ""
        path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
        content = pkg.xml(path) if loc else None
        if content is None:
            continue
        page_id = page.get("ID", "")
        for obj in find_all(content, names("TextObject")):
            text = "".join(text_of(code) for code in find_all(obj, names("TextCode")))
            obj_id = obj.get("ID", "")
            texts[(page_id, obj_id)] = text
            texts.setdefault(("", obj_id), text)
    return texts


def _tag_files(pkg: _Package, doc_root: str) -> list[ET.Element]:
    base = posixpath.dirname(doc_root)
    prefix = posixpath.join(base, "tags/").lower() if base else "tags/"
    roots = []
    for path in pkg.paths(lambda p: p.startswith(prefix) and p.endswith(".xml")):
        root = pkg.xml(path)
        if root is not None and find(root, names("ObjectRef")) is not None:
            roots.append(root)
    return roots


def _resolve(el: ET.Element, texts: dict[tuple[str, str], str]) -> str:
    parts = []
    for ref in el:
        if norm(ref.tag) != "objectref":
            continue
        obj_id = text_of(ref)
        page = ref.get("PageRef", "")
        text = texts.get((page, obj_id), texts.get(("", obj_id)))
        if text:
            parts.append(text)
    return "".join(parts).strip()


def _tags(
    pkg: _Package, doc_root: str
) -> tuple[dict[str, object], list[ExtractedLine], str]:
    roots = _tag_files(pkg, doc_root)
    if not roots:
        return {}, [], ""
    texts = _page_texts(pkg, doc_root)
    values: dict[str, object] = {}
    lines: list[ExtractedLine] = []
    title = ""
    for root in roots:
        for el in root.iter():
            key = norm(el.tag)
            if key in LINE_TAGS:
                line = _tag_line(el, texts)
                if line.name or line.amount is not None:
                    lines.append(line)
            elif key in TITLE_TAGS:
                title = title or _resolve(el, texts)
            elif key in TAGS:
                field_name, parse = TAGS[key]
                value = parse(_resolve(el, texts))
                if value not in (None, "") and field_name not in values:
                    values[field_name] = value
    return values, lines, title


def _tag_line(el: ET.Element, texts: dict[tuple[str, str], str]) -> ExtractedLine:
    raw: dict[str, str] = {}
    for child in el:
        name = LINE_FIELDS.get(norm(child.tag))
        if name:
            raw[name] = _resolve(child, texts)
    rate, exempt = parse_rate(raw.get("tax_rate"))
    return ExtractedLine(
        name=raw.get("name", ""),
        spec=raw.get("spec", ""),
        unit=raw.get("unit", ""),
        quantity=parse_decimal(raw.get("quantity")),
        unit_price=parse_decimal(raw.get("unit_price")),
        amount=parse_amount(raw.get("amount")),
        tax_rate=rate,
        tax_amount=parse_amount(raw.get("tax_amount")),
        tax_exempt=exempt,
    )


def _finish(inv: ExtractedInvoice, title: str) -> None:
    """Kind, red-letter status and totals the sources only imply."""
    if inv.kind is InvoiceKind.OTHER:
        kind = kind_from_code(inv.code)
        if kind is InvoiceKind.OTHER and len(inv.number) == 20 and not inv.code:
            kind = digital_kind(title)
        if kind is not InvoiceKind.OTHER:
            inv.kind = kind
            inv.readings["kind"] = TRUSTED if inv.code else PRINTED
    if (
        inv.total_amount is None
        and inv.amount is not None
        and inv.tax_amount is not None
    ):
        inv.total_amount = inv.amount + inv.tax_amount
        inv.readings["total_amount"] = FieldReading(FieldSource.OFD, 0.9)
    if "is_red" not in inv.readings and inv.total_amount is not None:
        inv.is_red = inv.total_amount < 0
        inv.readings["is_red"] = TRUSTED
    if inv.is_red and not inv.red_of_number:
        ref = red_reference(inv.remarks)
        if ref:
            inv.red_of_number = ref
            inv.readings["red_of_number"] = PRINTED
