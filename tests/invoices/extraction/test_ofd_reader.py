from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.kinds import digital_kind, kind_from_code
from invoiceportal.invoices.extraction.ofd_reader import read_ofd
from invoiceportal.invoices.extraction.qr import parse_qr_payload
from invoiceportal.invoices.extraction.safety import Limits
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from tests.docgen.compare import (
    NOT_IN_DIGITAL_OFD,
    NOT_IN_LEGACY_OFD,
    assert_same_invoice,
)
from tests.docgen.ofd_doc import LAYOUTS, make_ofd
from tests.docgen.truth import DIGITAL_KINDS, E_KINDS, random_invoice

LINE_SKIP = frozenset({"tax_classification_code"})  # not printed on a 数电 page


def _rebuild(data: bytes, change) -> bytes:
    """Copy an OFD, passing each member through ``change(name, bytes)``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = change(info.filename, src.read(info))
            if content is not None:
                dst.writestr(info.filename, content)
    return out.getvalue()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_digital_ofd_round_trips_every_printed_field(layout: int) -> None:
    for seed in range(120):
        rng = random.Random(seed)
        truth = random_invoice(rng, kind=rng.choice(DIGITAL_KINDS))

        got = read_ofd(make_ofd(truth, layout=layout))

        assert_same_invoice(truth, got, skip=NOT_IN_DIGITAL_OFD, line_skip=LINE_SKIP)
        assert got.min_confidence() >= 0.9


@pytest.mark.parametrize("layout", LAYOUTS)
def test_legacy_ofd_round_trips_every_field(layout: int) -> None:
    for seed in range(120):
        rng = random.Random(seed)
        truth = random_invoice(rng, kind=rng.choice(E_KINDS))

        got = read_ofd(make_ofd(truth, legacy=True, layout=layout))

        assert_same_invoice(truth, got, skip=NOT_IN_LEGACY_OFD)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), legacy=st.booleans())
def test_ofd_round_trip_property(seed: int, legacy: bool) -> None:
    rng = random.Random(seed)
    truth = random_invoice(rng, kind=rng.choice(E_KINDS if legacy else DIGITAL_KINDS))

    got = read_ofd(make_ofd(truth, legacy=legacy))

    if legacy:
        assert_same_invoice(truth, got, skip=NOT_IN_LEGACY_OFD)
    else:
        assert_same_invoice(truth, got, skip=NOT_IN_DIGITAL_OFD, line_skip=LINE_SKIP)


def test_legacy_qr_payload_agrees_with_the_body() -> None:
    truth = random_invoice(random.Random(7), kind=InvoiceKind.E_ORDINARY)

    got = read_ofd(make_ofd(truth, legacy=True))
    qr = parse_qr_payload(got.qr_payload)

    assert qr is not None
    assert qr.kind is InvoiceKind.E_ORDINARY
    assert (qr.code, qr.number) == (got.code, got.number)
    assert qr.amount == got.amount
    assert qr.issue_date == got.issue_date
    assert qr.check_code == got.check_code


def test_legacy_fields_come_from_original_invoice_at_full_confidence() -> None:
    truth = random_invoice(random.Random(3), kind=InvoiceKind.E_SPECIAL)

    got = read_ofd(make_ofd(truth, legacy=True, layout=2))

    assert got.kind is InvoiceKind.E_SPECIAL
    for name in ("code", "number", "issue_date", "check_code", "amount", "lines"):
        assert got.readings[name].confidence == 1.0
        assert got.readings[name].source is FieldSource.OFD
    # the capitals are printed only: they come from the page through the tags
    assert got.readings["total_in_words"].confidence < 1.0


def test_digital_ofd_without_custom_datas_reads_the_tagged_page_text() -> None:
    truth = random_invoice(random.Random(11), kind=InvoiceKind.DIGITAL_SPECIAL)

    got = read_ofd(make_ofd(truth, layout=2))

    assert got.number == truth.number
    assert got.kind is InvoiceKind.DIGITAL_SPECIAL
    assert got.readings["number"].confidence == pytest.approx(0.95)


def test_custom_data_wins_over_contradicting_page_text_at_lower_confidence() -> None:
    truth = random_invoice(random.Random(5), kind=InvoiceKind.DIGITAL_ORDINARY)
    data = make_ofd(truth, layout=0)
    printed = f">{truth.amount:.2f}<".encode()

    def tamper(name: str, content: bytes) -> bytes:
        if name.endswith("Content.xml"):
            return content.replace(printed, b">1.00<")
        return content

    got = read_ofd(_rebuild(data, tamper))

    assert got.amount == truth.amount
    assert got.readings["amount"].confidence == 0.5


def test_real_legacy_codes_give_their_kinds() -> None:
    assert kind_from_code("033002000211") is InvoiceKind.E_ORDINARY
    assert kind_from_code("052002100113") is InvoiceKind.E_SPECIAL


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("044031900111", InvoiceKind.E_ORDINARY),
        ("044031900113", InvoiceKind.E_SPECIAL),
        ("044031900112", InvoiceKind.E_TOLL),
        ("044031900104", InvoiceKind.PAPER_ORDINARY),
        ("044031900105", InvoiceKind.PAPER_ORDINARY),
        ("1100194130", InvoiceKind.PAPER_SPECIAL),
        ("1100194530", InvoiceKind.PAPER_SPECIAL),
        ("1100194330", InvoiceKind.PAPER_ORDINARY),
        ("1100194630", InvoiceKind.PAPER_ORDINARY),
        ("1100194230", InvoiceKind.OTHER),
        ("044031900199", InvoiceKind.OTHER),
        ("", InvoiceKind.OTHER),
        ("12345", InvoiceKind.OTHER),
        ("04403190011A", InvoiceKind.OTHER),
    ],
)
def test_kind_from_code(code: str, kind: InvoiceKind) -> None:
    assert kind_from_code(code) is kind


def test_generated_legacy_codes_give_back_their_kind() -> None:
    for seed in range(300):
        truth = random_invoice(random.Random(seed))
        if truth.code:
            assert kind_from_code(truth.code) is truth.kind, truth.code


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("01", InvoiceKind.DIGITAL_SPECIAL),
        ("02", InvoiceKind.DIGITAL_ORDINARY),
        ("电子发票（增值税专用发票）", InvoiceKind.DIGITAL_SPECIAL),
        ("电子发票（普通发票）", InvoiceKind.DIGITAL_ORDINARY),
        ("03", InvoiceKind.OTHER),
    ],
)
def test_digital_kind(label: str, kind: InvoiceKind) -> None:
    assert digital_kind(label) is kind


def test_red_legacy_invoice_names_its_blue_number_from_the_remarks() -> None:
    for seed in range(400):
        truth = random_invoice(random.Random(seed), kind=InvoiceKind.E_ORDINARY)
        if truth.is_red:
            break
    else:  # pragma: no cover - the generator makes ~12 % red invoices
        pytest.fail("no red invoice generated")

    got = read_ofd(make_ofd(truth, legacy=True))

    assert got.is_red is True
    assert got.total_amount is not None and got.total_amount < 0
    assert got.red_of_number == truth.red_of_number != ""


def test_zip_without_ofd_xml_is_not_an_invoice() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")

    with pytest.raises(ExtractionError) as exc:
        read_ofd(out.getvalue())

    assert exc.value.code == "not_an_invoice"


def test_ofd_with_no_invoice_data_is_not_an_invoice() -> None:
    truth = random_invoice(random.Random(1), kind=InvoiceKind.DIGITAL_SPECIAL)

    def strip(name: str, content: bytes) -> bytes | None:
        if "Tags/" in name:
            return None
        if name == "OFD.xml":
            return b'<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'
        return content

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_rebuild(make_ofd(truth, layout=0), strip))

    assert exc.value.code == "not_an_invoice"


def test_entity_inside_an_ofd_member_is_refused() -> None:
    truth = random_invoice(random.Random(2), kind=InvoiceKind.DIGITAL_SPECIAL)
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<ofd:Page xmlns:ofd='http://www.ofdspec.org/2016'>&xxe;</ofd:Page>"
    )

    def poison(name: str, content: bytes) -> bytes:
        return evil if name.endswith("Content.xml") else content

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_rebuild(make_ofd(truth, layout=2), poison))

    assert exc.value.code == "unsafe_xml"


def test_bomb_member_inside_an_ofd_is_refused() -> None:
    truth = random_invoice(random.Random(2), kind=InvoiceKind.DIGITAL_SPECIAL)
    bomb = b"<a>" + b" " * (8 * 1024 * 1024) + b"</a>"

    def add_bomb(name: str, content: bytes) -> bytes:
        return bomb if name.endswith("CustomTag.xml") else content

    with pytest.raises(ExtractionError) as exc:
        read_ofd(
            _rebuild(make_ofd(truth), add_bomb),
            limits=Limits(ratio_floor_bytes=64 * 1024, max_compression_ratio=100),
        )

    assert exc.value.code == "zip_bomb"


def test_too_many_pages_are_refused() -> None:
    truth = random_invoice(random.Random(4), kind=InvoiceKind.DIGITAL_SPECIAL)

    with pytest.raises(ExtractionError) as exc:
        read_ofd(make_ofd(truth, layout=0), limits=Limits(max_pdf_pages=0))

    assert exc.value.code == "too_many_pages"


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_ofd_is_a_corrupt_archive(keep: float) -> None:
    truth = random_invoice(random.Random(6), kind=InvoiceKind.E_ORDINARY)
    data = make_ofd(truth, legacy=True)

    with pytest.raises(ExtractionError) as exc:
        read_ofd(data[: int(len(data) * keep)])

    assert exc.value.code == "corrupt_archive"


def test_real_shape_custom_datas_only() -> None:
    """An OFD whose only data is OFD.xml's CustomDatas (as some issuers produce)."""
    ofd_xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD" Version="1.0">'
        "<ofd:DocBody><ofd:DocInfo><ofd:DocID>2195d5df959c419cb575dab5eeabb065</ofd:DocID>"
        "<ofd:CustomDatas>"
        '<ofd:CustomData Name="native-producer">SuwellFormSDK</ofd:CustomData>'
        '<ofd:CustomData Name="发票号码">24112000000048542163</ofd:CustomData>'
        '<ofd:CustomData Name="开票日期">2024年05月28日</ofd:CustomData>'
        '<ofd:CustomData Name="合计金额">4197.17</ofd:CustomData>'
        '<ofd:CustomData Name="合计税额">251.83</ofd:CustomData>'
        '<ofd:CustomData Name="购买方纳税人识别号">914403001922038216</ofd:CustomData>'
        '<ofd:CustomData Name="销售方纳税人识别号">91110108690017781B</ofd:CustomData>'
        "</ofd:CustomDatas></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("OFD.xml", ofd_xml)

    inv = read_ofd(out.getvalue())

    assert inv.number == "24112000000048542163"
    assert inv.issue_date == dt.date(2024, 5, 28)
    assert inv.total_amount == Decimal("4449.00")  # derived: lower confidence
    assert inv.readings["total_amount"].confidence < inv.readings["amount"].confidence
    assert inv.seller_tax_id == "91110108690017781B"
    assert inv.kind is InvoiceKind.OTHER  # nothing says special or ordinary
