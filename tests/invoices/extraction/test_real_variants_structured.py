"""Real-file variants of XML and OFD invoices (issue 9): each read right, field by
field, and no repair opens a hole in the safety bounds."""

from __future__ import annotations

import io
import random
import zipfile
from decimal import Decimal

import pytest

from invoiceportal.invoices.extraction.dispatch import extract
from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.kinds import kind_from_title
from invoiceportal.invoices.extraction.ofd_reader import read_ofd
from invoiceportal.invoices.extraction.safety import safe_parse_xml
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from invoiceportal.invoices.extraction.xbrl import read_ticket_xbrl
from invoiceportal.invoices.extraction.xml_reader import read_xml
from invoiceportal.invoices.extraction.xmltools import repair_xml
from tests.docgen.compare import assert_same_invoice
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.truth import random_invoice
from tests.docgen.variants_structured import (
    VARIANTS,
    air_ofd,
    discount_xml,
    general_machine_ofd,
    legacy_ofd_broken_tag,
    legacy_ofd_unreadable_tag,
    rail_ofd,
    rail_xbrl,
    rebuild_zip,
    toll_xml,
)

SEEDS = range(25)
XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _member(data: bytes, suffix: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(suffix))
        return zf.read(name)


def _replace(data: bytes, suffix: str, content: bytes) -> bytes:
    return rebuild_zip(data, lambda n, c: content if n.endswith(suffix) else c)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_reads_every_field_right(variant: str) -> None:
    fmt, generate = VARIANTS[variant]
    for seed in SEEDS:
        data, truth = generate(seed)

        detected, got = extract(data)

        assert str(detected) == fmt
        assert_same_invoice(truth, got)
        # a clean genuine file must not go to a reviewer for a reading doubt
        assert got.min_confidence() >= 0.9, (seed, got.readings)


# --- 1. legacy OFD with a damaged custom tag part ----------------------------------


def test_the_real_broken_custom_tag_is_not_well_formed_and_is_repaired() -> None:
    data, truth = legacy_ofd_broken_tag(1)
    broken = _member(data, "Tags/CustomTag.xml")
    assert b'?><:eInvoice xmlns:="">' in broken  # the real files' opening
    with pytest.raises(ExtractionError) as exc:
        safe_parse_xml(broken)
    assert exc.value.code == "malformed_xml"

    got = read_ofd(data)

    assert_same_invoice(truth, got)
    # the trusted original_invoice.xml gives its fields in full; what only the
    # repaired part gives (the printed capitals) is read at lower confidence
    assert got.readings["number"].confidence == 1.0
    assert got.readings["total_in_words"].confidence == pytest.approx(0.9)


def test_a_custom_tag_beyond_repair_is_skipped_and_the_invoice_still_read() -> None:
    data, truth = legacy_ofd_unreadable_tag(2)

    got = read_ofd(data)

    assert_same_invoice(truth, got)
    assert got.total_in_words == ""
    assert "total_in_words" not in got.readings


def test_repair_xml_fixes_the_empty_prefix_and_declares_missing_prefixes() -> None:
    broken = (
        b'<?xml version="1.0" encoding="UTF-8"?><:eInvoice xmlns:="">'
        b'<:InvoiceNo><ofd:ObjectRef PageRef="1">7</ofd:ObjectRef></:InvoiceNo>'
        b"</:eInvoice>"
    )

    fixed = repair_xml(broken)

    assert fixed is not None
    assert fixed.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?><eInvoice xmlns:ofd='
    )
    assert b"<InvoiceNo><ofd:ObjectRef" in fixed
    assert repair_xml(b"<a><b/></a>") is None  # nothing to repair


@pytest.mark.parametrize(
    "evil",
    [
        b'<?xml version="1.0"?>' + XXE + b'<:eInvoice xmlns:="">&xxe;</:eInvoice>',
        b'<:eInvoice xmlns:=""><!ENTITY a "b"><ofd:X/></:eInvoice>',
        b'<!DOCTYPE a><:eInvoice xmlns:=""><ofd:X/></:eInvoice>',
    ],
)
def test_a_part_needing_repair_with_a_dtd_or_entity_refuses_the_package(
    evil: bytes,
) -> None:
    data, _truth = legacy_ofd_broken_tag(3)

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_replace(data, "Tags/CustomTag.xml", evil))

    assert exc.value.code == "unsafe_xml"


def test_an_undefined_entity_in_a_broken_part_is_skipped_never_expanded() -> None:
    data, truth = legacy_ofd_broken_tag(9)
    evil = b'<:eInvoice xmlns:=""><:Note><ofd:ObjectRef>&secret;</ofd:ObjectRef>'

    got = read_ofd(_replace(data, "Tags/CustomTag.xml", evil + b"</:Note></:eInvoice>"))

    assert got.number == truth.number  # the trusted parts still read
    assert got.total_in_words == ""  # the part was skipped


