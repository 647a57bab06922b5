"""Issue 14, "reads that write": default rows come from the migrations (and the
``reference_data`` fixture after a flush), never from a read path."""

from __future__ import annotations

import pytest
from django.db import transaction

from invoiceportal.common.errors import ApplicationError
from reviews.models import RejectionReason, SLAPolicy, WorkingPeriod
from reviews.queue.calendar import business_calendar, calendar_changed
from reviews.queue.selectors import rejection_reasons
from reviews.queue.services import review_task_open
from reviews.sla.calendar import DEFAULT_WORKING_PERIODS

from .conftest import make_invoice


def test_the_migrations_seeded_the_queue_tables() -> None:
    assert SLAPolicy.objects.count() == 3
    assert WorkingPeriod.objects.exists()
    assert RejectionReason.objects.filter(is_active=True).exists()


def test_an_empty_calendar_reads_the_default_hours_and_writes_nothing() -> None:
    WorkingPeriod.objects.all().delete()
    calendar_changed()
    assert business_calendar().working_periods == DEFAULT_WORKING_PERIODS
    assert not WorkingPeriod.objects.exists()


def test_no_reasons_reads_as_none_without_seeding() -> None:
    RejectionReason.objects.all().delete()
    assert rejection_reasons() == []
    assert not RejectionReason.objects.exists()


def test_a_missing_sla_policy_is_a_clear_error_not_a_silent_seed(
    organization, submitter
) -> None:
    SLAPolicy.objects.filter(priority=1).delete()
    invoice = make_invoice(organization, submitter)
    with transaction.atomic(), pytest.raises(ApplicationError) as caught:
        review_task_open(invoice=invoice)
    assert caught.value.code == "sla_policy_missing"
    assert SLAPolicy.objects.count() == 2
