from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.types import InvoiceKind
from reviews.checks.base import Outcome
from reviews.checks.qrcheck import DEFAULT_PARAMS, check_qr

from . import context, digital_special, e_ordinary

D = Decimal
REAL_32 = "01,32,,24952000000031722382,1800.00,20240315,,D2D1"


def ordinary_digital(**changes):
    base = {
        "kind": InvoiceKind.DIGITAL_ORDINARY,
        "number": "24952000000031722382",
        "issue_date": dt.date(2024, 3, 15),
        "amount": D("1698.11"),
        "tax_amount": D("101.89"),
        "total_amount": D("1800.00"),
        "qr_payload": REAL_32,
    }
    return digital_special(**{**base, **changes})


def legacy(**changes):
    payload = "01,10,033002000211,12345678,1409.50,20200914,12345678901234567890,A1B2,"
    return e_ordinary(qr_payload=payload, **changes)


@pytest.mark.parametrize(
    "inv",
    [
        digital_special(),  # real type 31, amount = 价税合计
        ordinary_digital(),  # real type 32
        ordinary_digital(
            qr_payload=" 01, 32 , ,24952000000031722382,1800.00,20240315, ,D2D1,"
        ),
        legacy(),  # amount = total excluding tax for legacy invoices
        legacy(check_code=""),
        e_ordinary(
            qr_payload="01,10,033002000211,12345678,1409.50,20200914,567890,A1B2"
        ),  # last six digits of the check code
    ],
)
def test_consistent_qr_passes(inv) -> None:
    result = check_qr(inv, context(), DEFAULT_PARAMS)
    assert result.outcome is Outcome.PASS, result.details


@pytest.mark.parametrize(
    ("inv", "field"),
    [
        (digital_special(number="24112000000048542164"), "number"),
        (digital_special(issue_date=dt.date(2024, 5, 29)), "issue_date"),
        (digital_special(total_amount=D("4449.01")), "amount"),
        (ordinary_digital(total_amount=D("1698.11")), "amount"),  # excl. tax on 数电
        (digital_special(kind=InvoiceKind.DIGITAL_ORDINARY), "kind"),
        (legacy(code="033002000311"), "code"),
        (legacy(amount=D("1494.07")), "amount"),  # 价税合计 on a legacy QR
        (legacy(check_code="12345678901234567891"), "check_code"),
    ],
)
def test_disagreeing_qr_fails(inv, field: str) -> None:
    result = check_qr(inv, context(), DEFAULT_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert [d["field"] for d in result.details["differences"]] == [field]
    assert "altered" in result.message_en
    assert "原始文件" in result.message_zh


def test_uncertain_qr_type_does_not_compare_kind() -> None:
    payload = "01,20,052002100113,12345678,1409.50,20200914,,A1B2"
    inv = e_ordinary(
        code="052002100113", kind=InvoiceKind.E_ORDINARY, qr_payload=payload
    )
    result = check_qr(inv, context(), DEFAULT_PARAMS)
    assert result.outcome is Outcome.PASS
    params = {**DEFAULT_PARAMS, "compare_kind_types": ["20"]}
    assert check_qr(inv, context(), params).outcome is Outcome.FAIL


def test_red_invoice_qr_amount_sign_is_tolerated() -> None:
    inv = digital_special(
        total_amount=D("-4449.00"),
        qr_payload="01,31,,24112000000048542163,4449.00,20240528,,B2B6",
    )
    assert check_qr(inv, context(), DEFAULT_PARAMS).outcome is Outcome.PASS


def test_no_qr_is_skipped_and_garbage_fails() -> None:
    assert check_qr(
        digital_special(qr_payload=""), context(), DEFAULT_PARAMS
    ).outcome is (Outcome.SKIPPED)
    garbage = check_qr(
        digital_special(qr_payload="https://example.com"), context(), DEFAULT_PARAMS
    )
    assert garbage.outcome is Outcome.FAIL
    assert "does not hold an invoice payload" in garbage.message_en