def test_an_entity_in_a_repaired_part_refuses_the_package() -> None:
    data, _truth = legacy_ofd_broken_tag(4)
    evil = b'<?xml version="1.0"?>' + XXE + b'<:eInvoice xmlns:="">&xxe;</:eInvoice>'

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_replace(data, "Tags/CustomTag.xml", evil))

    assert exc.value.code == "unsafe_xml"


@pytest.mark.parametrize("trusted", ["OFD.xml", "Attachs/original_invoice.xml"])
def test_a_broken_trusted_part_still_refuses_the_package(trusted: str) -> None:
    data, _truth = legacy_ofd_broken_tag(5)
    part = _member(data, trusted)
    # the very damage that is repaired in a tag part is not repaired here
    broken = part.replace(b"<ofd:OFD ", b"<:OFD ").replace(
        b"<fp:eInvoice", b"<:eInvoice"
    )
    assert broken != part

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_replace(data, trusted, broken))

    assert exc.value.code == "malformed_xml"


# --- 2. titles: template, Kangxi radicals, general machine-printed invoices --------


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("电子发票（增值税专用发票）", InvoiceKind.DIGITAL_SPECIAL),
        ("电子发票（普通发票）", InvoiceKind.DIGITAL_ORDINARY),
        ("电\u2f26发票（普通发票）", InvoiceKind.DIGITAL_ORDINARY),  # Kangxi radical
        ("电子发票（铁路电子客票）", InvoiceKind.RAIL_TICKET),
        ("电子发票（航空运输电子客票行程单）", InvoiceKind.AIR_ITINERARY),
        ("广东通用机打发票(电子)", InvoiceKind.GENERAL_MACHINE),
        ("广东通\u2f64机打发票（电子）", InvoiceKind.GENERAL_MACHINE),
        ("增值税电子普通发票", InvoiceKind.E_ORDINARY),
        ("发 票", InvoiceKind.OTHER),
    ],
)
def test_kind_from_title(title: str, kind: InvoiceKind) -> None:
    assert kind_from_title(title) is kind


def test_title_wins_over_a_code_ending_in_11() -> None:
    data, truth = general_machine_ofd(6)
    assert truth.code.endswith("11")

    got = read_ofd(data)

    assert got.kind is InvoiceKind.GENERAL_MACHINE
    assert got.code == truth.code


def test_a_digital_ofd_without_any_title_keeps_kind_other() -> None:
    truth = random_invoice(random.Random(8), kind=InvoiceKind.DIGITAL_SPECIAL)

    def strip_title(name: str, content: bytes) -> bytes:
        if name.endswith("Tags/CustomTag.xml"):
            return content.replace(b"<fp:Title>", b"<fp:Other>").replace(
                b"</fp:Title>", b"</fp:Other>"
            )
        return content.replace("电子发票（增值税专用发票）".encode(), b"")

    got = read_ofd(rebuild_zip(make_ofd(truth, layout=0), strip_title))

    assert got.kind is InvoiceKind.OTHER  # nothing says special or ordinary


# --- 3. 数电 XML without InherentLabel ------------------------------------------------


def test_toll_invoice_reads_the_invoice_number_not_the_plate() -> None:
    data, truth = toll_xml(0)
    plate = truth.extras["toll"]["plate"]
    assert data.index(plate.encode()) < data.index(b"<InvoiceNumber>")
    assert b"InherentLabel" not in data

    got = read_xml(data)

    assert got.number == truth.number
    assert got.kind is InvoiceKind.DIGITAL_ORDINARY
    assert got.extras == truth.extras
    passages = got.extras["toll"]["passages"]
    assert passages and all({"plate", "from", "to"} <= set(p) for p in passages)


def test_negative_discount_lines_stay_lines() -> None:
    data, truth = discount_xml(3)

    got = read_xml(data)

    discounts = [ln for ln in got.lines if ln.amount is not None and ln.amount < 0]
    assert discounts
    assert got.lines == truth.lines
    assert got.amount == sum(ln.amount for ln in got.lines if ln.amount is not None)


# --- 4. rail tickets and air itineraries ---------------------------------------------


def test_rail_ofd_prefers_its_xbrl_attachment() -> None:
    data, truth = rail_ofd(4, with_xbrl=True)

    got = read_ofd(data)

    assert_same_invoice(truth, got)
    assert got.kind is InvoiceKind.RAIL_TICKET
    assert got.identity == truth.number
    assert got.readings["tax_amount"].confidence == 1.0
    assert got.amount + got.tax_amount == got.total_amount


