"""Rail e-tickets, air itineraries and general machine-printed invoices in every check;
the deductible input VAT of a ticket (公告2019年第39号 §6); negative discount lines
(domain/einvoice.md section 11)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.types import InvoiceKind
from invoiceportal.invoices.special_business import DEDUCTION_RULE, deductible_tax_in
from reviews.checks import arithmetic, identity, parties, qrcheck, tickets
from reviews.checks.base import Outcome
from reviews.checks.catalog import RULES_BY_CODE
from reviews.checks.runner import Decision, route, run_checks
from reviews.verification import HttpVerifier

from . import ORG_NAME, ORG_TAX_ID, context, digital_special, e_ordinary, line

D = Decimal
RAIL_NUMBER = "26329116804009553237"  # 2026, Jiangsu (32), channel 9
AIR_NUMBER = "26442000000012345678"  # 2026, Guangdong
RATE = D("0.09")


def params(code: str) -> dict:
    return dict(RULES_BY_CODE[code].default_params)


def rail(**changes) -> object:
    base = {
        "kind": InvoiceKind.RAIL_TICKET,
        "number": RAIL_NUMBER,
        "issue_date": dt.date(2026, 3, 2),
        "seller_name": "",
        "seller_tax_id": "",
        "amount": None,
        "tax_amount": None,
        "total_amount": D("73.00"),
        "total_in_words": "",
        "lines": [],
        "qr_payload": "",
        "extras": {
            "rail": {
                "passenger": "张三",
                "passenger_id": "3301*******1234",
                "from_station": "南京南",
                "to_station": "常州",
                "train": "G7575",
                "departure_date": "2026-03-02",
                "fare": "73.00",
            }
        },
    }
    return digital_special(**{**base, **changes})


def air(**changes) -> object:
    base = {
        "kind": InvoiceKind.AIR_ITINERARY,
        "number": AIR_NUMBER,
        "issue_date": dt.date(2026, 3, 2),
        "seller_name": "",
        "seller_tax_id": "",
        "amount": None,
        "tax_amount": D("87.52"),
        "total_amount": D("1110.00"),
        "total_in_words": "",
        "lines": [],
        "qr_payload": "",
        "extras": {
            "air": {
                "passenger": "张三",
                "domestic": "国内",
                "fare": "1000.00",
                "fuel_surcharge": "60.00",
                "caac_fund": "50.00",
                "vat_amount": "87.52",
                "total": "1110.00",
                "segments": [
                    {"from": "杭州萧山", "to": "北京首都", "flight": "CA1701"}
                ],
            }
        },
    }
    return digital_special(**{**base, **changes})


def general_machine(**changes) -> object:
    base = {
        "kind": InvoiceKind.GENERAL_MACHINE,
        "code": "144031900110",
        "number": "01234567",
        "qr_payload": "",
    }
    return digital_special(**{**base, **changes})


def ctx2026(**changes):
    return context(today=dt.date(2026, 3, 10), registry=None, **changes)


# --- the deduction, a plain function ---------------------------------------------


def deduct(kind, total=None, extras=None, rate=RATE):
    return tickets.deductible_input_vat(
        kind, total_amount=total, extras=extras, rail_rate=rate, air_rate=rate
    )


@pytest.mark.parametrize(
    ("fare", "expected"),
    [
        # 73 / 1.09 x 0.09 = 6.0275... -> 6.03
        (D("73.00"), D("6.03")),
        # 553 x 9 / 109 = 45.660... -> 45.66
        (D("553.00"), D("45.66")),
        # 109.00 is exactly 100 + 9
        (D("109.00"), D("9.00")),
    ],
)
def test_rail_deduction_is_the_fare_over_one_plus_rate_times_rate(fare, expected):
    extras = {"rail": {"passenger": "张三"}}
    got = deduct(InvoiceKind.RAIL_TICKET, fare, extras)
    assert got.amount == expected
    assert got.basis == fare


def test_rail_deduction_reads_the_fare_from_extras_when_the_total_is_missing():
    got = deduct(
        InvoiceKind.RAIL_TICKET, None, {"rail": {"passenger": "张", "fare": "73.00"}}
    )
    assert got.amount == D("6.03")


def test_air_deduction_counts_fare_and_fuel_but_not_the_civil_aviation_fund():
    extras = air().extras
    got = deduct(InvoiceKind.AIR_ITINERARY, D("1110.00"), extras)
    # (1000 + 60) / 1.09 x 0.09 = 87.5229... : the VAT printed on the itinerary
    assert got.amount == D("87.52")
    assert got.basis == D("1060.00")
    more_fund = {"air": {**extras["air"], "caac_fund": "500.00"}}
    assert deduct(InvoiceKind.AIR_ITINERARY, D("1560.00"), more_fund).amount == D(
        "87.52"
    )


def test_a_digital_itinerarys_printed_vat_is_deducted_as_it_stands():
    """The 数电 itinerary prints fare and fuel excluding VAT, and the VAT itself; the
    platform lets the buyer deduct that printed amount (announcement 2024 No. 9)."""
    extras = {
        "air": {**air().extras["air"], "fare": "940.00", "fuel_surcharge": "60.00"}
    }
    got = tickets.deductible_input_vat(
        InvoiceKind.AIR_ITINERARY,
        total_amount=D("1140.00"),
        extras=extras,
        rail_rate=RATE,
        air_rate=RATE,
        printed_tax=D("90.00"),
    )
    assert (got.amount, got.printed) == (D("90.00"), True)
    # without the printed VAT, the 2019 No. 39 formula: 1000 / 1.09 x 0.09 = 82.57
    assert deduct(InvoiceKind.AIR_ITINERARY, D("1140.00"), extras).amount == D("82.57")


@pytest.mark.parametrize("flag", ["国际", "国际/地区", "I", "international"])
def test_an_international_itinerary_gives_nothing(flag):
    extras = {"air": {**air().extras["air"], "domestic": flag}}
    got = deduct(InvoiceKind.AIR_ITINERARY, D("1110.00"), extras)
    assert got.amount == D("0.00")
    assert got.reason == tickets.INTERNATIONAL


@pytest.mark.parametrize(
    ("kind", "extras", "reason"),
    [
        (InvoiceKind.AIR_ITINERARY, {"air": {"passenger": "张"}}, tickets.FARE_MISSING),
        (
            InvoiceKind.AIR_ITINERARY,
            {"air": {"passenger": "张", "fare": "100"}},
            tickets.DOMESTIC_UNKNOWN,
        ),
        (
            InvoiceKind.AIR_ITINERARY,
            {"air": {"fare": "100", "domestic": "国内"}},
            tickets.PASSENGER_MISSING,
        ),
        (InvoiceKind.RAIL_TICKET, {"rail": {"fare": "73"}}, tickets.PASSENGER_MISSING),
        (InvoiceKind.RAIL_TICKET, {}, tickets.FARE_MISSING),
        (InvoiceKind.DIGITAL_ORDINARY, {}, tickets.NOT_A_TICKET),
    ],
)
def test_no_deduction_without_what_the_rule_needs(kind, extras, reason):
    got = deduct(kind, None, extras)
    assert got.amount is None
    assert got.reason == reason


def test_the_rate_is_a_parameter():
    extras = {"rail": {"passenger": "张三"}}
    # a 10 % basis: 110 / 1.10 x 0.10 = 10.00
    assert deduct(InvoiceKind.RAIL_TICKET, D("110.00"), extras, D("0.10")).amount == D(
        "10.00"
    )


def test_the_deduction_rule_stores_the_amount_and_says_how_it_was_computed():
    outcome = tickets.check_ticket_deduction(air(), ctx2026(), params(DEDUCTION_RULE))
    assert outcome.outcome is Outcome.PASS
    assert outcome.details["deductible_tax"] == "87.52"
    assert "87.52" in outcome.message_zh and "注明的增值税税额" in outcome.message_zh
    assert "87.52" in outcome.message_en
    rail_outcome = tickets.check_ticket_deduction(
        rail(), ctx2026(), {"rail_rate": "0.09", "air_rate": "0.09"}
    )
    assert rail_outcome.details["deductible_tax"] == "6.03"
    assert deductible_tax_in(
        [{"rule": DEDUCTION_RULE, "details": rail_outcome.details}]
    ) == D("6.03")


def test_the_deduction_rule_is_skipped_for_vat_invoices_and_notes_a_missing_passenger():
    skipped = tickets.check_ticket_deduction(
        digital_special(), ctx2026(), params(DEDUCTION_RULE)
    )
    assert skipped.outcome is Outcome.SKIPPED
    failed = tickets.check_ticket_deduction(
        rail(extras={"rail": {"fare": "73.00"}}),
        ctx2026(),
        params(DEDUCTION_RULE),
    )
    assert failed.outcome is Outcome.FAIL
    assert "旅客身份" in failed.message_zh and "passenger" in failed.message_en
    assert failed.details["deductible_tax"] is None


# --- general machine-printed invoices --------------------------------------------


def test_a_general_machine_invoice_fails_its_rule_saying_what_it_is():
    outcome = tickets.check_general_machine(general_machine(), ctx2026(), {})
    assert outcome.outcome is Outcome.FAIL
    assert "not a VAT invoice" in outcome.message_en
    assert "no input VAT deduction" in outcome.message_en
    assert "不是增值税发票" in outcome.message_zh
    assert "不能抵扣进项税额" in outcome.message_zh


@pytest.mark.parametrize(
    "kind",
    [k for k in InvoiceKind if k is not InvoiceKind.GENERAL_MACHINE],
)
def test_every_other_kind_passes_the_general_machine_rule(kind):
    outcome = tickets.check_general_machine(digital_special(kind=kind), ctx2026(), {})
    assert outcome.outcome is Outcome.PASS


def test_a_general_machine_invoice_goes_to_review_under_default_rules():
    inv = general_machine(issue_date=dt.date(2024, 5, 28))
    results = run_checks(inv, context(registry=None))
    routing = route(results)
    assert routing.decision is Decision.REVIEW
    assert "kind.general_machine" in [r.code for r in routing.reasons]


# --- identity --------------------------------------------------------------------


@pytest.mark.parametrize("make", [rail, air])
def test_ticket_numbers_are_20_digit_digital_numbers(make):
    outcome = identity.check_identity(make(), ctx2026(), identity.DEFAULT_PARAMS)
    assert outcome.outcome is Outcome.PASS, outcome.message_en
    assert outcome.details["year"] == 2026


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"number": RAIL_NUMBER[:-1]}, "20 digits"),
        ({"code": "033002000211"}, "has no code"),
        ({"number": "26009116804009553237"}, "region 00"),
        ({"issue_date": dt.date(2025, 12, 1)}, "year 2026"),
    ],
)
def test_ticket_identity_problems_are_found(changes, problem):
    outcome = identity.check_identity(
        rail(**changes), ctx2026(), identity.DEFAULT_PARAMS
    )
    assert outcome.outcome is Outcome.FAIL
    assert problem in outcome.message_en


def test_a_general_machine_invoice_has_a_12_digit_code_and_an_8_digit_number():
    good = identity.check_identity(
        general_machine(), ctx2026(), identity.DEFAULT_PARAMS
    )
    assert good.outcome is Outcome.PASS, good.message_en
    assert good.details["region"] == "4403"
    for changes in ({"code": "1440319001"}, {"number": "1234567"}, {"code": ""}):
        bad = identity.check_identity(
            general_machine(**changes), ctx2026(), identity.DEFAULT_PARAMS
        )
        assert bad.outcome is Outcome.FAIL, changes


# --- checks that do not apply to tickets, and those that do ----------------------

LINE_CHECKS = [
    (arithmetic.check_line_amounts, "arithmetic.line_amount"),
    (arithmetic.check_line_taxes, "arithmetic.line_tax"),
    (arithmetic.check_line_sums, "arithmetic.line_sums"),
    (arithmetic.check_invoice_tax, "arithmetic.invoice_tax"),
    (arithmetic.check_capitals, "arithmetic.capitals"),
]


@pytest.mark.parametrize("make", [rail, air])
@pytest.mark.parametrize(("check", "code"), LINE_CHECKS)
def test_line_arithmetic_and_capitals_are_skipped_for_tickets_with_a_reason(
    make, check, code
):
    # even when a reader produced a (wrong) line and capitals
    inv = make(
        lines=[line(name="票价", amount=D("1"), tax_rate=RATE, tax_amount=D("5"))],
        total_in_words="壹圆整",
        tax_amount=D("5.00"),
    )
    outcome = check(inv, ctx2026(), params(code))
    assert outcome.outcome is Outcome.SKIPPED
    assert "does not apply" in outcome.message_en
    assert "不适用" in outcome.message_zh


def test_the_total_check_applies_to_a_rail_ticket_but_not_to_an_air_itinerary():
    p = params("arithmetic.total")
    good = rail(amount=D("66.97"), tax_amount=D("6.03"))
    assert arithmetic.check_total(good, ctx2026(), p).outcome is Outcome.PASS
    bad = rail(amount=D("66.97"), tax_amount=D("7.03"))
    assert arithmetic.check_total(bad, ctx2026(), p).outcome is Outcome.FAIL
    itinerary = air(amount=D("972.48"))  # 1110 includes the 50.00 fund
    assert arithmetic.check_total(itinerary, ctx2026(), p).outcome is Outcome.SKIPPED


def test_a_ticket_without_a_seller_tax_id_has_well_formed_ids():
    p = params("parties.tax_id_form")
    assert parties.check_tax_id_forms(rail(), ctx2026(), p).outcome is Outcome.PASS
    invalid = rail(seller_tax_id="91500102563638729E")
    assert parties.check_tax_id_forms(invalid, ctx2026(), p).outcome is Outcome.FAIL
    vat = digital_special(seller_tax_id="")
    assert parties.check_tax_id_forms(vat, ctx2026(), p).outcome is Outcome.FAIL


@pytest.mark.parametrize("make", [rail, air])
def test_the_buyer_must_still_be_the_organization_on_a_ticket(make):
    outcome = parties.check_buyer_tax_id(
        make(buyer_tax_id="914403001922038216"), ctx2026(), {}
    )
    assert outcome.outcome is Outcome.FAIL
    ok = make(buyer_tax_id=ORG_TAX_ID, buyer_name=ORG_NAME)
    assert parties.check_buyer_tax_id(ok, ctx2026(), {}).outcome is Outcome.PASS


@pytest.mark.parametrize("make", [rail, air])
def test_tickets_are_verified_like_digital_invoices(make):
    payload = HttpVerifier(url="http://verifier.invalid")._payload(make())
    assert payload["code"] == ""
    assert payload["total_amount"] == str(make().total_amount)
    assert "check_code_last6" not in payload and "amount" not in payload


# --- the QR code -------------------------------------------------------------------


QR = qrcheck.DEFAULT_PARAMS


def test_a_rail_ticket_qr_with_a_digital_type_is_no_kind_mismatch():
    inv = rail(qr_payload=f"01,32,,{RAIL_NUMBER},73.00,20260302,,ABCD")
    assert qrcheck.check_qr(inv, ctx2026(), QR).outcome is Outcome.PASS
    wrong = rail(qr_payload=f"01,32,,{RAIL_NUMBER},37.00,20260302,,ABCD")
    outcome = qrcheck.check_qr(wrong, ctx2026(), QR)
    assert outcome.outcome is Outcome.FAIL
    assert outcome.details["amount_basis"] == "total_amount"


def test_a_qr_with_spaces_in_its_empty_fields_is_read_field_by_field():
    inv = digital_special(
        qr_payload="01,31, ,24112000000048542163,4449.00,20240528, ,B2B6"
    )
    assert qrcheck.check_qr(inv, context(), QR).outcome is Outcome.PASS


def test_a_legacy_qr_amount_is_compared_with_the_amount_excluding_tax():
    # 12-digit code ending 11 (电子普票) with QR type 10: same kind
    code = "033002000211"
    excluding = "01,10,{},12345678,1409.50,20200914,12345678901234567890,A1B2,"
    assert (
        qrcheck.check_qr(
            e_ordinary(qr_payload=excluding.format(code)), context(), QR
        ).outcome
        is Outcome.PASS
    )
    including = excluding.replace("1409.50", "1494.07")
    outcome = qrcheck.check_qr(
        e_ordinary(qr_payload=including.format(code)), context(), QR
    )
    assert outcome.outcome is Outcome.FAIL
    assert outcome.details["amount_basis"] == "amount"


def test_a_general_machine_qr_may_carry_either_total():
    base = "01,99,144031900110,01234567,{},20240528,,0000"
    for amount in ("4449.00", "4197.17"):
        inv = general_machine(qr_payload=base.format(amount))
        assert qrcheck.check_qr(inv, context(), QR).outcome is Outcome.PASS
    inv = general_machine(qr_payload=base.format("1.00"))
    assert qrcheck.check_qr(inv, context(), QR).outcome is Outcome.FAIL


# --- negative discount lines -------------------------------------------------------


def fuel_invoice(**changes):
    """A 成品油 invoice: 30 litres at 7.20, a 20.00 discount line, 13 %."""
    lines = [
        line(
            name="*汽油*92号车用汽油(VIB)",
            unit="升",
            quantity=D("30"),
            unit_price=D("7.20"),
            amount=D("216.00"),
            tax_rate=D("0.13"),
            tax_amount=D("28.08"),
        ),
        line(
            name="*汽油*92号车用汽油(VIB)",
            amount=D("-20.00"),
            tax_rate=D("0.13"),
            tax_amount=D("-2.60"),
        ),
    ]
    base = {
        "lines": lines,
        "amount": D("196.00"),
        "tax_amount": D("25.48"),
        "total_amount": D("221.48"),
        "total_in_words": "贰佰贰拾壹圆肆角捌分",
        "qr_payload": "",
    }
    return digital_special(**{**base, **changes})


ARITHMETIC = [
    (arithmetic.check_line_amounts, "arithmetic.line_amount"),
    (arithmetic.check_line_taxes, "arithmetic.line_tax"),
    (arithmetic.check_line_sums, "arithmetic.line_sums"),
    (arithmetic.check_invoice_tax, "arithmetic.invoice_tax"),
    (arithmetic.check_total, "arithmetic.total"),
    (arithmetic.check_capitals, "arithmetic.capitals"),
]


@pytest.mark.parametrize(("check", "code"), ARITHMETIC)
def test_a_negative_discount_line_that_reduces_the_total_passes(check, code):
    outcome = check(fuel_invoice(), context(), params(code))
    assert outcome.outcome is Outcome.PASS, outcome.message_en


def test_a_discount_line_printing_its_sign_on_the_amount_only_passes():
    inv = fuel_invoice()
    discount = dataclasses.replace(inv.lines[1], quantity=D("1"), unit_price=D("20.00"))
    inv = dataclasses.replace(inv, lines=[inv.lines[0], discount])
    outcome = arithmetic.check_line_amounts(
        inv, context(), params("arithmetic.line_amount")
    )
    assert outcome.outcome is Outcome.PASS
    assert outcome.details["lines_checked"] == 2


def test_totals_must_still_add_up_with_a_discount_line():
    # the discount left out of the totals: the lines no longer add up
    inv = fuel_invoice(
        amount=D("216.00"), tax_amount=D("28.08"), total_amount=D("244.08")
    )
    outcome = arithmetic.check_line_sums(inv, context(), params("arithmetic.line_sums"))
    assert outcome.outcome is Outcome.FAIL
    wrong_tax = fuel_invoice(
        lines=[
            fuel_invoice().lines[0],
            dataclasses.replace(fuel_invoice().lines[1], tax_amount=D("2.60")),
        ]
    )
    outcome = arithmetic.check_line_taxes(
        wrong_tax, context(), params("arithmetic.line_tax")
    )
    assert outcome.outcome is Outcome.FAIL


def test_a_clean_discounted_invoice_is_approved_under_default_rules():
    inv = fuel_invoice()
    record = dataclasses.replace(
        context().registry,
        amount=inv.amount,
        tax_amount=inv.tax_amount,
        total_amount=inv.total_amount,
    )
    routing = route(run_checks(inv, context(registry=record)))
    assert routing.decision is Decision.APPROVE, routing.reasons
