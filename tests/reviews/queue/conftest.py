"""Fixtures of the review-queue tests: invoices in review with their task, reviewers
from the review centre, a clock on a plain 2026 working Monday."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from accounts.roles import Role
from invoiceportal.invoices.models import Invoice, InvoiceLine
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_open
from tests.factories import OrganizationFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a plain working Monday
_refs = itertools.count(1)
_numbers = itertools.count(10_000_000)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def make_invoice(organization: Any, submitter: Any, **changes: Any) -> Invoice:
    number = f"{next(_numbers):020d}"
    fields: dict[str, Any] = {
        "reference": f"INV-2026-{next(_refs):06d}",
        "organization": organization,
        "submitted_by": submitter,
        "status": InvoiceStatus.IN_REVIEW,
        "kind": "digital_special",
        "number": number,
        "identity": number,
        "issue_date": dt.date(2026, 2, 27),
        "seller_name": "北京某软件有限公司",
        "seller_tax_id": "91110108690017781B",
        "buyer_name": organization.name,
        "buyer_tax_id": organization.tax_id,
        "amount": Decimal("4197.17"),
        "tax_amount": Decimal("251.83"),
        "total_amount": Decimal("4449.00"),
        "total_in_words": "肆仟肆佰肆拾玖圆整",
    } | changes
    invoice = Invoice.objects.create(**fields)
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        name="*信息技术服务*软件服务费",
        quantity=Decimal(1),
        unit_price=fields["amount"],
        amount=fields["amount"],
        tax_rate=Decimal("0.06"),
        tax_amount=fields["tax_amount"],
    )
    return invoice


def open_task(organization: Any, submitter: Any, **changes: Any) -> ReviewTask:
    """An invoice routed to review, as screening leaves it: task queued."""
    invoice = make_invoice(organization, submitter, **changes)
    with transaction.atomic():
        return review_task_open(invoice=invoice)


@pytest.fixture(autouse=True)
def _defaults(db: Any) -> None:
    """Migration data is gone after a transactional test flushed the database."""
    seed_defaults()


@pytest.fixture(autouse=True)
def _monday(_defaults: None, time_machine: Any) -> None:
    # Defaults seeded (and the database set up) before the clock moves.
    time_machine.move_to(MONDAY, tick=False)


@pytest.fixture
def second_reviewer(review_centre):
    return UserFactory(role=Role.REVIEWER, organization=review_centre)


@pytest.fixture
def third_reviewer(db):
    return UserFactory(role=Role.REVIEWER, organization=OrganizationFactory())


@pytest.fixture
def make_task(organization, submitter):
    def make(**changes: Any) -> ReviewTask:
        return open_task(organization, submitter, **changes)

    return make


@pytest.fixture
def no_four_eyes(db):
    SecondReviewRule.objects.update(enabled=False)
