"""数电 XML (EInvoice) to ``ExtractedInvoice`` (domain/einvoice.md sections 8 and 9).

Element names are matched defensively (see ``xmltools``); sections are used when present
and the whole document otherwise, never descending into line items for header fields.
A legacy e-invoice XML (``original_invoice.xml`` on its own) is read too.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

from .errors import refuse
from .kinds import digital_kind
from .legacy_xml import LEGACY_NS, is_legacy_invoice, read_legacy_root
from .safety import safe_parse_xml
from .types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .values import (
    parse_amount,
    parse_date,
    parse_decimal,
    parse_rate,
    red_reference,
)
from .xmltools import either, find, find_all, find_text, names, norm, text_of

__all__ = ["LEGACY_NS", "parse_einvoice_root", "read_xml"]

ITEMS = names("IssuItemInformation", "IssueItemInformation", "ItemInformation")
SPECIFIC = names("SpecificInformation")
SKIP = ITEMS | SPECIFIC
_NUMBER = re.compile(r"^\d{20}$|^\d{8}$")


class _Doc:
    """The sections of one EInvoice, each falling back to the root."""

    def __init__(self, root: ET.Element) -> None:
        self.root = root
        self.header = either(find(root, names("Header"), SKIP), root)
        data = either(find(root, names("EInvoiceData"), SKIP), root)
        self.seller = either(find(data, names("SellerInformation"), SKIP), data)
        self.buyer = either(find(data, names("BuyerInformation"), SKIP), data)
        self.basic = either(find(data, names("BasicInformation"), SKIP), data)
        self.supervision = find(root, names("TaxSupervisionInfo"), SKIP)
        self.specific = find(root, SPECIFIC)
        self.items = find_all(root, ITEMS)


def read_xml(data: bytes) -> ExtractedInvoice:
    """Read a 数电 (or legacy e-invoice) XML; refuse anything that is not an invoice."""
    root = safe_parse_xml(data)
    if is_legacy_invoice(root):
        return read_legacy_root(root, source=FieldSource.XML)
    return parse_einvoice_root(root)


def _is_einvoice(root: ET.Element) -> bool:
    if norm(root.tag) in names("EInvoice", "EInvoiceData"):
        return True
    return find(root, names("EIid", "EInvoiceData")) is not None


def parse_einvoice_root(root: ET.Element) -> ExtractedInvoice:
    if not _is_einvoice(root):
        raise refuse("not_an_invoice")
    doc = _Doc(root)
    inv = ExtractedInvoice()
    found: set[str] = set()

    def put(field: str, value: object) -> None:
        if value not in (None, ""):
            setattr(inv, field, value)
            found.add(field)

    put("number", _number(doc))
    put("issue_date", _issue_date(doc))
    put("seller_name", find_text(doc.seller, names("SellerName"), SKIP))
    put(
        "seller_tax_id",
        find_text(doc.seller, names("SellerIdNum", "SellerTaxID", "SellerTaxNo"), SKIP),
    )
    put("buyer_name", find_text(doc.buyer, names("BuyerName"), SKIP))
    put(
        "buyer_tax_id",
        find_text(doc.buyer, names("BuyerIdNum", "BuyerTaxID", "BuyerTaxNo"), SKIP),
    )
    put(
        "amount",
        parse_amount(_basic(doc, "TotalAmWithoutTax", "TotalAmountWithoutTax")),
    )
    put("tax_amount", parse_amount(_basic(doc, "TotalTaxAm", "TotalTaxAmount")))
    put(
        "total_amount",
        parse_amount(_basic(doc, "TotalTax-includedAmount", "TotalTaxIncludedAmount")),
    )
    put(
        "total_in_words",
        _basic(
            doc, "TotalTax-includedAmountInChinese", "TotalTaxIncludedAmountInChinese"
        ),
    )
    put("drawer", _basic(doc, "Drawer", "Issuer", "InvoiceClerk"))
    put("remarks", find_text(doc.root, names("Remark", "Remarks", "Note"), ITEMS))
    put("kind", _kind(doc))
    is_red, red_known = _red(doc, inv)
    if red_known:
        put("is_red", is_red)
    if inv.is_red:
        put("red_of_number", _red_of_number(doc) or red_reference(inv.remarks))
    inv.lines = [_line(item) for item in doc.items]
    inv.lines = [ln for ln in inv.lines if ln.name or ln.amount is not None]
    if inv.lines:
        found.add("lines")
    if not inv.number and inv.total_amount is None and not inv.lines:
        raise refuse("not_an_invoice")
    reading = FieldReading(FieldSource.XML, 1.0)
    inv.readings = {field: reading for field in sorted(found)}
    return inv


def _basic(doc: _Doc, *variants: str) -> str:
    wanted = names(*variants)
    return find_text(doc.basic, wanted, SKIP) or find_text(doc.root, wanted, SKIP)


def _number(doc: _Doc) -> str:
    number = find_text(doc.header, names("EIid"), SKIP)
    if not number and doc.supervision is not None:
        number = find_text(doc.supervision, names("InvoiceNumber", "InvoiceNo"))
    if not number:
        number = find_text(doc.root, names("EIid", "InvoiceNumber", "InvoiceNo"), SKIP)
    return number.replace(" ", "")


def _issue_date(doc: _Doc) -> dt.date | None:
    wanted = names("IssueTime", "IssueDate")
    for scope in (doc.supervision, doc.basic, doc.root):
        value = parse_date(find_text(scope, wanted, SKIP))
        if value:
            return value
    return parse_date(_basic(doc, "RequestTime"))


def _label(doc: _Doc, label: str) -> tuple[str, str]:
    """``(LabelCode, LabelName)`` of one InherentLabel entry ('' when absent)."""
    el = find(doc.header, names(label), SKIP)
    if el is None:
        el = find(doc.root, names(label), SKIP)
    if el is None:
        return "", ""
    code = find_text(el, names("LabelCode"))
    name = find_text(el, names("LabelName"))
    if not code and not name:
        code = text_of(el)
    return code.upper(), name


def _kind(doc: _Doc) -> InvoiceKind | None:
    code, name = _label(doc, "GeneralOrSpecialVAT")
    kind = digital_kind(code)
    if kind is InvoiceKind.OTHER:
        kind = digital_kind(name)
    return None if kind is InvoiceKind.OTHER else kind


def _red(doc: _Doc, inv: ExtractedInvoice) -> tuple[bool, bool]:
    """``(is_red, known)``. InIssuType is the 'blue invoice' flag: real files carry
    LabelCode Y with LabelName 蓝字发票 and N for 红字发票. The name wins over the
    code; negative totals or a RedEInvoice reference decide when both are missing."""
    code, name = _label(doc, "InIssuType")
    if "红" in name:
        return True, True
    if "蓝" in name:
        return False, True
    if code in ("Y", "N"):
        return code == "N", True
    if inv.total_amount is not None and inv.total_amount < 0:
        return True, True
    return bool(_red_of_number(doc)), False


def _red_of_number(doc: _Doc) -> str:
    scope = either(doc.specific, doc.root)
    red = find(scope, names("RedEInvoice", "RedInvoice"), ITEMS)
    if red is None:
        return ""
    preferred = names(
        "OriginalInvoiceCode",
        "OriginalInvoiceNumber",
        "OriginalInvoiceNo",
        "BlueInvoiceNumber",
        "BlueInvoiceNo",
        "OriginalEIid",
    )
    value = find_text(red, preferred).replace(" ", "")
    if _NUMBER.match(value):
        return value
    for el in red.iter():
        value = (el.text or "").strip()
        if _NUMBER.match(value):
            return value
    return ""


def _line(item: ET.Element) -> ExtractedLine:
    def get(*variants: str) -> str:
        return find_text(item, names(*variants))

    rate, exempt = parse_rate(get("TaxRate", "TaxRateValue"))
    return ExtractedLine(
        name=get("ItemName", "GoodsName"),
        spec=get("SpecMod", "Specification", "Spec"),
        unit=get("MeaUnits", "Unit", "MeasurementUnit"),
        quantity=parse_decimal(get("Quantity", "Qty")),
        unit_price=parse_decimal(get("UnPrice", "UnitPrice", "Price")),
        amount=parse_amount(get("Amount")),
        tax_rate=rate,
        tax_amount=parse_amount(get("ComTaxAm", "TaxAmount", "TaxAm")),
        tax_exempt=exempt,
        tax_classification_code=get("TaxClassificationCode", "GoodsCode"),
    )
