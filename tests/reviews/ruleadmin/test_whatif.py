"""What-if: the recent invoices routed under a draft of a rule, against how they
were routed; read-only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.models import Invoice, TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus
from reviews.checks.base import Action
from reviews.checks.catalog import RuleConfig
from reviews.models import CheckResult, RegistryRecord, Rule, RuleVersion
from reviews.ruleadmin.whatif import rules_what_if
from reviews.rules import rule_update
from reviews.screening import screen_invoice
from tests.reviews.test_screening import make_invoice, register

D = Decimal
THRESHOLD = "amount.threshold"


def screened(organization: Any, submitter: Any, **changes: Any) -> Invoice:
    invoice = make_invoice(organization, submitter, **changes)
    register(invoice)
    screen_invoice(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    return invoice


def threshold(value: str, *, outcome: Action = Action.REVIEW) -> RuleConfig:
    return RuleConfig(
        enabled=True, outcome_on_fail=outcome, params={"threshold": value}
    )


def database_state() -> tuple[Any, ...]:
    return (
        {
            model._meta.label: model._default_manager.count()
            for model in apps.get_models()
            if model._meta.db_table in connection.introspection.table_names()
        },
        CheckResult.objects.count(),
        TimelineEvent.objects.count(),
        AuditEntry.objects.count(),
        sorted(Invoice.objects.values_list("reference", "status", "updated_at")),
        sorted(Rule.objects.values_list("code", "version", "params")),
        RuleVersion.objects.count(),
    )


@pytest.fixture
def approved(organization, submitter) -> Invoice:
    """4449.00 CNY, approved automatically."""
    invoice = screened(organization, submitter)
    assert invoice.status == InvoiceStatus.APPROVED
    return invoice


@pytest.fixture
def large(organization, submitter) -> Invoice:
    """A 9,000 CNY invoice, also approved under the default 100,000 threshold."""
    invoice = screened(
        organization,
        submitter,
        number="24112000000048542999",
        amount=D("8490.57"),
        tax_amount=D("509.43"),
        total_amount=D("9000.00"),
        total_in_words="玖仟圆整",
    )
    assert invoice.status == InvoiceStatus.APPROVED, invoice.decision_reason
    return invoice


def test_lowering_the_amount_threshold_moves_an_invoice_from_approve_to_review(
    approved: Invoice, large: Invoice
) -> None:
    report = rules_what_if(code=THRESHOLD, draft=threshold("5000"), days=30)

    assert report.evaluated == 2
    assert not report.truncated
    assert report.before == {"approve": 2, "review": 0, "reject": 0}
    assert report.after == {"approve": 1, "review": 1, "reject": 0}
    assert report.counts == [
        ("approve", 2, 1, -1),
        ("review", 0, 1, 1),
        ("reject", 0, 0, 0),
    ]
    [change] = report.changes
    assert (change.reference, change.before, change.after) == (
        large.reference,
        "approve",
        "review",
    )
    assert change.rules == (THRESHOLD,)
    assert change.caused_by_draft
    assert "9000.00" in change.message_en
    assert report.drifted == 0


def test_the_draft_action_decides_the_route(approved: Invoice) -> None:
    report = rules_what_if(
        code=THRESHOLD, draft=threshold("1000", outcome=Action.REJECT), days=30
    )

    assert report.after == {"approve": 0, "review": 0, "reject": 1}
    assert [c.after for c in report.changes] == ["reject"]


def test_disabling_the_rule_that_sent_an_invoice_to_review_approves_it(
    approved: Invoice, large: Invoice, admin_user, time_machine
) -> None:
    rule_update(
        actor=admin_user,
        code=THRESHOLD,
        params={"threshold": "5000"},
        change_note="Review above 5,000.",
    )
    time_machine.shift(dt.timedelta(hours=1))
    third = screened(
        approved.organization,
        approved.submitted_by,
        number="24112000000048542777",
        amount=D("5660.38"),
        tax_amount=D("339.62"),
        total_amount=D("6000.00"),
        total_in_words="陆仟圆整",
    )
    assert third.status == InvoiceStatus.IN_REVIEW

    report = rules_what_if(
        code=THRESHOLD,
        draft=RuleConfig(enabled=False, outcome_on_fail=Action.REVIEW),
        days=30,
    )

    assert report.before == {"approve": 2, "review": 1, "reject": 0}
    assert report.after == {"approve": 3, "review": 0, "reject": 0}
    [change] = report.changes
    assert (change.reference, change.before, change.after) == (
        third.reference,
        "review",
        "approve",
    )
    assert change.rules == (THRESHOLD,)


def test_an_unchanged_draft_changes_no_route(approved: Invoice, large: Invoice) -> None:
    report = rules_what_if(code=THRESHOLD, draft=threshold("100000.00"), days=30)

    assert report.before == report.after
    assert report.changes == []


def test_what_if_writes_nothing(approved: Invoice, large: Invoice) -> None:
    before = database_state()

    rules_what_if(code=THRESHOLD, draft=threshold("5000"), days=30)
    rules_what_if(
        code="duplicates.near",
        draft=RuleConfig(
            enabled=True,
            outcome_on_fail=Action.REJECT,
            params={"amount_tolerance": "1000", "date_window_days": 31},
        ),
        days=7,
    )

    assert database_state() == before


def test_only_invoices_of_the_last_days_are_compared(
    approved: Invoice, time_machine
) -> None:
    time_machine.shift(dt.timedelta(days=10))

    assert rules_what_if(code=THRESHOLD, draft=threshold("1"), days=7).evaluated == 0
    assert rules_what_if(code=THRESHOLD, draft=threshold("1"), days=30).evaluated == 1


def test_invoices_never_screened_are_counted_but_not_compared(
    organization, submitter, approved: Invoice
) -> None:
    make_invoice(organization, submitter, number="24112000000048542888")

    report = rules_what_if(code=THRESHOLD, draft=threshold("1"), days=30)

    assert (report.evaluated, report.not_screened) == (1, 1)


def test_the_comparison_is_bounded_and_says_so(
    approved: Invoice, large: Invoice
) -> None:
    report = rules_what_if(code=THRESHOLD, draft=threshold("5000"), days=30, limit=1)

    assert report.truncated
    assert report.evaluated == 1
    assert sum(report.before.values()) == 1


def test_a_later_copy_does_not_make_the_earlier_invoice_a_duplicate(
    large: Invoice, time_machine
) -> None:
    time_machine.shift(dt.timedelta(hours=1))
    copy = screened(
        large.organization,
        large.submitted_by,
        number="24112000000048542555",
        amount=large.amount,
        tax_amount=large.tax_amount,
        total_amount=large.total_amount,
        total_in_words=large.total_in_words,
    )
    assert copy.status == InvoiceStatus.IN_REVIEW  # a possible duplicate of `large`

    report = rules_what_if(code=THRESHOLD, draft=threshold("100000"), days=30)

    assert report.before == {"approve": 1, "review": 1, "reject": 0}
    assert report.after == report.before
    assert report.changes == []


def test_a_route_changed_by_later_data_is_not_blamed_on_the_draft(
    approved: Invoice,
) -> None:
    # Since it was screened, the registry learned that the invoice was voided.
    RegistryRecord.objects.filter(identity=approved.identity).update(status="void")

    report = rules_what_if(code=THRESHOLD, draft=threshold("100000"), days=30)

    assert report.drifted == 1
    [change] = report.changes
    assert change.after == "reject"
    assert not change.caused_by_draft
    assert change.rules == ("registry.status",)
