"""OFD (GB/T 33190) invoices to ``ExtractedInvoice`` (domain/einvoice.md section 9).

Sources, most reliable first: the legacy ``Doc_0/Attachs/original_invoice.xml``; the
key/value pairs of ``OFD.xml`` DocInfo/CustomDatas; the custom tags (``Doc_0/Tags``)
whose ``ObjectRef``s point at ``TextObject``s of the page content. A tag value that
contradicts a more reliable source keeps the reliable value at lower confidence.

Trust: ``OFD.xml`` and ``original_invoice.xml`` are trusted; a package whose trusted
parts do not parse is malformed. Every other part (tags, pages, templates, attachments)
is of lower trust: one that is not well formed is repaired (``xmltools.repair_xml``,
namespace damage real producers leave) and its fields read at lower confidence, or
skipped. Hostile content (DTDs, entities, bombs) is refused in any part.

The kind comes from the legacy code, else from the printed title (page text or its
template ``Doc_0/Tpls``, NFKC-normalised); a 通用机打发票 title wins over the code.
Rail tickets and air itineraries are read from their XBRL attachment (``xbrl``) and
the page text by label and position (``ticket_text``); their ``extras`` follow
``xbrl``'s docstring.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ExtractionError, refuse
from .kinds import kind_from_code, kind_from_title
from .legacy_xml import read_legacy_root
from .safety import DEFAULT_LIMITS, Limits, open_zip_safely, read_member, safe_parse_xml
from .ticket_text import Item, read_ticket_page, rows_of
from .types import (
    DIGITAL_KINDS,
    TICKET_KINDS,
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .values import parse_amount, parse_date, parse_decimal, parse_rate, red_reference
from .xbrl import read_ticket_xbrl
from .xmltools import find, find_all, names, norm, repair_xml, text_of

TRUSTED = FieldReading(FieldSource.OFD, 1.0)
PRINTED = FieldReading(FieldSource.OFD, 0.95)  # a tag resolved to page text
REPAIRED = FieldReading(FieldSource.OFD, 0.9)  # read from a part we had to repair
CONFLICT = FieldReading(FieldSource.OFD, 0.5)
MAX_ATTACHMENTS = 16  # attachment members tried as a ticket's XBRL

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
class OfdPackage:
    """The parts of one OFD package, read through the safety guards (also used by
    the review workbench to draw the pages)."""

    zf: zipfile.ZipFile
    limits: Limits
    by_path: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for info in self.zf.infolist():
            if not info.is_dir():
                self.by_path[posixpath.normpath(info.filename.lstrip("/")).lower()] = (
                    info
                )

    repaired: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, data: bytes, limits: Limits | None = None) -> OfdPackage:
        limits = limits or DEFAULT_LIMITS
        return cls(open_zip_safely(data, limits), limits)

    @staticmethod
    def resolve(base: str, loc: str) -> str:
        """A part's path from a ``BaseLoc``: absolute, or relative to ``base``."""
        loc = (loc or "").strip()
        path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(base, loc)
        return posixpath.normpath(path)

    def raw(self, path: str) -> bytes | None:
        info = self.by_path.get(posixpath.normpath(path.lstrip("/")).lower())
        if info is None:
            return None
        return read_member(self.zf, info, self.limits)

    def xml(self, path: str, *, trusted: bool = False) -> ET.Element | None:
        """A part's root. A trusted part that is not well formed refuses the package;
        a lower-trust one is repaired (noted in ``repaired``) or skipped (``skipped``).
        Unsafe content is refused either way."""
        data = self.raw(path)
        if data is None:
            return None
        key = posixpath.normpath(path.lstrip("/")).lower()
        try:
            return safe_parse_xml(data, self.limits)
        except ExtractionError as exc:
            if trusted or exc.code != "malformed_xml":
                raise
        fixed = repair_xml(data)
        if fixed is not None:
            try:
                root = safe_parse_xml(fixed, self.limits)
            except ExtractionError as exc:
                if exc.code != "malformed_xml":
                    raise
            else:
                self.repaired.add(key)
                return root
        self.skipped.add(key)
        return None

    def paths(self, predicate: Callable[[str], bool]) -> list[str]:
        return sorted(p for p in self.by_path if predicate(p))


