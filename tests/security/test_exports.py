"""CSV export: no cell a spreadsheet would run as a formula (issue 16, medium 5)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

from django.urls import reverse

from tests.invoices.submitter.helpers import make_invoice

HOSTILE = {
    "code": "=cmd|'/C'!A0",  # the columns' lengths: code 12, tax IDs 20
    "number": "+1234567890",
    "seller_name": "@SUM(A1:A9)",
    "seller_tax_id": "-2+3+cmd|'/C'!A0",
    "buyer_name": "\t=1+1",
    "buyer_tax_id": "\r=1+1",
    "decision_reason": '=HYPERLINK("http://x.example")',
}


def _export(client, submitter) -> list[list[str]]:
    client.force_login(submitter)
    response = client.get(reverse("invoices:export"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_every_text_cell_starting_a_formula_is_neutralised(client, submitter):
    make_invoice(submitter.organization, submitter, identity="x1", **HOSTILE)

    header, row = _export(client, submitter)

    cells = dict(zip(header, row, strict=True))
    for cell in row:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert cells["发票代码"] == "'" + HOSTILE["code"]
    assert cells["发票号码"] == "'" + HOSTILE["number"]
    assert cells["销售方纳税人识别号"] == "'" + HOSTILE["seller_tax_id"]
    assert cells["购买方"] == "'" + HOSTILE["buyer_name"]


def test_negative_amounts_stay_numbers(client, submitter):
    make_invoice(
        submitter.organization,
        submitter,
        amount=D("-100.00"),
        tax_amount=D("-13.00"),
        total_amount=D("-113.00"),
        is_red=True,
    )

    _header, row = _export(client, submitter)

    assert row[10:13] == ["-100.00", "-13.00", "-113.00"]
