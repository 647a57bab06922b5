"""Fixtures of the admin-page tests: the queue's defaults seeded (2026 holidays, the
three SLA policies, the reasons) and invoices in review from the queue's helpers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from reviews.models import ReviewTask
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_open
from tests.reviews.queue.conftest import make_invoice


@pytest.fixture(autouse=True)
def _defaults(db: Any) -> None:
    seed_defaults()


@pytest.fixture
def make_task(organization, submitter):
    def make(**changes: Any) -> ReviewTask:
        invoice = make_invoice(organization, submitter, **changes)
        with transaction.atomic():
            return review_task_open(invoice=invoice)

    return make
