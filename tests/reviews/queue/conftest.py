"""Fixtures of the review-queue tests: invoices in review with their task, reviewers
from the review centre, a clock on a plain 2026 working Monday."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from accounts.roles import Role
from invoiceportal.invoices.models import Invoice
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import ReviewTask, SecondReviewRule
from reviews.queue.services import review_task_open
from tests import factories
from tests.factories import OrganizationFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a plain working Monday
_refs = itertools.count(1)
_numbers = itertools.count(10_000_000)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def make_invoice(organization: Any, submitter: Any, **changes: Any) -> Invoice:
    """An invoice moved to review by the lifecycle, no task yet
    (``tests.factories.make_invoice``)."""
    fields: dict[str, Any] = {
        "reference": f"INV-2026-{next(_refs):06d}",
        "number": f"{next(_numbers):020d}",
        "status": InvoiceStatus.IN_REVIEW,
        "issue_date": dt.date(2026, 2, 27),
        "document": False,
    }
    return factories.make_invoice(organization, submitter, **(fields | changes))


def open_task(organization: Any, submitter: Any, **changes: Any) -> ReviewTask:
    """An invoice routed to review, as screening leaves it: task queued."""
    invoice = make_invoice(organization, submitter, **changes)
    with transaction.atomic():
        return review_task_open(invoice=invoice)


@pytest.fixture(autouse=True)
def _defaults(db: Any, reference_data: None) -> None:
    """The migrations' rows, put back by ``reference_data`` (tests/conftest.py) after
    a transactional test flushed them."""


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
def two_claims(settings: Any) -> None:
    """Reviewers may hold two claimed tasks at once."""
    settings.REVIEW_MAX_OPEN_CLAIMS = 2


@pytest.fixture
def no_four_eyes(db):
    SecondReviewRule.objects.update(enabled=False)