def read_ofd(data: bytes, *, limits: Limits | None = None) -> ExtractedInvoice:
    """Read an OFD invoice, fully digital or legacy."""
    pkg = OfdPackage.open(data, limits)
    entry = pkg.xml("OFD.xml", trusted=True)
    if entry is None:
        raise refuse("not_an_invoice")
    doc_root = document_root(entry)
    inv = _legacy(pkg) or ExtractedInvoice()
    merger = _Merger(inv)
    merger.merge(_custom_data(entry), TRUSTED)
    page = _read_pages(pkg, doc_root)
    title = _printed_title(page)
    xbrl = _ticket_xbrl(pkg)
    kind = kind_from_title(title)
    if kind not in TICKET_KINDS and xbrl is not None:
        kind = xbrl.kind  # a ticket whose title could not be read
    if kind in TICKET_KINDS:
        _ticket(pkg, inv, page, kind, xbrl if xbrl and xbrl.kind is kind else None)
    tags, lines, tag_title = _tags(pkg, doc_root, page.texts)
    tag_reading = PRINTED if not pkg.repaired else REPAIRED
    merger.merge(tags, tag_reading)
    if not inv.lines and lines:
        inv.lines = lines
        inv.readings["lines"] = tag_reading
    _finish(inv, title or tag_title)
    if not inv.number and inv.total_amount is None and inv.amount is None:
        raise refuse("not_an_invoice")
    return inv


def _ticket(
    pkg: OfdPackage,
    inv: ExtractedInvoice,
    page: _PageText,
    kind: InvoiceKind,
    xbrl: ExtractedInvoice | None,
) -> None:
    """A rail ticket or air itinerary: its XBRL attachment first, then the page."""
    printed = read_ticket_page(
        page.first_page, kind, PRINTED if not pkg.repaired else REPAIRED
    )
    for source in (xbrl, printed):
        if source is None:
            continue
        for name, reading in source.readings.items():
            if name == "extras":
                continue
            value = getattr(source, name)
            if name not in inv.readings:
                setattr(inv, name, value)
                inv.readings[name] = reading
            elif getattr(inv, name) != value:
                inv.readings[name] = CONFLICT
        for group, data in source.extras.items():
            mine = inv.extras.setdefault(group, {})
            for key, value in data.items():
                mine.setdefault(key, value)
        if source.extras and "extras" not in inv.readings:
            inv.readings["extras"] = source.readings.get("extras", PRINTED)


def _ticket_xbrl(pkg: OfdPackage) -> ExtractedInvoice | None:
    """The first attachment that is a rail or air XBRL instance."""
    paths = pkg.paths(
        lambda p: (
            "/attachs/" in f"/{p}"
            and p.endswith(".xml")
            and not p.endswith(("attachments.xml", "original_invoice.xml"))
        )
    )
    for path in paths[:MAX_ATTACHMENTS]:
        data = pkg.raw(path)
        found = read_ticket_xbrl(data or b"", source=FieldSource.OFD)
        if found is not None:
            return found
    return None


def document_root(entry: ET.Element) -> str:
    """The path of the package's first document (``OFD.xml`` ``DocRoot``)."""
    el = find(entry, names("DocRoot"))
    path = text_of(el) or "Doc_0/Document.xml"
    return posixpath.normpath(path.lstrip("/"))


def _legacy(pkg: OfdPackage) -> ExtractedInvoice | None:
    for path in pkg.paths(lambda p: p.endswith("original_invoice.xml")):
        root = pkg.xml(path, trusted=True)
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


@dataclass
class _PageText:
    """Text objects of the pages: by id (for tags) and with positions (first page and
    the templates, for titles and tickets)."""

    texts: dict[tuple[str, str], str] = field(default_factory=dict)
    first_page: list[Item] = field(default_factory=list)
    templates: list[Item] = field(default_factory=list)


