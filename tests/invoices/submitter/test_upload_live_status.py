"""Issue 12: after "received as INV-…" the upload page shows each file's screening
result and keeps it live (htmx polling of a small status line) until decided."""

from __future__ import annotations

import re

from django.urls import reverse

from invoiceportal.invoices.models import Invoice
from tests.invoices.test_pages import post_file, xml_for

from .helpers import reviewer_decides, to_review


def _status_line(html: str) -> str:
    found = re.search(r'<span class="upload-status[^>]*>', html)
    assert found, html
    return found.group(0)


def test_each_uploaded_file_shows_its_live_screening_result(
    client, submitter, reviewer
):
    client.force_login(submitter)
    _truth, data = xml_for(submitter.organization, 7)
    body = post_file(client, data).content.decode()
    invoice = Invoice.objects.get()
    line = _status_line(body)
    assert f'data-status="{invoice.status}"' in line
    if invoice.status in ("received", "screening", "in_review", "needs_info"):
        assert 'hx-trigger="every 3s"' in line
        poll = re.search(r'hx-get="([^"]+)"', line).group(1).replace("&amp;", "&")
        assert poll.startswith(reverse("invoices:status", args=[invoice.id]))
        assert client.get(poll).status_code == 204  # nothing new yet
    if invoice.status in ("received", "screening"):
        to_review(invoice)
        invoice.refresh_from_db()
    if invoice.status == "in_review":
        reviewer_decides(invoice, reviewer, "reject", reason_code="wrong_buyer")
        invoice.refresh_from_db()
        changed = client.get(poll)
        assert changed.status_code == 200
        decided = _status_line(changed.content.decode())
        assert 'data-status="rejected"' in decided
        assert "hx-trigger" not in decided  # decided: polling stops


def test_the_status_line_of_an_invoice_in_each_state(client, submitter, reviewer):
    from .helpers import ask_for_info, make_invoice

    client.force_login(submitter)
    waiting = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    url = reverse("invoices:status", args=[waiting.id]) + "?part=upload"
    html = client.get(url).content.decode()
    assert 'data-status="needs_info"' in _status_line(html)
    assert reverse("invoices:detail", args=[waiting.id]) in html
