"""Issue 12: search finds a partial reference; an invalid filter is named and the
other filters still apply (not "everything")."""

from __future__ import annotations

import re

from .helpers import make_invoice

ROW_REFERENCE = r'<tr data-invoice="[^"]+">\s*<td[^>]*><a [^>]*>([^<]+)</a>'


def _refs(html: str) -> set[str]:
    return set(re.findall(ROW_REFERENCE, html))


def test_search_finds_a_partial_reference(client, submitter):
    org = submitter.organization
    wanted = make_invoice(org, submitter, reference="INV-2026-000012")
    make_invoice(org, submitter, reference="INV-2026-000345")
    client.force_login(submitter)
    assert _refs(client.get("/invoices/", {"q": "000012"}).content.decode()) == {
        wanted.reference
    }
    api = client.get("/api/v1/invoices/", {"q": "000012"}).json()
    assert [r["reference"] for r in api["results"]] == [wanted.reference]


def test_invalid_filter_names_the_field_and_keeps_the_other_filters(client, submitter):
    org = submitter.organization
    cheap = make_invoice(org, submitter, seller_name="甲公司")
    make_invoice(org, submitter, seller_name="乙公司")
    client.force_login(submitter)
    client.cookies["django_language"] = "en"
    submitter.language = "en"
    submitter.save(update_fields=["language"])
    html = client.get(
        "/invoices/", {"seller": "甲公司", "amount_min": "lots"}
    ).content.decode()
    errors = re.search(r'id="filter-errors">(.*?)</div></div>', html, re.S)
    assert errors and "Total from" in errors.group(1)
    assert _refs(html) == {cheap.reference}  # the seller filter still applies
