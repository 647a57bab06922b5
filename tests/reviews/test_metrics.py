"""GET /api/v1/metrics/summary/: the figures the portal is judged by."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from invoiceportal.invoices.models import Invoice
from reviews.metrics import metrics_summary
from tests.conftest import api_as
from tests.reviews.test_screening import make_invoice

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/summary/"


def decided(invoice: Invoice, *, source: str, minutes: float, status: str) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(
        status=status,
        decision_source=source,
        decided_at=invoice.submitted_at + dt.timedelta(minutes=minutes),
    )


def test_summary_reports_decision_times_and_the_automatic_share(
    organization: Any, submitter: Any, supervisor: Any
) -> None:
    now = timezone.now()
    invoices = [
        make_invoice(
            organization,
            submitter,
            number=f"2611200000000000{i:04d}",
            identity=f"2611200000000000{i:04d}",
            submitted_at=now - dt.timedelta(hours=1),
        )
        for i in range(4)
    ]
    decided(invoices[0], source="automatic", minutes=0.5, status="approved")
    decided(invoices[1], source="automatic", minutes=1.5, status="rejected")
    decided(invoices[2], source="reviewer", minutes=30, status="approved")
    body = api_as(supervisor).get(URL).json()
    assert body["submitted"] == 4
    assert body["decided"] == 3
    assert body["automatic_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert body["by_status"]["received"] == 1
    assert body["decision_time"]["automatic"]["median_seconds"] == pytest.approx(60)
    assert body["decision_time"]["reviewer"]["median_seconds"] == pytest.approx(1800)
    assert body["decision_time"]["all"]["median_seconds"] == pytest.approx(90)
    assert set(body["queue"]) == {"queued", "claimed", "waiting", "at_risk", "breached"}


def test_the_window_excludes_older_invoices(organization, submitter, admin_user):
    old = make_invoice(
        organization, submitter, submitted_at=timezone.now() - dt.timedelta(days=40)
    )
    decided(old, source="automatic", minutes=1, status="approved")
    body = api_as(admin_user).get(URL, {"days": 30}).json()
    assert body["submitted"] == 0
    assert body["automatic_share"] is None
    assert api_as(admin_user).get(URL, {"days": 60}).json()["submitted"] == 1


def test_bad_window_and_submitters_are_refused(submitter, supervisor):
    bad = api_as(supervisor).get(URL, {"days": 0})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert api_as(submitter).get(URL).status_code == 403


def test_decided_and_the_automatic_share_are_exact_beyond_the_sample(
    organization: Any, submitter: Any
) -> None:
    """Issue 14: ``decided`` was the number of rows read for the percentiles,
    silently capped at the sample size (50,000)."""
    now = timezone.now()
    for i in range(5):
        invoice = make_invoice(
            organization,
            submitter,
            number=f"2611300000000000{i:04d}",
            identity=f"2611300000000000{i:04d}",
            submitted_at=now - dt.timedelta(hours=2),
        )
        source = "automatic" if i < 4 else "reviewer"
        decided(invoice, source=source, minutes=10 + i, status="approved")

    summary = metrics_summary(now=now, sample=2)

    assert summary["decided"] == 5
    assert summary["automatic_share"] == pytest.approx(0.8)
    assert summary["decision_time_sample"] == 2
