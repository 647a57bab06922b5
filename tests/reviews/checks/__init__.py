"""Builders shared by the check tests: real invoices from domain/einvoice.md."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from reviews.checks.base import (
    CheckContext,
    RegistryRecord,
    RegistryStatus,
    SourceFormat,
)

D = Decimal
ORG_TAX_ID = "91110108551385082Q"  # Xiaomi: a valid USCC (domain page vector)
ORG_NAME = "小米科技有限责任公司"
SELLER_TAX_ID = "91110108690017781B"  # a Beijing software company, real 数电专票
SELLER_NAME = "北京某软件有限公司"
TODAY = dt.date(2024, 6, 3)


def digital_special(**changes: Any) -> ExtractedInvoice:
    """The real 数电专票: 4197.17 + 251.83 = 4449.00 = 肆仟肆佰肆拾玖圆整."""
    inv = ExtractedInvoice(
        kind=InvoiceKind.DIGITAL_SPECIAL,
        number="24112000000048542163",
        issue_date=dt.date(2024, 5, 28),
        seller_name=SELLER_NAME,
        seller_tax_id=SELLER_TAX_ID,
        buyer_name=ORG_NAME,
        buyer_tax_id=ORG_TAX_ID,
        amount=D("4197.17"),
        tax_amount=D("251.83"),
        total_amount=D("4449.00"),
        total_in_words="肆仟肆佰肆拾玖圆整",
        lines=[
            ExtractedLine(
                name="*信息技术服务*软件服务费",
                unit="项",
                quantity=D("1"),
                unit_price=D("4197.17"),
                amount=D("4197.17"),
                tax_rate=D("0.06"),
                tax_amount=D("251.83"),
            )
        ],
        qr_payload="01,31,,24112000000048542163,4449.00,20240528,,B2B6",
        readings={
            "number": FieldReading(FieldSource.XML, 1.0),
            "amount": FieldReading(FieldSource.XML, 1.0),
        },
    )
    return dataclasses.replace(inv, **changes)


def e_ordinary(**changes: Any) -> ExtractedInvoice:
    """A legacy 电子普票 with the real Zhejiang 2020 code 033002000211."""
    inv = ExtractedInvoice(
        kind=InvoiceKind.E_ORDINARY,
        code="033002000211",
        number="12345678",
        check_code="12345678901234567890",
        issue_date=dt.date(2020, 9, 14),
        seller_name="杭州某餐饮有限公司",
        seller_tax_id="914403001922038216",
        buyer_name=ORG_NAME,
        buyer_tax_id=ORG_TAX_ID,
        amount=D("1409.50"),
        tax_amount=D("84.57"),
        total_amount=D("1494.07"),
        total_in_words="壹仟肆佰玖拾肆元零柒分",
        lines=[
            ExtractedLine(
                name="*餐饮服务*餐费",
                amount=D("1409.50"),
                tax_rate=D("0.06"),
                tax_amount=D("84.57"),
            )
        ],
    )
    return dataclasses.replace(inv, **changes)


def context(**changes: Any) -> CheckContext:
    ctx = CheckContext(
        organization_tax_id=ORG_TAX_ID,
        organization_name=ORG_NAME,
        today=TODAY,
        source_format=SourceFormat.XML,
        registry=RegistryRecord(
            status=RegistryStatus.NORMAL,
            number="24112000000048542163",
            issue_date=dt.date(2024, 5, 28),
            seller_tax_id=SELLER_TAX_ID,
            buyer_tax_id=ORG_TAX_ID,
            amount=D("4197.17"),
            tax_amount=D("251.83"),
            total_amount=D("4449.00"),
        ),
    )
    return dataclasses.replace(ctx, **changes)


def line(**fields: Any) -> ExtractedLine:
    return ExtractedLine(**fields)
