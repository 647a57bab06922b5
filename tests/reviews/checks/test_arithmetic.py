from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoiceportal.common.capitals import amount_to_capitals
from invoiceportal.common.money import round_half_up
from invoiceportal.invoices.extraction.types import ExtractedLine
from reviews.checks import arithmetic as a
from reviews.checks.base import Action, Outcome, SourceFormat

from . import context, digital_special, e_ordinary, line

D = Decimal


def test_real_digital_special_adds_up_everywhere() -> None:
    inv, ctx = digital_special(), context()
    assert (
        a.check_line_amounts(inv, ctx, a.DEFAULT_LINE_AMOUNT_PARAMS).outcome
        is Outcome.PASS
    )
    assert (
        a.check_line_taxes(inv, ctx, a.DEFAULT_LINE_TAX_PARAMS).outcome is Outcome.PASS
    )
    assert (
        a.check_line_sums(inv, ctx, a.DEFAULT_LINE_SUMS_PARAMS).outcome is Outcome.PASS
    )
    assert a.check_total(inv, ctx, a.DEFAULT_TOTAL_PARAMS).outcome is Outcome.PASS
    assert (
        a.check_invoice_tax(inv, ctx, a.DEFAULT_INVOICE_TAX_PARAMS).outcome
        is Outcome.PASS
    )
    assert a.check_capitals(inv, ctx, a.DEFAULT_CAPITALS_PARAMS).outcome is Outcome.PASS


# --- quantity x unit price ------------------------------------------------------


def test_quantity_times_price_with_eight_decimal_price() -> None:
    inv = digital_special(
        lines=[line(quantity=D("3"), unit_price=D("33.33333333"), amount=D("100.00"))]
    )
    result = a.check_line_amounts(inv, context(), a.DEFAULT_LINE_AMOUNT_PARAMS)
    assert result.outcome is Outcome.PASS


def test_quantity_times_price_off_by_more_than_a_cent_fails() -> None:
    inv = digital_special(
        lines=[
            line(quantity=D("2"), unit_price=D("10.00"), amount=D("20.00")),
            line(quantity=D("3"), unit_price=D("10.00"), amount=D("30.02")),
        ]
    )
    result = a.check_line_amounts(inv, context(), a.DEFAULT_LINE_AMOUNT_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.details["lines"] == [
        {"line": 2, "expected": "30.00", "found": "30.02"}
    ]
    assert "line(s) 2" in result.message_en
    assert "第2行" in result.message_zh
    loose = a.check_line_amounts(inv, context(), {"tolerance": "0.02"})
    assert loose.outcome is Outcome.PASS


def test_lines_without_quantity_are_skipped() -> None:
    inv = e_ordinary()  # service line: no quantity or price
    result = a.check_line_amounts(inv, context(), a.DEFAULT_LINE_AMOUNT_PARAMS)
    assert result.outcome is Outcome.SKIPPED
    no_lines = a.check_line_amounts(e_ordinary(lines=[]), context(), {"tolerance": "0"})
    assert no_lines.outcome is Outcome.SKIPPED


# --- line tax ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "tax", "ok"),
    [
        ("4197.17", "0.06", "251.83", True),
        ("4197.17", "0.06", "251.89", True),  # at the 0.06 tolerance
        ("4197.17", "0.06", "251.90", False),
        ("100.00", "0.13", "13.00", True),
        ("-40.71", "0.13", "-5.29", True),  # discount or red line: negative
        ("-40.71", "0.13", "5.29", False),  # wrong sign
    ],
)
def test_line_tax(amount: str, rate: str, tax: str, ok: bool) -> None:
    inv = digital_special(
        lines=[line(amount=D(amount), tax_rate=D(rate), tax_amount=D(tax))]
    )
    result = a.check_line_taxes(inv, context(), a.DEFAULT_LINE_TAX_PARAMS)
    assert result.outcome is (Outcome.PASS if ok else Outcome.FAIL)


