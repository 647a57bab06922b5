"""``GET /api/v1/invoices/``: keyset pages with next/previous cursor links, a bounded
count, a fixed number of queries whatever the page size."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoiceportal.invoices.models import Invoice
from tests.conftest import api_as

from .helpers import make_invoice

pytestmark = pytest.mark.django_db

LIST = "/api/v1/invoices/"


@pytest.fixture
def invoices(submitter):
    start = timezone.now() - dt.timedelta(days=3)
    rows = []
    for n in range(23):
        rows.append(
            make_invoice(
                submitter.organization,
                submitter,
                # pairs share a submission time: the id breaks the tie
                submitted_at=start + dt.timedelta(minutes=n // 2),
                total_amount=D(1000 + (n * 37) % 11),
                issue_date=None if n % 5 == 0 else dt.date(2026, 1, 1 + n % 7),
            )
        )
    return rows


def walk(client, params):
    """Every page forward, then every page back from the last one."""
    pages, url, query = [], LIST, dict(params)
    while url:
        body = client.get(url, query).json()
        pages.append(body)
        url, query = body["next"], None
    back, url = [], pages[-1]["previous"]
    while url:
        body = client.get(url).json()
        back.append(body)
        url = body["previous"]
    return pages, back


def ids(pages):
    return [row["id"] for page in pages for row in page["results"]]


def expected(ordering):
    name = ordering.lstrip("-")
    rows = list(Invoice.objects.all())
    present = [r for r in rows if getattr(r, name) is not None]
    missing = [r for r in rows if getattr(r, name) is None]
    desc = ordering.startswith("-")
    present.sort(key=lambda r: (getattr(r, name), r.pk), reverse=desc)
    missing.sort(key=lambda r: r.pk, reverse=desc)
    return [str(r.pk) for r in present + missing]


@pytest.mark.parametrize(
    "ordering", ["", "submitted_at", "-total_amount", "issue_date", "-issue_date"]
)
def test_next_and_previous_links_cover_every_invoice_once(
    submitter, invoices, ordering
):
    client = api_as(submitter)
    params = {"page_size": 5, **({"ordering": ordering} if ordering else {})}
    pages, back = walk(client, params)
    assert len(pages) == 5
    assert ids(pages) == expected(ordering or "-submitted_at")
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert [p["results"] for p in reversed(back)] == [p["results"] for p in pages[:-1]]
    assert {tuple(p) for p in pages} == {
        ("count", "count_capped", "next", "previous", "results")
    }
    assert all(p["count"] == 23 and p["count_capped"] is False for p in pages)
    assert "after=" in pages[0]["next"] and "before=" not in pages[0]["next"]


def test_filters_stay_in_the_links(submitter, invoices):
    client = api_as(submitter)
    Invoice.objects.filter(pk__in=[i.pk for i in invoices[:7]]).update(
        status="approved"
    )
    pages, _back = walk(client, {"status": "approved", "page_size": 3})
    assert len(ids(pages)) == 7
    assert all("status=approved" in (p["next"] or "status=approved") for p in pages)


def test_the_count_is_bounded(submitter, invoices, monkeypatch):
    from invoiceportal.invoices import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 10)
    body = api_as(submitter).get(LIST, {"page_size": 5}).json()
    assert body["count"] == 10 and body["count_capped"] is True


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"after": "not-a-cursor"}, "invalid_cursor"),
        ({"before": "%%%"}, "invalid_cursor"),
        ({"page_size": "0"}, "invalid_page_size"),
        ({"page_size": "201"}, "invalid_page_size"),
        ({"page_size": "ten"}, "invalid_page_size"),
    ],
)
def test_malformed_paging_is_refused_clearly(submitter, invoices, params, code):
    response = api_as(submitter).get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code and body["message"]


def test_a_cursor_of_another_ordering_is_refused(submitter, invoices):
    client = api_as(submitter)
    body = client.get(LIST, {"page_size": 5, "ordering": "-total_amount"}).json()
    cursor = body["next"].split("after=")[1].split("&")[0]
    response = client.get(LIST, {"after": cursor})  # default ordering: a date
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_an_unknown_ordering_is_refused(submitter, invoices):
    response = api_as(submitter).get(LIST, {"ordering": "seller_name"})
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "details"}


@pytest.mark.parametrize("size", [5, 50])
def test_the_list_reads_in_a_fixed_number_of_queries(
    submitter, invoices, size, django_assert_num_queries
):
    """A page (5 or 50 rows) with a cursor: the page's rows, the bounded count.
    First page of fewer rows than the page size: no count query at all."""
    client = api_as(submitter)
    first = client.get(LIST, {"page_size": 5}).json()
    cursor = first["next"].split("after=")[1].split("&")[0]
    with (
        CaptureQueriesContext(connection) as captured,
        django_assert_num_queries(2),
    ):
        response = client.get(LIST, {"page_size": size, "after": cursor})
    assert response.status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert len(counts) == 1 and "LIMIT" in counts[0]  # never a full COUNT(*)
    with django_assert_num_queries(1):
        assert client.get(LIST, {"page_size": 50}).json()["count"] == 23
