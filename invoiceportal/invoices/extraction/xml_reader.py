"""数电 XML (EInvoice) to ``ExtractedInvoice`` (domain/einvoice.md sections 8 and 9).

Element names are matched defensively (see ``xmltools``); sections are used when present
and the whole document otherwise, never descending into line items for header fields.
A legacy e-invoice XML (``original_invoice.xml`` on its own) and a rail or air ticket's
XBRL instance (``xbrl``) are read too.

Kind: the GeneralOrSpecialVAT label; a 数电 invoice without one (real toll invoices
carry no InherentLabel at all) is an ordinary 数电 invoice.

Special business data goes to ``extras``. Toll invoices (``SpecificInformation/Toll``;
element spellings vary, matched loosely: plate, vehicle type, passage start and end)::

    {"toll": {"plate": "浙A12345", "vehicle_type": "一型客车",
              "passages": [{"plate": "浙A12345", "vehicle_type": "一型客车",
                            "from": "2024-05-01", "to": "2024-05-03"}]}}

``plate`` and ``vehicle_type`` at the top are the first passage's; a key is present
only when the document gives a value; dates are ``YYYY-MM-DD``.
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
    DIGITAL_KINDS,
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
from .xbrl import read_ticket_xbrl
from .xmltools import either, find, find_all, find_text, names, norm, text_of, walk

__all__ = ["LEGACY_NS", "parse_einvoice_root", "read_xml"]

ITEMS = names("IssuItemInformation", "IssueItemInformation", "ItemInformation")
SPECIFIC = names("SpecificInformation")
SKIP = ITEMS | SPECIFIC
_NUMBER = re.compile(r"^\d{20}$|^\d{8}$")
_DIGITAL = re.compile(r"^\d{20}$")
_PLATE_NAMES = names("CarNo", "CarNumber", "VehicleNo", "VehicleNumber", "LicenseNo")
_MAX_PASSAGES = 200


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
    if norm(root.tag) == "xbrl":
        ticket = read_ticket_xbrl(data)
        if ticket is None:
            raise refuse("not_an_invoice")
        return ticket
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
    put("kind", _kind(doc, inv.number))
    extras = _extras(doc)
    if extras:
        put("extras", extras)
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


def _kind(doc: _Doc, number: str) -> InvoiceKind | None:
    code, name = _label(doc, "GeneralOrSpecialVAT")
    kind = digital_kind(code)
    if kind is InvoiceKind.OTHER:
        kind = digital_kind(name)
    if kind is InvoiceKind.OTHER and not code and not name and _DIGITAL.match(number):
        # no label at all (toll and other special-business 数电 invoices): ordinary
        kind = InvoiceKind.DIGITAL_ORDINARY
    return kind if kind in DIGITAL_KINDS else None


# --- special business data ---------------------------------------------------------


def _toll_key(tag: object) -> str:
    """Which toll datum an element holds ('' for none), from its loose name."""
    n = norm(tag)
    raw = tag if isinstance(tag, str) else ""
    if "plate" in n or n in _PLATE_NAMES or "车牌" in raw:
        return "plate"
    if "vehicletype" in n or "typeofvehicle" in n or "cartype" in n or "车型" in raw:
        return "vehicle_type"
    dated = "date" in n or "time" in n or "日期" in raw
    if dated and ("start" in n or "begin" in n or "起" in raw):
        return "from"
    if dated and ("end" in n or "finish" in n or "止" in raw):
        return "to"
    return ""


def _toll(specific: ET.Element) -> dict[str, object]:
    scopes = [
        el for el in walk(specific) if "toll" in norm(el.tag) or "通行" in str(el.tag)
    ]
    passages: list[dict[str, str]] = []
    for scope in scopes:
        for record in walk(scope):
            passage: dict[str, str] = {}
            for child in record:
                key = _toll_key(child.tag)
                value = text_of(child) if len(child) == 0 else ""
                if key in ("from", "to"):
                    day = parse_date(value)
                    value = day.isoformat() if day else ""
                if key and value and key not in passage:
                    passage[key] = value
            if passage:
                passages.append(passage)
        if passages:
            break
    if not passages:
        return {}
    toll: dict[str, object] = {
        key: passages[0][key] for key in ("plate", "vehicle_type") if key in passages[0]
    }
    toll["passages"] = passages[:_MAX_PASSAGES]
    return toll


def _extras(doc: _Doc) -> dict[str, object]:
    if doc.specific is None:
        return {}
    toll = _toll(doc.specific)
    return {"toll": toll} if toll else {}


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
