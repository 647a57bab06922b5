from __future__ import annotations

import datetime as dt

import pytest

from invoiceportal.invoices.extraction.types import InvoiceKind
from reviews.checks.base import Outcome
from reviews.checks.identity import (
    DEFAULT_PARAMS,
    check_identity,
    decode_digital_number,
    decode_legacy_code,
)

from . import context, digital_special, e_ordinary

P = DEFAULT_PARAMS
K = InvoiceKind


def run(inv, **params):
    return check_identity(inv, context(), {**P, **params})


def test_decodes_the_real_codes() -> None:
    zhejiang = decode_legacy_code("033002000211")
    guizhou = decode_legacy_code("052002100113")
    assert (zhejiang.region, zhejiang.year) == ("3300", 2020)
    assert (guizhou.region, guizhou.year) == ("5200", 2021)
    paper = decode_legacy_code("1100191130")
    assert (paper.region, paper.year) == ("1100", 2019)


def test_decodes_the_real_digital_numbers() -> None:
    beijing = decode_digital_number("24112000000048542163")
    shenzhen = decode_digital_number("24952000000031722382")
    assert (beijing.region, beijing.year) == ("11", 2024)
    assert (shenzhen.region, shenzhen.year) == ("95", 2024)


@pytest.mark.parametrize(
    "inv",
    [
        digital_special(),
        digital_special(
            kind=K.DIGITAL_ORDINARY,
            number="24952000000031722382",
            issue_date=dt.date(2024, 3, 15),
        ),
        e_ordinary(),
        e_ordinary(
            kind=K.E_SPECIAL, code="052002100113", issue_date=dt.date(2021, 7, 1)
        ),
        e_ordinary(kind=K.E_TOLL, code="033002000212"),
        e_ordinary(kind=K.PAPER_SPECIAL, code="3300201130", check_code=""),
        e_ordinary(kind=K.PAPER_SPECIAL, code="3300201530", check_code=""),
        e_ordinary(kind=K.PAPER_ORDINARY, code="3300201330"),
        e_ordinary(kind=K.PAPER_ORDINARY, code="3300201630"),
        e_ordinary(kind=K.PAPER_ORDINARY, code="044031900104"),
        e_ordinary(kind=K.PAPER_ORDINARY, code="044031900105"),
        e_ordinary(check_code=""),  # a check code not read is not a format error
    ],
)
def test_well_formed_identities_pass(inv) -> None:
    result = run(inv)
    assert result.outcome is Outcome.PASS, result.message_en


def test_pass_details_carry_the_decoded_region_and_year() -> None:
    assert run(e_ordinary()).details["region"] == "3300"
    assert run(digital_special()).details["year"] == 2024


@pytest.mark.parametrize(
    ("inv", "fragment"),
    [
        (digital_special(kind=K.OTHER), "not recognised"),
        (digital_special(number="2411200000004854216"), "20 digits"),
        (digital_special(number="2411200000004854216X"), "20 digits"),
        (digital_special(code="033002000211"), "has no code"),
        (digital_special(number="24882000000048542163"), "region 88"),
        (digital_special(issue_date=dt.date(2025, 1, 2)), "year 2024"),
        (e_ordinary(code="033002000213"), "does not fit"),  # 专票 code on a 普票
        (e_ordinary(kind=K.E_SPECIAL), "does not fit"),
        (e_ordinary(kind=K.E_TOLL), "does not fit"),
        (e_ordinary(code="33002000211"), "does not fit"),  # 11 digits
        (e_ordinary(code="133002000211"), "does not fit"),  # must start with 0
        (e_ordinary(kind=K.PAPER_SPECIAL, code="3300201330"), "does not fit"),
        (e_ordinary(kind=K.PAPER_ORDINARY, code="3300201130"), "does not fit"),
        (e_ordinary(kind=K.PAPER_ORDINARY, code="044031900111"), "does not fit"),
        (e_ordinary(number="1234567"), "8 digits"),
        (e_ordinary(check_code="123456"), "check code"),
        (e_ordinary(code="099002000211"), "region 9900"),
        (e_ordinary(issue_date=dt.date(2019, 12, 31)), "year 2020"),  # code after date
        (e_ordinary(issue_date=dt.date(2024, 1, 1)), "year 2020"),  # code too old
    ],
)
def test_malformed_identities_fail(inv, fragment: str) -> None:
    result = run(inv)
    assert result.outcome is Outcome.FAIL
    assert fragment in result.message_en
    assert "upload the XML or OFD original" in result.message_en
    assert "请上传XML或OFD原件" in result.message_zh


def test_thresholds_are_parameters() -> None:
    old = e_ordinary(issue_date=dt.date(2024, 1, 1))
    assert run(old, max_code_age_years=4).outcome is Outcome.PASS
    late = digital_special(issue_date=dt.date(2025, 1, 2))
    assert run(late, digital_year_tolerance=1).outcome is Outcome.PASS
    qingdao_like = digital_special(number="24882000000048542163")
    assert run(qingdao_like, digital_city_codes=["88"]).outcome is Outcome.PASS


def test_unconfirmed_city_codes_are_parameters() -> None:
    ningbo = digital_special(number="24932000000048542163")
    assert run(ningbo).outcome is Outcome.PASS
    assert run(ningbo, digital_city_codes=["92", "94", "95"]).outcome is Outcome.FAIL
