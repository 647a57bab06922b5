"""Legacy e-invoice XML (``original_invoice.xml`` of an OFD, namespace
``http://www.edrm.org.cn/schema/e-invoice/2019``) to ``ExtractedInvoice``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .kinds import kind_from_code
from .qr import parse_qr_payload
from .types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .values import parse_amount, parse_date, parse_decimal, parse_rate, red_reference
from .xmltools import find, find_all, find_text, names, norm

LEGACY_NS = "http://www.edrm.org.cn/schema/e-invoice/2019"
GOODS = names("GoodsInfo")
SKIP = names("GoodsInfos", "GoodsInfo", "Signature", "Signatures")


def is_legacy_invoice(root: ET.Element) -> bool:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag.startswith("{" + LEGACY_NS + "}"):
        return True
    return norm(tag) == "einvoice" and find(root, names("InvoiceCode")) is not None


def read_legacy_root(
    root: ET.Element, *, source: FieldSource = FieldSource.OFD
) -> ExtractedInvoice:
    inv = ExtractedInvoice()
    found: set[str] = set()

    def get(*variants: str, scope: ET.Element | None = root) -> str:
        return find_text(scope, names(*variants), SKIP)

    def put(field: str, value: object) -> None:
        if value not in (None, ""):
            setattr(inv, field, value)
            found.add(field)

    put("code", get("InvoiceCode"))
    put("number", get("InvoiceNo", "InvoiceNumber"))
    put("issue_date", parse_date(get("IssueDate")))
    put("check_code", get("InvoiceCheckCode", "CheckCode").replace(" ", ""))
    for party in ("Buyer", "Seller"):
        section = find(root, names(party), SKIP)
        scope = root if section is None else section
        extra = () if section is None else ("Name",)
        put(f"{party.lower()}_name", get(f"{party}Name", *extra, scope=scope))
        extra = () if section is None else ("TaxID", "TaxNo")
        put(f"{party.lower()}_tax_id", get(f"{party}TaxID", *extra, scope=scope))
    put("amount", parse_amount(get("TaxExclusiveTotalAmount")))
    put("tax_amount", parse_amount(get("TaxTotalAmount")))
    put("total_amount", parse_amount(get("TaxInclusiveTotalAmount")))
    put("remarks", get("Note", "Remark", "Remarks"))
    put("drawer", get("InvoiceClerk", "Drawer"))
    qr = get("GraphCode")
    put("qr_payload", qr)
    kind = kind_from_code(inv.code)
    if kind is InvoiceKind.OTHER:
        payload = parse_qr_payload(qr)
        kind = payload.kind if payload else InvoiceKind.OTHER
    if kind is not InvoiceKind.OTHER:
        put("kind", kind)
    if inv.total_amount is not None:
        put("is_red", inv.total_amount < 0)
    if inv.is_red:
        put("red_of_number", red_reference(inv.remarks))
    inv.lines = [_line(el) for el in find_all(root, GOODS)]
    if inv.lines:
        found.add("lines")
    reading = FieldReading(source, 1.0)
    inv.readings = {field: reading for field in sorted(found)}
    return inv


def _line(el: ET.Element) -> ExtractedLine:
    def get(*variants: str) -> str:
        return find_text(el, names(*variants))

    rate, exempt = parse_rate(get("TaxScheme", "TaxRate"))
    return ExtractedLine(
        name=get("Item", "ItemName", "GoodsName"),
        spec=get("Specification", "Spec"),
        unit=get("MeasurementDimension", "Unit"),
        quantity=parse_decimal(get("Quantity")),
        unit_price=parse_decimal(get("Price", "UnitPrice")),
        amount=parse_amount(get("Amount")),
        tax_rate=rate,
        tax_amount=parse_amount(get("TaxAmount")),
        tax_exempt=exempt,
        tax_classification_code=get("TaxClassificationCode", "GoodsCode"),
    )
