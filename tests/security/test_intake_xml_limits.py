"""Hostile XML shapes are refused before a tree is built, in well under a second
(issue 16, medium 8: a million flat elements took 58.8 s to refuse, 400,000 nested
levels 24 s)."""

from __future__ import annotations

import time

import pytest

from invoiceportal.invoices.extraction.dispatch import extract
from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.safety import Limits, safe_parse_xml
from invoiceportal.invoices.models import Invoice
from tests.conftest import api_as
from tests.docgen.xml_doc import make_xml
from tests.invoices.test_intake_api import digital_invoice, upload

HEAD = b'<?xml version="1.0" encoding="UTF-8"?><EInvoice><EIid>1</EIid>'
FLAT = HEAD + b"<a>1</a>" * 1_000_000 + b"</EInvoice>"  # 8 MB
DEEP = HEAD + b"<a>" * 400_000 + b"</a>" * 400_000 + b"</EInvoice>"  # 2.8 MB
WIDE = HEAD + b"<a " + b" ".join(b'n%d="1"' % i for i in range(400_000)) + b"/>"
WIDE += b"</EInvoice>"  # one start tag of 4.7 MB
# What the refusal may cost at most: measured 0.02 s here; the unbounded reader took
# 24 s and more.
BOUND_SECONDS = 1.0


@pytest.mark.parametrize("shape", ["flat", "deep", "wide"])
def test_hostile_shapes_are_refused_in_under_a_second(shape):
    data = {"flat": FLAT, "deep": DEEP, "wide": WIDE}[shape]
    started = time.perf_counter()
    with pytest.raises(ExtractionError) as refused:
        extract(data)
    elapsed = time.perf_counter() - started
    print(f"{shape}: {len(data) / 1e6:.1f} MB refused in {elapsed:.3f} s")
    assert refused.value.code == "xml_too_complex"
    assert refused.value.details == {"max_elements": 100_000, "max_depth": 64}
    assert elapsed < BOUND_SECONDS


def test_the_limits_are_exact():
    limits = Limits(max_xml_elements=10, max_xml_depth=3)
    safe_parse_xml(b"<r>" + b"<a/>" * 9 + b"</r>", limits)  # 10 elements
    safe_parse_xml(b"<r><a><b/></a></r>", limits)  # 3 levels
    for too_much in (b"<r>" + b"<a/>" * 10 + b"</r>", b"<r><a><b><c/></b></a></r>"):
        with pytest.raises(ExtractionError) as refused:
            safe_parse_xml(too_much, limits)
        assert refused.value.code == "xml_too_complex"


def test_the_parse_is_stopped_by_the_clock():
    limits = Limits(max_xml_elements=10**9, max_xml_seconds=0.0)
    with pytest.raises(ExtractionError) as refused:
        safe_parse_xml(HEAD + b"<a/>" * 2000 + b"</EInvoice>", limits)
    assert refused.value.code == "extraction_timeout"


def test_a_utf16_doctype_is_refused_by_the_pre_pass_without_expansion():
    doc = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        "<r>&a;</r>"
    ).encode("utf-16")
    with pytest.raises(ExtractionError) as refused:
        safe_parse_xml(doc)
    assert refused.value.code == "unsafe_xml"


def test_an_invoice_of_two_thousand_lines_is_still_read(submitter):
    truth = digital_invoice(11, submitter.organization)
    truth.lines = (truth.lines * 2000)[:2000]
    _fmt, extracted = extract(make_xml(truth))
    assert len(extracted.lines) == 2000


@pytest.mark.django_db
def test_the_api_answers_the_refusal_and_stores_nothing(submitter):
    started = time.perf_counter()
    response = upload(api_as(submitter), FLAT)
    elapsed = time.perf_counter() - started
    print(f"API refusal of the flat shape: {elapsed:.3f} s")
    assert response.status_code == 400
    assert response.json()["code"] == "xml_too_complex"
    assert Invoice.objects.count() == 0
    # the 8 MB multipart body is encoded and parsed too; the read alone took 58.8 s
    assert elapsed < 10 * BOUND_SECONDS
