"""The rule catalog: defaults as the issue states them, parameters, help text."""

from __future__ import annotations

import json
import re

import pytest

from reviews.checks.base import Action
from reviews.checks.catalog import RULES, RULES_BY_CODE, default_rules

EXPECTED_DEFAULTS = {
    "identity.format": Action.REVIEW,
    "kind.general_machine": Action.REVIEW,
    "parties.buyer_tax_id": Action.REJECT,
    "parties.buyer_name": Action.REVIEW,
    "parties.tax_id_form": Action.REVIEW,
    "arithmetic.line_amount": Action.REVIEW,
    "arithmetic.line_tax": Action.REVIEW,
    "arithmetic.line_sums": Action.REJECT,
    "arithmetic.total": Action.REJECT,
    "arithmetic.invoice_tax": Action.REVIEW,
    "arithmetic.capitals": Action.REJECT,
    "rates.valid_for_date": Action.REVIEW,
    "rates.category": Action.REVIEW,
    "dates.not_future": Action.REJECT,
    "dates.max_age": Action.REVIEW,
    "redletter.not_expense": Action.REJECT,
    "qr.consistent": Action.REVIEW,
    "tickets.deductible_vat": Action.INFO,
    "duplicates.exact": Action.REJECT,
    "duplicates.near": Action.REVIEW,
    "duplicates.file_hash": Action.REVIEW,
    "sellers.blocklist": Action.REJECT,
    "sellers.watchlist": Action.REVIEW,
    "amount.threshold": Action.REVIEW,
    "registry.status": Action.REJECT,
    "registry.match": Action.REVIEW,
    "extraction.confidence": Action.REVIEW,
    "audit.sample": Action.REVIEW,
}


def test_every_rule_has_the_default_outcome_of_the_issue() -> None:
    assert {r.code: r.default_outcome_on_fail for r in RULES} == EXPECTED_DEFAULTS


def test_codes_are_unique_and_enabled_by_default() -> None:
    assert len(RULES_BY_CODE) == len(RULES)
    assert all(r.default_enabled for r in RULES)
    assert set(default_rules()) == set(EXPECTED_DEFAULTS)


def test_issue_thresholds() -> None:
    assert RULES_BY_CODE["amount.threshold"].default_params["threshold"] == "100000.00"
    assert RULES_BY_CODE["audit.sample"].default_params["rate"] == 0.02
    assert RULES_BY_CODE["arithmetic.line_tax"].default_params["tolerance"] == "0.06"
    assert RULES_BY_CODE["arithmetic.line_amount"].default_params["tolerance"] == "0.01"
    assert RULES_BY_CODE["arithmetic.invoice_tax"].default_params["tolerance"] == "1.27"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_help_text_is_bilingual_and_complete(rule) -> None:
    for text in (rule.title_en, rule.description_en, rule.how_to_fix_en):
        # English text: Chinese only in quoted terms such as 数电票 or *餐饮服务*
        latin = re.sub(r"[\u4e00-\u9fff]+", "", text)
        assert len(latin.split()) >= 3 or text is rule.title_en, text
        assert text.strip() and latin.count(" ") >= 1, text
    for text in (rule.title_zh, rule.description_zh, rule.how_to_fix_zh):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_defaults_validate_and_are_json(rule) -> None:
    validation = rule.validate_params({})
    assert validation.ok, validation.errors
    assert set(validation.cleaned) == set(rule.default_params)
    assert {s.name for s in rule.param_specs} == set(rule.default_params)
    json.dumps(rule.default_params)  # stored in a JSON column


def errors_of(code: str, params: object) -> list[tuple[str, str, str]]:
    validation = RULES_BY_CODE[code].validate_params(params)
    return [(e.param, e.message_en, e.message_zh) for e in validation.errors]


@pytest.mark.parametrize(
    ("code", "params", "param", "fragment"),
    [
        ("amount.threshold", {"threshold": "lots"}, "threshold", "must be a number"),
        ("amount.threshold", {"threshold": "-1"}, "threshold", "at least 0"),
        ("amount.threshold", {"threshold": True}, "threshold", "must be a number"),
        ("amount.threshold", {"basis": "tax"}, "basis", "one of: total_amount, amount"),
        ("amount.threshold", {"treshold": "1"}, "treshold", "Unknown parameter"),
        ("audit.sample", {"rate": 2}, "rate", "between 0 and 1"),
        ("audit.sample", {"rate": "x"}, "rate", "between 0 and 1"),
        ("audit.sample", {"salt": 5}, "salt", "must be text"),
        ("dates.max_age", {"max_age_days": 0}, "max_age_days", "at least 1"),
        ("dates.max_age", {"max_age_days": "soon"}, "max_age_days", "whole number"),
        ("dates.max_age", {"max_age_days": 1.5}, "max_age_days", "whole number"),
        ("arithmetic.line_tax", {"tolerance": "5"}, "tolerance", "at most 1.00"),
        ("arithmetic.total", {"reject_formats": ["docx"]}, "reject_formats", "'docx'"),
        ("arithmetic.total", {"reject_formats": "xml"}, "reject_formats", "list"),
        (
            "parties.tax_id_form",
            {"accept_legacy_forms": "yes"},
            "accept_legacy_forms",
            "true or false",
        ),
        ("identity.format", {"province_codes": ["1"]}, "province_codes", "well formed"),
        (
            "duplicates.exact",
            {"blocking_statuses": ["gone"]},
            "blocking_statuses",
            "not one of",
        ),
        ("registry.match", {"fields": ["colour"]}, "fields", "not one of"),
        ("rates.valid_for_date", {"periods": []}, "periods", "non-empty"),
        (
            "rates.valid_for_date",
            {"periods": [{"from": "2024-13-01", "until": None, "rates": ["0.13"]}]},
            "periods",
            "not a date",
        ),
        (
            "rates.valid_for_date",
            {
                "periods": [
                    {"from": "2024-02-01", "until": "2024-01-01", "rates": ["0.1"]}
                ]
            },
            "periods",
            "ends before it starts",
        ),
        (
            "rates.valid_for_date",
            {"periods": [{"from": None, "until": None, "rates": ["13"]}]},
            "periods",
            "fraction such as 0.13",
        ),
        ("rates.valid_for_date", {"periods": [{"from": None}]}, "periods", "exactly"),
        (
            "rates.category",
            {"categories": {"*餐饮*": ["0.06"]}},
            "categories",
            "not a category name",
        ),
        (
            "rates.category",
            {"categories": {"餐饮服务": []}},
            "categories",
            "needs a list of rates",
        ),
        ("rates.category", {"categories": ["餐饮服务"]}, "categories", "must map"),
    ],
)
def test_bad_admin_input_gets_clear_errors(
    code: str, params: dict, param: str, fragment: str
) -> None:
    errors = errors_of(code, params)
    assert len(errors) == 1, errors
    name, en, zh = errors[0]
    assert name == param
    assert fragment in en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)


def test_params_must_be_an_object() -> None:
    assert errors_of("amount.threshold", ["100"])[0][1] == (
        "Parameters must be a JSON object."
    )


def test_valid_input_is_cleaned() -> None:
    validation = RULES_BY_CODE["amount.threshold"].validate_params({"threshold": 5000})
    assert validation.ok
    assert validation.cleaned == {"threshold": "5000", "basis": "total_amount"}
    periods = [{"from": "2019-04-01", "until": None, "rates": [0.13, "0.09"]}]
    validation = RULES_BY_CODE["rates.valid_for_date"].validate_params(
        {"periods": periods}
    )
    assert validation.ok
    assert validation.cleaned["periods"][0]["rates"] == ["0.13", "0.09"]
