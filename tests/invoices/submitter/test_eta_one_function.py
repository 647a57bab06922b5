"""Issue 12: the list's expected decision equals the invoice page's (and the API's)
for every row, the queue counted whole (other organizations' tasks and the rows on
other pages included); decided invoices show when they were decided."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from invoiceportal.invoices import selectors as invoice_selectors
from invoiceportal.invoices.status import InvoiceStatus
from tests.factories import UserFactory

from .helpers import make_invoice, reviewer_decides, to_review

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ROW = re.compile(
    r'<tr data-invoice="(?P<id>[0-9a-f-]+)">.*?<td class="small" data-eta>'
    r"(?P<eta>.*?)</td>",
    re.S,
)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def seeded_queue(submitter, reviewer, other_organization, monkeypatch):
    """30 open review tasks across priorities (half another organization's), a
    history of decisions for the throughput, three decided invoices of ours."""
    monkeypatch.setattr(invoice_selectors, "PAGE_SIZE", 10)
    start = dt.datetime(2026, 11, 30, 9, 30, tzinfo=SHANGHAI)  # a Monday
    other = UserFactory(role="submitter", organization=other_organization)
    org = submitter.organization
    with time_machine.travel(start, tick=False) as clock:
        decided = []
        for _ in range(6):
            invoice = to_review(make_invoice(org, submitter))
            clock.shift(dt.timedelta(minutes=20))
            reviewer_decides(invoice, reviewer, "approve")
            decided.append(invoice)
        ours = []
        for i in range(30):
            owner = (submitter, org) if i % 2 else (other, other_organization)
            invoice = make_invoice(owner[1], owner[0], priority=i % 3)
            clock.shift(dt.timedelta(minutes=1))
            to_review(invoice)
            if owner[0] is submitter:
                ours.append(invoice)
    return {"now": start + dt.timedelta(hours=3), "ours": ours, "decided": decided}


def _list_rows(client) -> dict[str, str]:
    rows: dict[str, str] = {}
    url = "/invoices/"
    while url:
        html = client.get(url).content.decode()
        rows |= {m["id"]: _text(m["eta"]) for m in ROW.finditer(html)}
        nxt = re.search(r'id="next-page" href="([^"]+)"', html)
        url = "/invoices/" + nxt.group(1).replace("&amp;", "&") if nxt else ""
    return rows


def test_list_eta_equals_invoice_page_and_api_for_every_row(
    client, submitter, seeded_queue
):
    client.force_login(submitter)
    with time_machine.travel(seeded_queue["now"], tick=False):
        rows = _list_rows(client)
        assert len(rows) == 15 + 6  # ours: open and decided, over three pages
        for invoice in seeded_queue["ours"]:
            page = client.get(f"/invoices/{invoice.id}/").content.decode()
            shown = re.search(r'id="eta"><strong>([^<]+)</strong>', page)
            assert shown, "the invoice page shows an expected time"
            assert rows[str(invoice.id)] == shown.group(1), invoice.reference
            api = client.get(f"/api/v1/invoices/{invoice.id}/").json()
            expected = dt.datetime.fromisoformat(api["eta"])
            local = timezone.localtime(expected).strftime("%Y-%m-%d %H:%M")
            assert local == rows[str(invoice.id)]
        positions = []
        for invoice in seeded_queue["ours"]:
            page = client.get(f"/invoices/{invoice.id}/").content.decode()
            found = re.search(r'id="queue-position">(\d+)<', page)
            positions.append(int(found.group(1)))
        # Counted over the whole queue: the other organization's tasks are ahead
        # of some of ours, so our places are not 1..15.
        assert sorted(positions) != list(range(1, 16))
        assert max(positions) > 15


def test_decided_invoices_show_decided_at_not_an_expected_time(
    client, submitter, seeded_queue
):
    client.force_login(submitter)
    with time_machine.travel(seeded_queue["now"], tick=False):
        rows = _list_rows(client)
        for invoice in seeded_queue["decided"]:
            invoice.refresh_from_db()
            assert invoice.status == InvoiceStatus.APPROVED
            assert rows[str(invoice.id)].startswith(("Decided at", "决定时间"))
            page = client.get(f"/invoices/{invoice.id}/").content.decode()
            assert 'id="eta"' not in page
            assert client.get(f"/api/v1/invoices/{invoice.id}/").json()["eta"] is None