def _read_pages(pkg: OfdPackage, doc_root: str) -> _PageText:
    document = pkg.xml(doc_root)
    base = posixpath.dirname(doc_root)
    out = _PageText()
    pages = find_all(document, names("Page")) if document is not None else []
    if len(pages) > pkg.limits.max_pdf_pages:
        raise refuse(
            "too_many_pages",
            unsafe=True,
            pages=len(pages),
            limit=pkg.limits.max_pdf_pages,
        )
    for index, page in enumerate(pages):
        content = _content(pkg, base, page.get("BaseLoc") or "")
        if content is None:
            continue
        page_id = page.get("ID", "")
        for obj in find_all(content, names("TextObject")):
            text = "".join(text_of(code) for code in find_all(obj, names("TextCode")))
            obj_id = obj.get("ID", "")
            out.texts[(page_id, obj_id)] = text
            out.texts.setdefault(("", obj_id), text)
            if index == 0:
                out.first_page.append(_item(obj, text))
    out.templates = _template_items(pkg, base, document)
    out.first_page.extend(out.templates)
    return out


def _content(pkg: OfdPackage, base: str, loc: str) -> ET.Element | None:
    if not loc:
        return None
    return pkg.xml(pkg.resolve(base, loc))


def _template_items(
    pkg: OfdPackage, base: str, document: ET.Element | None
) -> list[Item]:
    """Text of the template pages (``Doc_0/Tpls``): declared ones, else any found."""
    locs = [
        el.get("BaseLoc") or ""
        for el in (
            find_all(document, names("TemplatePage")) if document is not None else []
        )
    ]
    paths = {pkg.resolve(base, loc).lower() for loc in locs if loc}
    prefix = posixpath.join(base, "tpls/").lower() if base else "tpls/"
    paths.update(pkg.paths(lambda p: p.startswith(prefix) and p.endswith(".xml")))
    items: list[Item] = []
    for path in sorted(paths)[: pkg.limits.max_pdf_pages]:
        content = pkg.xml(path)
        if content is None:
            continue
        for obj in find_all(content, names("TextObject")):
            text = "".join(text_of(code) for code in find_all(obj, names("TextCode")))
            items.append(_item(obj, text))
    return items


def _item(obj: ET.Element, text: str) -> Item:
    """A text object's position: its boundary's origin plus the first TextCode's."""
    try:
        x, y = (float(v) for v in (obj.get("Boundary") or "0 0").split()[:2])
    except ValueError:
        x = y = 0.0
    code = find(obj, names("TextCode"))
    if code is not None:
        try:
            x += float(code.get("X") or 0)
            y += float(code.get("Y") or 0)
        except ValueError:
            pass
    return Item(x, y, text)


def _printed_title(page: _PageText) -> str:
    """The first row of the first page or template that names a kind (a title may be
    drawn one character per text object, so rows are joined first)."""
    for row in rows_of(page.first_page):
        text = "".join(item.text for item in row)
        if kind_from_title(text) is not InvoiceKind.OTHER:
            return text
    return ""


def _tag_files(pkg: OfdPackage, doc_root: str) -> list[ET.Element]:
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
    pkg: OfdPackage, doc_root: str, texts: dict[tuple[str, str], str]
) -> tuple[dict[str, object], list[ExtractedLine], str]:
    roots = _tag_files(pkg, doc_root)
    if not roots:
        return {}, [], ""
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
    titled = kind_from_title(title)
    if titled is InvoiceKind.GENERAL_MACHINE:
        # not a VAT invoice, whatever its code says (a 12-digit code may end in 11)
        if inv.kind is not titled:
            inv.kind = titled
            inv.readings["kind"] = PRINTED
    elif inv.kind is InvoiceKind.OTHER:
        kind = kind_from_code(inv.code)
        if kind is InvoiceKind.OTHER and len(inv.number) == 20 and not inv.code:
            kind = titled if titled in DIGITAL_KINDS else InvoiceKind.OTHER
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