def test_rail_ofd_without_xbrl_is_read_from_the_page_by_label_and_position() -> None:
    data, truth = rail_ofd(5, with_xbrl=False)

    got = read_ofd(data)

    assert_same_invoice(truth, got)
    assert got.tax_amount is None  # no tax is printed on a rail ticket
    assert got.readings["extras"].confidence == pytest.approx(0.95)
    rail = got.extras["rail"]
    assert rail["seat"].endswith("号") and not rail["from_station"].endswith("站")


def test_a_page_contradicting_the_xbrl_keeps_the_xbrl_value_at_low_confidence() -> None:
    data, truth = rail_ofd(6, with_xbrl=True)
    fare = truth.extras["rail"]["fare"]
    page = _member(data, "Pages/Page_0/Content.xml")

    got = read_ofd(
        _replace(data, "Pages/Page_0/Content.xml", page.replace(fare.encode(), b"1.00"))
    )

    assert got.total_amount == Decimal(fare)
    assert got.readings["total_amount"].confidence == 0.5


def test_a_malformed_xbrl_attachment_falls_back_to_the_page() -> None:
    data, truth = rail_ofd(7, with_xbrl=True)
    name = f"rai_issuer_{truth.number}.xml"
    broken = _replace(data, name, b"<xbrl><rai:Fare>1</xbrl")

    got = read_ofd(broken)

    assert got.number == truth.number
    assert got.total_amount == truth.total_amount
    assert got.tax_amount is None  # only the XBRL carried it
    assert got.readings["total_amount"].confidence == pytest.approx(0.95)


def test_an_xbrl_attachment_with_an_entity_refuses_the_package() -> None:
    data, truth = rail_ofd(8, with_xbrl=True)
    evil = b'<?xml version="1.0"?>' + XXE + b"<xbrl>&xxe;</xbrl>"

    with pytest.raises(ExtractionError) as exc:
        read_ofd(_replace(data, f"rai_issuer_{truth.number}.xml", evil))

    assert exc.value.code == "unsafe_xml"


def test_air_itinerary_amounts_add_up_to_the_total() -> None:
    for with_xbrl in (True, False):
        data, truth = air_ofd(9, with_xbrl=with_xbrl)

        got = read_ofd(data)

        air = got.extras["air"]
        parts = ("fare", "fuel_surcharge", "vat_amount", "caac_fund", "other_taxes")
        assert sum(Decimal(air[k]) for k in parts) == got.total_amount
        assert got.tax_amount == Decimal(air["vat_amount"])
        assert air["segments"] == truth.extras["air"]["segments"]


def test_read_ticket_xbrl_says_none_for_what_is_not_a_ticket() -> None:
    invoice_xml = (
        b"<EInvoice><Header><EIid>24112000000048542163</EIid></Header></EInvoice>"
    )
    assert read_ticket_xbrl(invoice_xml) is None
    assert read_ticket_xbrl(b"not xml at all") is None
    assert read_ticket_xbrl(b"") is None
    data, _truth = rail_xbrl(0)
    assert read_ticket_xbrl(data + b" " * (600 * 1024)) is None  # beyond any real one
    got = read_ticket_xbrl(data)
    assert got is not None and got.readings["number"].source is FieldSource.XML


def test_read_ticket_xbrl_refuses_entities() -> None:
    with pytest.raises(ExtractionError) as exc:
        read_ticket_xbrl(b'<?xml version="1.0"?>' + XXE + b"<xbrl>&xxe;</xbrl>")

    assert exc.value.code == "unsafe_xml"


def test_a_ticket_whose_title_cannot_be_read_is_known_by_its_xbrl() -> None:
    data, truth = rail_ofd(10, with_xbrl=True)
    template = _member(data, "Tpls/Tpl_0/Content.xml")
    for ch in "电子发票（铁路电子客票）\u2f26":
        template = template.replace(f">{ch}<".encode(), b"><")

    got = read_ofd(_replace(data, "Tpls/Tpl_0/Content.xml", template))

    assert got.kind is InvoiceKind.RAIL_TICKET
    assert got.total_amount == truth.total_amount
    assert got.extras["rail"]["train"] == truth.extras["rail"]["train"]


def test_an_ordinary_invoice_for_a_booking_fee_is_not_an_itinerary() -> None:
    truth = random_invoice(random.Random(12), kind=InvoiceKind.DIGITAL_ORDINARY)
    truth.remarks = "代订机票费，电子发票（航空运输电子客票行程单）由航空公司另开"

    got = read_ofd(make_ofd(truth, layout=0))

    assert got.kind is InvoiceKind.DIGITAL_ORDINARY
    assert got.extras == {}
