"""Real-world PDF variants (issue 9) generated with ground truth, read back."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.pdf_reader import read_pdf
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from tests.docgen.pdf_doc import Doc, Style, _page_docs, field_diff, render_pages
from tests.docgen.variants_pdf import (
    air_itinerary,
    air_truth,
    draw_air,
    draw_rail,
    fuel_discount,
    general_machine,
    legacy_seller_bottom,
    multipage,
    rail_ticket,
    rail_truth,
    ride_hailing_discount,
    ticket_xbrl,
)


@pytest.mark.parametrize("seed", range(4))
def test_the_legacy_seller_block_below_the_total_is_the_sellers(seed):
    # the vertical 销售方 label is not in the text layer: position alone tells
    pdf, truth = legacy_seller_bottom(seed)

    got = read_pdf(pdf)

    assert (got.seller_name, got.seller_tax_id) == (
        truth.seller_name,
        truth.seller_tax_id,
    )
    assert (got.buyer_name, got.buyer_tax_id) == (truth.buyer_name, truth.buyer_tax_id)
    assert field_diff(truth, got) == {}


@pytest.mark.parametrize(("seed", "pages"), [(1, 2), (2, 2), (3, 3), (4, 3)])
def test_a_multipage_invoice_gives_every_line_once_and_the_last_pages_totals(
    seed, pages
):
    pdf, truth = multipage(seed, pages)

    got = read_pdf(pdf)

    assert len(got.lines) == len(truth.lines)
    assert [ln.amount for ln in got.lines] == [ln.amount for ln in truth.lines]
    assert (got.amount, got.tax_amount, got.total_amount) == (
        truth.amount,
        truth.tax_amount,
        truth.total_amount,
    )
    assert field_diff(truth, got) == {}


def test_the_qr_is_decoded_from_a_later_page_when_the_first_shows_none():
    _pdf, truth = multipage(5, 2)
    docs = _page_docs(truth, Style(), 2)
    docs[0].qrs.clear()

    got = read_pdf(render_pages(docs))

    assert got.qr_payload == truth.qr_payload
    assert got.readings["qr_payload"].source is FieldSource.QR
    assert got.readings["number"].confidence == 1.0  # text and QR agree


@pytest.mark.parametrize("seed", range(4))
def test_a_general_machine_printed_invoice_is_not_a_vat_invoice(seed):
    pdf, truth = general_machine(seed)

    got = read_pdf(pdf)

    assert got.kind is InvoiceKind.GENERAL_MACHINE
    assert field_diff(truth, got) == {}
    assert got.tax_amount is None


def test_a_general_machine_code_ending_in_11_does_not_make_it_an_e_ordinary():
    pdf, truth = next(
        (p, t) for p, t in map(general_machine, range(50)) if t.code.endswith("11")
    )

    got = read_pdf(pdf)

    assert got.code == truth.code
    assert got.kind is InvoiceKind.GENERAL_MACHINE


@pytest.mark.parametrize("seed", range(4))
def test_a_rail_ticket_is_read_by_label_and_position(seed):
    pdf, truth = rail_ticket(seed)

    got = read_pdf(pdf)

    assert got.kind is InvoiceKind.RAIL_TICKET
    assert field_diff(truth, got) == {}
    assert got.extras == truth.extras
    assert got.tax_amount is None and got.amount is None  # no tax printed
    assert got.readings["total_amount"].confidence == 1.0  # the QR agrees


@pytest.mark.parametrize("seed", range(4))
def test_an_air_itinerary_is_read_by_label_and_position(seed):
    pdf, truth = air_itinerary(seed)

    got = read_pdf(pdf)

    assert got.kind is InvoiceKind.AIR_ITINERARY
    assert field_diff(truth, got) == {}
    assert got.extras == truth.extras
    assert got.amount is None  # 合计 includes the CAAC fund: nothing derived


def test_a_rail_ticket_attachment_is_read_first_and_the_page_fills_the_rest():
    truth = rail_truth(random.Random(8))
    page = dataclasses.replace(truth, buyer_name="印错的公司名称有限公司")
    attach = {f"rai_issuer_{truth.number}.xml": ticket_xbrl(truth)}

    got = read_pdf(render_pages([draw_rail(page)], attachments=attach))

    assert got.buyer_name == truth.buyer_name  # the attachment wins
    assert got.readings["buyer_name"].source is FieldSource.XML
    assert got.readings["number"].source is FieldSource.XML
    assert got.extras == truth.extras  # passenger and trip from the page
    assert field_diff(truth, got) == {}


def test_an_air_itinerary_attachment_is_read_first():
    truth = air_truth(random.Random(9))
    page = dataclasses.replace(truth, tax_amount=truth.tax_amount + Decimal("1.00"))
    attach = {f"atr_issuer_{truth.number}.xml": ticket_xbrl(truth)}

    got = read_pdf(render_pages([draw_air(page)], attachments=attach))

    assert got.tax_amount == truth.tax_amount
    assert got.readings["tax_amount"].source is FieldSource.XML
    assert got.extras["air"]["segments"] == truth.extras["air"]["segments"]


@pytest.mark.parametrize("make", [ride_hailing_discount, fuel_discount])
@pytest.mark.parametrize("seed", range(3))
def test_negative_discount_lines_are_read_as_lines(make, seed):
    pdf, truth = make(seed)

    got = read_pdf(pdf)

    negative = [ln for ln in got.lines if ln.amount is not None and ln.amount < 0]
    assert len(negative) == len([ln for ln in truth.lines if ln.amount < 0]) > 0
    assert all(ln.tax_amount < 0 for ln in negative)
    assert field_diff(truth, got) == {}


def test_an_attachment_with_entities_is_refused_as_unsafe():
    truth = rail_truth(random.Random(10))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x xmlns="http://xbrl.mof.gov.cn/taxonomy/2021-11-30/rai">&b;</x>'
    )
    attach = {f"rai_issuer_{truth.number}.xml": bomb}

    with pytest.raises(ExtractionError) as caught:
        read_pdf(render_pages([draw_rail(truth)], attachments=attach))

    assert caught.value.code == "unsafe_xml"


def test_an_attachment_that_is_not_a_ticket_is_ignored():
    truth = rail_truth(random.Random(11))
    attach = {"invoice_note.txt": b"not xml at all", "rai_issuer_x.xml": b"<broken"}

    got = read_pdf(render_pages([draw_rail(truth)], attachments=attach))

    assert got.readings["number"].source is FieldSource.PDF_TEXT
    assert field_diff(truth, got) == {}


def test_a_page_of_another_document_saved_with_the_invoice_is_not_read_into_it():
    # a ride-hailing trip list saved after the invoice: its own 合计, no 发票号码
    truth = ride_hailing_discount(4)[1]
    invoice_page = _page_docs(truth, Style(), 1)[0]
    trip_list = Doc(Style())
    trip_list.text(120, 14, "行程单", size=15, align="center")
    for x, title in ((20, "序号"), (50, "上车时间"), (100, "起点"), (150, "终点")):
        trip_list.text(x, 30, title)
    trip_list.text(200, 30, "金额")
    trip_list.text(20, 36, "1")
    trip_list.text(200, 36, "¥18.50")
    trip_list.text(20, 44, "合计")
    trip_list.text(200, 44, "¥18.50")

    got = read_pdf(render_pages([invoice_page, trip_list]))

    assert field_diff(truth, got) == {}
