from __future__ import annotations

import pytest

from reviews.checks.base import Action, Outcome
from reviews.checks.parties import (
    DEFAULT_FORM_PARAMS,
    check_buyer_name,
    check_buyer_tax_id,
    check_tax_id_forms,
)

from . import ORG_TAX_ID, context, digital_special


def test_buyer_tax_id_of_the_organization_passes() -> None:
    result = check_buyer_tax_id(digital_special(), context(), {})
    assert result.outcome is Outcome.PASS


@pytest.mark.parametrize(
    "written", [ORG_TAX_ID.lower(), f" {ORG_TAX_ID} ", "９１110108551385082Ｑ"]
)
def test_buyer_tax_id_is_compared_normalised(written: str) -> None:
    result = check_buyer_tax_id(digital_special(buyer_tax_id=written), context(), {})
    assert result.outcome is Outcome.PASS


def test_someone_elses_buyer_tax_id_fails_without_cap() -> None:
    inv = digital_special(buyer_tax_id="914403001922038216")
    result = check_buyer_tax_id(inv, context(), {})
    assert result.outcome is Outcome.FAIL
    assert result.max_action is None  # the rule's default, reject, applies
    assert "914403001922038216" in result.message_en
    assert "Ask the seller to issue a new invoice" in result.message_en
    assert "重新开具" in result.message_zh
    assert result.details["organization_tax_id"] == ORG_TAX_ID


def test_unread_buyer_tax_id_is_reviewed_not_rejected() -> None:
    result = check_buyer_tax_id(digital_special(buyer_tax_id=""), context(), {})
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW


@pytest.mark.parametrize(
    "name", ["小米科技有限责任公司", " 小米科技 有限责任公司 ", "小米科技有限责任公司"]
)
def test_buyer_name_matches_ignoring_width_and_spaces(name: str) -> None:
    ctx = context(organization_name="小米科技有限责任公司")
    result = check_buyer_name(digital_special(buyer_name=name), ctx, {})
    assert result.outcome is Outcome.PASS


def test_buyer_name_full_width_brackets() -> None:
    ctx = context(organization_name="华为技术有限公司(深圳)")
    inv = digital_special(buyer_name="华为技术有限公司（深圳）")
    assert check_buyer_name(inv, ctx, {}).outcome is Outcome.PASS


def test_other_buyer_name_fails() -> None:
    result = check_buyer_name(
        digital_special(buyer_name="小米通讯技术有限公司"), context(), {}
    )
    assert result.outcome is Outcome.FAIL
    assert "differs from your organization's name" in result.message_en
    assert "reviewer will confirm" in result.message_en


def test_buyer_name_skipped_without_data() -> None:
    assert (
        check_buyer_name(digital_special(buyer_name=""), context(), {}).outcome
        is Outcome.SKIPPED
    )
    ctx = context(organization_name="")
    assert check_buyer_name(digital_special(), ctx, {}).outcome is Outcome.SKIPPED


FORMS = DEFAULT_FORM_PARAMS


@pytest.mark.parametrize(
    ("seller", "buyer"),
    [
        ("914403001922038216", ORG_TAX_ID),
        ("9111000071093123XX", ORG_TAX_ID),
        ("92522726MA7GNHJ07M", ORG_TAX_ID),  # individual business
        ("71310106424845496E", ORG_TAX_ID),
        ("110108551385082", ORG_TAX_ID),  # 15-character older form
        ("914403001922038216", "11010519491231002X"),  # a natural person buyer
        ("914403001922038216", ""),  # a natural person without an ID on a 普票
    ],
)
def test_recognised_tax_id_forms_pass(seller: str, buyer: str) -> None:
    inv = digital_special(seller_tax_id=seller, buyer_tax_id=buyer)
    result = check_tax_id_forms(inv, context(), FORMS)
    assert result.outcome is Outcome.PASS, result.message_en


@pytest.mark.parametrize(
    ("seller", "buyer", "bad"),
    [
        ("91500102563638729E", ORG_TAX_ID, "seller"),
        ("9150010807MGZHI002", ORG_TAX_ID, "seller"),
        ("914403001922038216", "91110108717809965C", "buyer"),
        ("", ORG_TAX_ID, "seller"),
    ],
)
def test_invalid_tax_ids_go_to_review_never_reject(
    seller: str, buyer: str, bad: str
) -> None:
    inv = digital_special(seller_tax_id=seller, buyer_tax_id=buyer)
    result = check_tax_id_forms(inv, context(), FORMS)
    assert result.outcome is Outcome.FAIL
    assert result.max_action is Action.REVIEW
    assert [i["party"] for i in result.details["invalid"]] == [bad]
    assert "Unified Social Credit Code" in result.message_en
    assert "统一社会信用代码" in result.message_zh


def test_older_forms_can_be_refused_by_parameter() -> None:
    inv = digital_special(seller_tax_id="110108551385082")
    params = {**FORMS, "accept_legacy_forms": False}
    assert check_tax_id_forms(inv, context(), params).outcome is Outcome.FAIL
    inv = digital_special(buyer_tax_id="11010519491231002X")
    params = {**FORMS, "accept_personal_id": False}
    assert check_tax_id_forms(inv, context(), params).outcome is Outcome.FAIL
