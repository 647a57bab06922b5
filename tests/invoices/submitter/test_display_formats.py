"""Numbers as people read them on the invoice pages: amounts with thousands
separators, tax rates as percentages, quantities and unit prices without padding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoiceportal.invoices.templatetags.invoice_display import (
    chinese_terms,
    money,
    plain_number,
    rate_percent,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("12345.6"), "12,345.60"),
        (Decimal("-46.04"), "-46.04"),
        (Decimal("0"), "0.00"),
        (Decimal("1234567.891"), "1,234,567.89"),
        (None, ""),
        ("", ""),
        ("not a number", ""),
    ],
)
def test_money(value, shown):
    assert money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.13"), "13 %"),
        (Decimal("0.06"), "6 %"),
        (Decimal("0.015"), "1.5 %"),
        (Decimal("0"), "0 %"),
        (Decimal("0.090"), "9 %"),
        (None, ""),
    ],
)
def test_rate_percent(value, shown):
    assert rate_percent(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("3.00000000"), "3"),
        (Decimal("1280.50000000"), "1,280.5"),
        (Decimal("0.12345678"), "0.12345678"),
        (Decimal("1E+3"), "1,000"),
        (None, ""),
    ],
)
def test_plain_number(value, shown):
    assert plain_number(value) == shown


def test_chinese_terms_are_marked_and_text_stays_escaped():
    shown = chinese_terms("A fully digital invoice (数电票) <b>bold</b>")
    assert '(<span lang="zh-Hans" translate="no">数电票</span>)' in shown
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown
    assert chinese_terms("plain English") == "plain English"
    assert '<span lang="zh-Hans" translate="no">*餐饮服务*</span>' in chinese_terms(
        "A category (such as *餐饮服务*) with an unusual rate"
    )
