"""数电 XML documents for a ground-truth invoice: ``make_xml(inv, variant=...)``.

Variants exercise what real files do differently (domain/einvoice.md section 9):
0. the layout of real files: sections, ``TotalTax-includedAmount``, rates '0.13',
   labels with names, IssueTime in TaxSupervisionInfo;
1. a default namespace, ``TotalTaxIncludedAmount``, rates '13%', ISO 'T' timestamps,
   labels without names;
2. a namespace prefix, lower-case and underscore spellings, the number only in
   TaxSupervisionInfo, the date only in RequestTime, rates '0.130';
3. GBK-encoded, flat (no sections), values padded with whitespace, rates '13%'.
"""

from __future__ import annotations

import random
from decimal import Decimal
from xml.sax.saxutils import escape

from invoiceportal.invoices.extraction.types import ExtractedInvoice, InvoiceKind

from .truth import random_address, random_bank_account, random_phone

VARIANTS = (0, 1, 2, 3)
KEPT_WHEN_FLAT = frozenset(
    (
        "EInvoice",
        "IssuItemInformation",
        "InIssuType",
        "EInvoiceType",
        "GeneralOrSpecialVAT",
        "RedEInvoice",
    )
)
NS = "http://www.chinatax.gov.cn/tirip/dataspec/einvoice"


def _rate(rate: Decimal | None, exempt: bool, variant: int) -> str:
    if exempt or rate is None:
        return "免税"
    if variant in (1, 3):
        return f"{(rate * 100).normalize():f}%"
    if variant == 2:
        return f"{rate:.3f}"
    return f"{rate:.2f}"