def test_exempt_lines_must_not_carry_tax() -> None:
    exempt = line(amount=D("100.00"), tax_exempt=True)
    inv = digital_special(lines=[exempt])
    assert (
        a.check_line_taxes(inv, context(), a.DEFAULT_LINE_TAX_PARAMS).outcome
        is Outcome.PASS
    )
    taxed = ExtractedLine(amount=D("100.00"), tax_exempt=True, tax_amount=D("6.00"))
    inv = digital_special(lines=[taxed])
    result = a.check_line_taxes(inv, context(), a.DEFAULT_LINE_TAX_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.details["lines"][0]["expected"] == "0.00"


# --- sums and totals ------------------------------------------------------------


def two_lines(**changes):
    return digital_special(
        lines=[
            line(amount=D("4000.00"), tax_rate=D("0.06"), tax_amount=D("240.00")),
            line(amount=D("197.17"), tax_rate=D("0.06"), tax_amount=D("11.83")),
        ],
        **changes,
    )


def test_line_sums_pass_and_fail() -> None:
    params = a.DEFAULT_LINE_SUMS_PARAMS
    assert a.check_line_sums(two_lines(), context(), params).outcome is Outcome.PASS
    result = a.check_line_sums(two_lines(amount=D("4197.18")), context(), params)
    assert result.outcome is Outcome.FAIL
    assert result.details["mismatches"] == [
        {"field": "amount", "sum": "4197.17", "total": "4197.18"}
    ]
    result = a.check_line_sums(two_lines(tax_amount=D("251.82")), context(), params)
    assert result.details["mismatches"][0]["field"] == "tax_amount"
    assert "taxes of the lines add up to 251.83" in result.message_en


def test_line_sums_with_an_exempt_line_count_zero_tax() -> None:
    inv = digital_special(
        amount=D("4297.17"),
        lines=[*digital_special().lines, line(amount=D("100.00"), tax_exempt=True)],
    )
    result = a.check_line_sums(inv, context(), a.DEFAULT_LINE_SUMS_PARAMS)
    assert result.outcome is Outcome.PASS


@pytest.mark.parametrize(
    ("fmt", "cap"),
    [
        (SourceFormat.XML, None),
        (SourceFormat.OFD, None),
        (SourceFormat.PDF, Action.REVIEW),
        (SourceFormat.IMAGE, Action.REVIEW),
        (SourceFormat.MANUAL, Action.REVIEW),
    ],
)
def test_totals_reject_only_in_structured_files(fmt: SourceFormat, cap) -> None:
    inv = digital_special(total_amount=D("4449.01"))
    ctx = context(source_format=fmt)
    result = a.check_total(inv, ctx, a.DEFAULT_TOTAL_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.max_action is cap
    assert "4449.00" in result.message_en and "4449.01" in result.message_en
    sums = a.check_line_sums(two_lines(amount=D("1")), ctx, a.DEFAULT_LINE_SUMS_PARAMS)
    assert sums.max_action is cap


def test_reject_formats_is_a_parameter() -> None:
    inv = digital_special(total_amount=D("4449.01"))
    ctx = context(source_format=SourceFormat.PDF)
    params = {"tolerance": "0.00", "reject_formats": ["xml", "ofd", "pdf"]}
    assert a.check_total(inv, ctx, params).max_action is None
    ctx = context(source_format=SourceFormat.XML)
    params = {"tolerance": "0.00", "reject_formats": []}
    assert a.check_total(inv, ctx, params).max_action is Action.REVIEW


def test_total_skipped_when_a_total_is_missing() -> None:
    result = a.check_total(
        digital_special(tax_amount=None), context(), a.DEFAULT_TOTAL_PARAMS
    )
    assert result.outcome is Outcome.SKIPPED


def test_invoice_level_tax_tolerance() -> None:
    # Many small lines: per-line rounding drifts from the rounded sum; 1.27 allowed.
    lines = [
        line(amount=D("0.10"), tax_rate=D("0.13"), tax_amount=D("0.01"))
        for _ in range(100)
    ]
    inv = digital_special(lines=lines, amount=D("10.00"), tax_amount=D("1.00"))
    # Σ amount x rate = 1.30; total tax 1.00: 0.30 apart.
    params = a.DEFAULT_INVOICE_TAX_PARAMS
    assert a.check_invoice_tax(inv, context(), params).outcome is Outcome.PASS
    strict = a.check_invoice_tax(inv, context(), {"tolerance": "0.29"})
    assert strict.outcome is Outcome.FAIL
    assert strict.details["expected"] == "1.30"
    far = digital_special(tax_amount=D("253.11"))
    assert a.check_invoice_tax(far, context(), params).outcome is Outcome.FAIL
    near = digital_special(tax_amount=D("253.10"))
    assert a.check_invoice_tax(near, context(), params).outcome is Outcome.PASS


def test_invoice_tax_skipped_when_a_rate_is_missing() -> None:
    inv = digital_special(lines=[line(amount=D("4197.17"), tax_amount=D("251.83"))])
    result = a.check_invoice_tax(inv, context(), a.DEFAULT_INVOICE_TAX_PARAMS)
    assert result.outcome is Outcome.SKIPPED


# --- capitals ----------------------------------------------------------------------


def test_capitals_real_red_print_matches_negative_total() -> None:
    inv = digital_special(total_amount=D("-46.04"), total_in_words="⊗肆拾陆圆肆分")
    result = a.check_capitals(inv, context(), a.DEFAULT_CAPITALS_PARAMS)
    assert result.outcome is Outcome.PASS


def test_capitals_differing_from_figures() -> None:
    inv = digital_special(total_in_words="肆仟肆佰肆拾捌圆整")
    result = a.check_capitals(inv, context(), a.DEFAULT_CAPITALS_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.max_action is None
    assert result.details == {"capitals": "4448.00", "figures": "4449.00"}
    pdf = context(source_format=SourceFormat.PDF)
    assert (
        a.check_capitals(inv, pdf, a.DEFAULT_CAPITALS_PARAMS).max_action
        is Action.REVIEW
    )


def test_unreadable_capitals_go_to_review() -> None:
    inv = digital_special(total_in_words="肆仟肆佰肆拾玖美元")
    result = a.check_capitals(inv, context(), a.DEFAULT_CAPITALS_PARAMS)
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW
    assert "could not be read" in result.message_en


def test_capitals_missing_is_skipped() -> None:
    inv = digital_special(total_in_words="")
    result = a.check_capitals(inv, context(), a.DEFAULT_CAPITALS_PARAMS)
    assert result.outcome is Outcome.SKIPPED


# --- properties --------------------------------------------------------------------

money = st.decimals(min_value=D("-99999.99"), max_value=D("99999.99"), places=2)
rates = st.sampled_from([D("0.13"), D("0.09"), D("0.06"), D("0.03"), D("0.01"), D("0")])
quantities = st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D("10000"), places=8)


@st.composite
def consistent_invoices(draw):
    """An invoice built the way invoicing software builds one."""
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        qty, price, rate = draw(quantities), draw(prices), draw(rates)
        amount = round_half_up(qty * price)
        lines.append(
            ExtractedLine(
                quantity=qty,
                unit_price=price,
                amount=amount,
                tax_rate=rate,
                tax_amount=round_half_up(amount * rate),
            )
        )
    amount = sum((ln.amount for ln in lines), D("0.00"))
    tax = sum((ln.tax_amount for ln in lines), D("0.00"))
    total = amount + tax
    return digital_special(
        lines=lines,
        amount=amount,
        tax_amount=tax,
        total_amount=total,
        total_in_words=amount_to_capitals(total),
    )


CHECKS = [
    (a.check_line_amounts, a.DEFAULT_LINE_AMOUNT_PARAMS),
    (a.check_line_taxes, a.DEFAULT_LINE_TAX_PARAMS),
    (a.check_line_sums, a.DEFAULT_LINE_SUMS_PARAMS),
    (a.check_total, a.DEFAULT_TOTAL_PARAMS),
    (a.check_capitals, a.DEFAULT_CAPITALS_PARAMS),
]


@given(consistent_invoices())
def test_consistent_invoices_pass_every_arithmetic_check(inv) -> None:
    for check, params in CHECKS:
        result = check(inv, context(), params)
        assert result.outcome is Outcome.PASS, (check.__name__, result.message_en)


@given(consistent_invoices())
def test_invoice_level_tax_holds_for_few_lines(inv) -> None:
    # Each line's rounding moves the tax by at most half a cent: 8 lines < 1.27.
    result = a.check_invoice_tax(inv, context(), a.DEFAULT_INVOICE_TAX_PARAMS)
    assert result.outcome is Outcome.PASS


@given(
    consistent_invoices(),
    st.sampled_from(["amount", "tax_amount", "total_amount"]),
    st.sampled_from([D("0.01"), D("-0.01"), D("1.00"), D("-100")]),
)
def test_any_changed_total_is_caught(inv, field: str, delta: Decimal) -> None:
    import dataclasses

    changed = dataclasses.replace(inv, **{field: getattr(inv, field) + delta})
    sums = a.check_line_sums(changed, context(), a.DEFAULT_LINE_SUMS_PARAMS)
    total = a.check_total(changed, context(), a.DEFAULT_TOTAL_PARAMS)
    capitals = a.check_capitals(changed, context(), a.DEFAULT_CAPITALS_PARAMS)
    assert Outcome.FAIL in {sums.outcome, total.outcome, capitals.outcome}
    if field == "total_amount":
        assert total.outcome is Outcome.FAIL and capitals.outcome is Outcome.FAIL


@given(money, rates, st.sampled_from([D("0.07"), D("-0.07"), D("0.50")]))
def test_line_tax_beyond_tolerance_fails(
    amount: Decimal, rate: Decimal, delta: Decimal
) -> None:
    tax = round_half_up(amount * rate) + delta
    inv = digital_special(lines=[line(amount=amount, tax_rate=rate, tax_amount=tax)])
    result = a.check_line_taxes(inv, context(), a.DEFAULT_LINE_TAX_PARAMS)
    assert result.outcome is Outcome.FAIL