def _num(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


class _Writer:
    def __init__(self, variant: int) -> None:
        self.variant = variant
        self.parts: list[str] = []
        self.prefix = "ns:" if variant == 2 else ""

    def tag(self, name: str) -> str:
        if self.variant == 2:
            name = name[0].lower() + name[1:]
            name = name.replace("TotalTax-includedAmount", "TotalTax_IncludedAmount")
        elif self.variant == 1:
            name = name.replace("-included", "Included")
        return self.prefix + name

    def open(self, name: str, attrs: str = "") -> None:
        if self.variant == 3 and name not in KEPT_WHEN_FLAT:
            return  # flat layout: sections disappear, labels stay
        self.parts.append(f"<{self.tag(name)}{attrs}>")

    def close(self, name: str) -> None:
        if self.variant == 3 and name not in KEPT_WHEN_FLAT:
            return
        self.parts.append(f"</{self.tag(name)}>")

    def leaf(self, name: str, value: str, *, keep_empty: bool = False) -> None:
        if not value and not keep_empty:
            return
        text = escape(value)
        if self.variant == 3 and value:
            text = f"\n      {text}  "
        self.parts.append(f"<{self.tag(name)}>{text}</{self.tag(name)}>")


def make_xml(inv: ExtractedInvoice, *, variant: int = 0) -> bytes:
    """An EInvoice XML document carrying every field of ``inv``."""
    rng = random.Random(f"{inv.number}-{variant}")
    w = _Writer(variant)
    ns_attr = ""
    if variant == 1:
        ns_attr = f' xmlns="{NS}"'
    elif variant == 2:
        ns_attr = f' xmlns:ns="{NS}"'
    assert inv.issue_date is not None
    clock = f"{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}:00"
    stamp = f"{inv.issue_date:%Y-%m-%d} {clock}"
    if variant == 1:
        stamp = stamp.replace(" ", "T")

    w.open("EInvoice", ns_attr)
    w.open("Header")
    if variant != 2:
        w.leaf("EIid", inv.number)
    w.leaf("EInvoiceTag", "SWEI" + inv.number[:4])
    w.leaf("Version", "0.1")
    w.open("InherentLabel")
    w.open("InIssuType")
    w.leaf("LabelCode", "N" if inv.is_red else "Y")
    if variant in (0, 3):
        w.leaf("LabelName", "红字发票" if inv.is_red else "蓝字发票")
    w.close("InIssuType")
    w.open("EInvoiceType")
    w.leaf("LabelCode", "02")
    w.leaf("LabelName", "电子发票")
    w.close("EInvoiceType")
    w.open("GeneralOrSpecialVAT")
    special = inv.kind is InvoiceKind.DIGITAL_SPECIAL
    w.leaf("LabelCode", "01" if special else "02")
    if variant in (0, 3):
        w.leaf("LabelName", "增值税专用发票" if special else "普通发票")
    w.close("GeneralOrSpecialVAT")
    w.close("InherentLabel")
    w.close("Header")

    w.open("EInvoiceData")
    for role, name, tax_id in (
        ("Seller", inv.seller_name, inv.seller_tax_id),
        ("Buyer", inv.buyer_name, inv.buyer_tax_id),
    ):
        w.open(f"{role}Information")
        w.leaf(f"{role}IdNum", tax_id, keep_empty=variant == 0)
        w.leaf(f"{role}Name", name)
        if rng.random() < 0.7:
            w.leaf(f"{role}Addr", random_address(rng, name))
            w.leaf(f"{role}TelNum", random_phone(rng))
            w.leaf(f"{role}BankName", "中国工商银行北京分行")
            w.leaf(f"{role}BankAccNum", random_bank_account(rng))
        w.close(f"{role}Information")

    w.open("BasicInformation")
    w.leaf("TotalAmWithoutTax", _num(inv.amount))
    w.leaf("TotalTaxAm", _num(inv.tax_amount))
    w.leaf("TotalTax-includedAmount", _num(inv.total_amount))
    w.leaf("TotalTax-includedAmountInChinese", inv.total_in_words)
    w.leaf("Drawer", inv.drawer)
    w.leaf("RequestTime", stamp)
    w.close("BasicInformation")

    for line in inv.lines:
        w.open("IssuItemInformation")
        w.leaf("ItemName", line.name)
        w.leaf("SpecMod", line.spec, keep_empty=variant == 0)
        w.leaf("MeaUnits", line.unit, keep_empty=variant == 0)
        w.leaf("Quantity", _num(line.quantity))
        w.leaf("UnPrice", _num(line.unit_price))
        w.leaf("Amount", _num(line.amount))
        w.leaf("TaxRate", _rate(line.tax_rate, line.tax_exempt, variant))
        w.leaf("ComTaxAm", "***" if line.tax_amount is None else _num(line.tax_amount))
        if line.amount is not None:
            w.leaf("TotaltaxIncludedAmount", _num(line.amount + (line.tax_amount or 0)))
        w.leaf("TaxClassificationCode", line.tax_classification_code)
        w.close("IssuItemInformation")

    if inv.is_red and inv.red_of_number:
        w.open("SpecificInformation")
        w.open("RedEInvoice")
        w.leaf("OriginalInvoiceCode", inv.red_of_number)
        w.leaf("RedConfirmNo", "".join(rng.choice("0123456789") for _ in range(20)))
        w.close("RedEInvoice")
        w.close("SpecificInformation")
    w.open("AdditionalInformation")
    w.leaf("Remark", inv.remarks)
    w.close("AdditionalInformation")
    w.close("EInvoiceData")

    w.open("TaxSupervisionInfo")
    w.leaf("InvoiceNumber", inv.number)
    if variant != 2:
        w.leaf("IssueTime", stamp)
    w.leaf("TaxBureauCode", "1" + inv.number[2:4] + "00000000")
    w.leaf("TaxBureauName", "国家税务总局税务局")
    w.close("TaxSupervisionInfo")
    w.close("EInvoice")

    body = "".join(w.parts)
    if variant == 3:
        return ('<?xml version="1.0" encoding="GBK"?>\n' + body).encode("gb18030")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")
