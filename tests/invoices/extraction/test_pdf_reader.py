"""PDF invoices generated from known truth, read back field by field; hostile PDFs."""

from __future__ import annotations

import dataclasses
import io
import os
import random

import pypdf
import pytest

from invoiceportal.invoices.extraction.errors import (
    ExtractionError,
    UnreadableFileError,
    UnsafeFileError,
)
from invoiceportal.invoices.extraction.pdf_reader import read_pdf
from invoiceportal.invoices.extraction.safety import Limits
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from tests.docgen.pdf_doc import Style, field_diff, make_letter, make_pdf
from tests.docgen.truth import random_invoice

KINDS = [  # the VAT kinds random_invoice generates (tickets have their own tests)
    k for k in InvoiceKind if k.value.startswith(("digital_", "e_", "paper_"))
]


def _truth(seed: int, kind: InvoiceKind | None = None):
    return random_invoice(random.Random(seed), kind=kind)


def _encrypt(pdf: bytes, *, user: str, owner: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user, owner_password=owner, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("seed", range(24))
def test_every_printed_field_is_read_back_from_a_text_pdf(seed):
    truth = _truth(1000 + seed, KINDS[seed % len(KINDS)])

    got = read_pdf(make_pdf(truth, layout_variant=seed))

    assert field_diff(truth, got) == {}
    assert got.readings["number"].confidence == 1.0  # text and QR agree
    assert got.readings["number"].source is FieldSource.PDF_TEXT
    assert got.readings["qr_payload"].source is FieldSource.QR


def test_kangxi_radicals_and_spaced_labels_are_normalised():
    truth = _truth(7, InvoiceKind.E_SPECIAL)
    truth.seller_name = "北京⽅正（集团）有限公司".replace("⽅", "方")
    variant = next(v for v in range(1, 99, 2) if Style.for_variant(v).spaced_labels)
    assert Style.for_variant(variant).kangxi

    got = read_pdf(make_pdf(truth, layout_variant=variant))

    assert field_diff(truth, got) == {}
    assert got.seller_name == "北京方正（集团）有限公司"


def test_long_item_names_wrapped_in_the_cell_are_joined():
    truth = _truth(11, InvoiceKind.DIGITAL_ORDINARY)
    truth.lines[0].name = "*信息技术服务*信息系统运维及数据中心托管服务年度合同"

    got = read_pdf(make_pdf(truth, layout_variant=0))

    assert got.lines[0].name == truth.lines[0].name
    assert field_diff(truth, got) == {}


def test_a_qr_that_disagrees_with_the_text_lowers_confidence_not_the_value():
    truth = _truth(21, InvoiceKind.DIGITAL_SPECIAL)
    printed = dataclasses.replace(
        truth, qr_payload=truth.qr_payload.replace(truth.number, "24112000000048542163")
    )

    got = read_pdf(make_pdf(printed))

    assert got.number == truth.number
    assert got.readings["number"].confidence <= 0.3
    assert got.readings["total_amount"].confidence == 1.0


def test_the_qr_fills_identity_fields_the_text_lacks():
    truth = _truth(22, InvoiceKind.E_ORDINARY)
    printed = dataclasses.replace(truth, number="", issue_date=None)

    got = read_pdf(make_pdf(printed))

    assert (got.number, got.issue_date) == (truth.number, truth.issue_date)
    assert got.readings["number"] == got.readings["issue_date"]
    assert got.readings["number"].source is FieldSource.QR


def test_a_scanned_pdf_is_read_through_ocr():
    truth = _truth(5, InvoiceKind.DIGITAL_SPECIAL)

    got = read_pdf(make_pdf(truth, scanned=True))

    assert field_diff(truth, got, loose=True) == {}
    assert got.readings["number"].source is FieldSource.QR
    assert got.readings["seller_name"].source is FieldSource.OCR


def test_a_pdf_protected_by_an_owner_password_only_is_read():
    truth = _truth(3, InvoiceKind.E_SPECIAL)

    got = read_pdf(_encrypt(make_pdf(truth), user="", owner="owner"))

    assert field_diff(truth, got) == {}


def _refusal(data: bytes, **kw) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        read_pdf(data, **kw)
    return caught.value


def test_a_password_protected_pdf_is_refused():
    error = _refusal(_encrypt(make_pdf(_truth(3)), user="secret", owner="owner"))

    assert error.code == "encrypted_pdf"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_pdf_is_refused_as_corrupt(cut):
    pdf = make_pdf(_truth(4))

    error = _refusal(pdf[: int(len(pdf) * cut)])

    assert error.code == "corrupt_pdf"
    assert isinstance(error, UnreadableFileError)


def test_a_truncated_pdf_with_a_forged_trailer_is_refused_as_corrupt():
    pdf = make_pdf(_truth(4))

    assert _refusal(pdf[: len(pdf) // 3] + b"\n%%EOF\n").code == "corrupt_pdf"


def test_random_bytes_are_refused_as_corrupt():
    rnd = random.Random(9)
    junk = b"%PDF-1.7\n" + bytes(rnd.getrandbits(8) for _ in range(4000)) + b"%%EOF"

    assert _refusal(junk).code == "corrupt_pdf"
    assert _refusal(os.urandom(3000)).code == "corrupt_pdf"


def test_a_pdf_with_300_pages_is_refused_before_reading_them():
    error = _refusal(make_letter(pages=300))

    assert error.code == "too_many_pages"
    assert isinstance(error, UnsafeFileError)
    assert error.details == {"pages": 300, "limit": Limits().max_pdf_pages}


def test_the_page_limit_comes_from_the_limits_object():
    error = _refusal(make_letter(pages=3), limits=Limits(max_pdf_pages=2))

    assert (error.code, error.details["limit"]) == ("too_many_pages", 2)


def test_a_letter_is_not_an_invoice():
    assert _refusal(make_letter()).code == "not_an_invoice"


def test_reading_stops_at_the_time_limit():
    @dataclasses.dataclass(frozen=True)
    class Hurried(Limits):
        max_extraction_seconds: float = 0.0

    error = _refusal(make_pdf(_truth(1)), limits=Hurried())

    assert error.code == "extraction_timeout"


def test_the_qr_of_a_scanned_pdf_is_kept_as_the_payload():
    truth = _truth(6, InvoiceKind.E_SPECIAL)

    got = read_pdf(make_pdf(truth, scanned=True))

    assert got.qr_payload.rstrip(",") == truth.qr_payload.rstrip(",")
    assert got.readings["qr_payload"].source is FieldSource.QR


def test_a_scanned_multipage_invoice_gives_the_lines_of_every_page():
    from tests.docgen.variants_pdf import invoice_with_lines

    truth = invoice_with_lines(random.Random(31), InvoiceKind.DIGITAL_ORDINARY, 6)

    got = read_pdf(make_pdf(truth, scanned=True, pages=2))

    assert len(got.lines) == 6
    assert field_diff(truth, got, loose=True) == {}


def _outlined_with_stray_text(truth) -> bytes:
    """The invoice as an image (its text drawn as outlines) under an invisible text
    layer of junk glyphs, as PDFs whose fonts lack a Unicode map come out."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from tests.docgen.pdf_doc import render_page

    image = render_page(make_pdf(truth), dpi=200)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(240 * mm, 140 * mm))
    c.drawImage(ImageReader(image), 0, 0, 240 * mm, 140 * mm)
    text = c.beginText(10 * mm, 130 * mm)
    text.setTextRenderMode(3)  # invisible, like an OCR or broken-font layer
    for _ in range(6):
        text.textLine("!#$%&()*+;<=>?@[]^_`{|}~ QXJZ VKWY")
    c.drawText(text)
    c.showPage()
    c.save()
    return out.getvalue()


def test_a_text_layer_without_an_invoice_number_is_read_as_a_scan():
    """A genuine invoice whose text layer is junk was read from its QR alone (no
    seller, buyer or lines: a reviewer's work)."""
    truth = _truth(5, InvoiceKind.DIGITAL_SPECIAL)

    got = read_pdf(_outlined_with_stray_text(truth))

    assert field_diff(truth, got, loose=True) == {}
    assert got.readings["seller_name"].source is FieldSource.OCR


def test_a_junk_text_layer_without_a_qr_is_read_not_refused():
    """Without a QR the same invoice was refused at upload as not an invoice."""
    from tests.docgen.variants_pdf import general_machine

    _, truth = general_machine(3)

    got = read_pdf(_outlined_with_stray_text(truth))

    assert (got.kind, got.number, got.code) == (truth.kind, truth.number, truth.code)
    assert got.total_amount == truth.total_amount


# --- the text layer: pdfium's characters, pdfplumber's words ------------------------


def _pdfplumber_words(data: bytes, pages: int):
    from invoiceportal.invoices.extraction.pdf_reader import _pdfminer_words

    return _pdfminer_words(data, pages)


def _same_words(got, expected) -> None:
    assert [[b.text for b in page] for page in got] == [
        [b.text for b in page] for page in expected
    ]
    for page_got, page_expected in zip(got, expected, strict=True):
        for a, b in zip(page_got, page_expected, strict=True):
            assert (a.x0, a.y0, a.x1, a.y1) == pytest.approx(
                (b.x0, b.y0, b.x1, b.y1), abs=0.05
            ), a.text


@pytest.mark.parametrize("seed", range(6))
def test_words_are_the_ones_pdfplumber_forms(seed):
    """The layout reader was tuned on real files through pdfplumber's words; pdfium
    reads the text layer (a fifth of the time) and must form the same words with the
    same boxes, over every style of the generator, on two pages too."""
    from invoiceportal.invoices.extraction.pdf_reader import pdf_words

    data = make_pdf(
        _truth(300 + seed),
        layout_variant=seed % 3,
        pages=1 + seed % 2,
        style=Style.for_variant(seed),
    )
    pages = 1 + seed % 2
    _same_words(pdf_words(data, pages), _pdfplumber_words(data, pages))


@pytest.mark.parametrize(
    "name",
    [
        "legacy_seller_bottom",
        "multipage_3",
        "general_machine",
        "rail_ticket_xbrl",
        "air_itinerary",
        "ride_hailing_discount",
    ],
)
def test_words_of_the_real_file_variants_are_the_ones_pdfplumber_forms(name):
    from invoiceportal.invoices.extraction.pdf_reader import pdf_words
    from tests.docgen import variants_pdf

    data = variants_pdf.PDF_VARIANTS[name](3)[0]
    _same_words(pdf_words(data, 3), _pdfplumber_words(data, 3))


def test_a_rotated_page_is_read_by_pdfplumber_and_still_gives_the_invoice():
    import pypdfium2 as pdfium

    from invoiceportal.invoices.extraction.pdf_reader import pdf_words

    truth = _truth(321)
    doc = pdfium.PdfDocument(make_pdf(truth))
    doc[0].set_rotation(90)
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    rotated = out.getvalue()

    _same_words(pdf_words(rotated, 1), _pdfplumber_words(rotated, 1))
    assert read_pdf(rotated).number == truth.number


def _page_with_qr(payload: str, *, y_from_top: float) -> bytes:
    """An A5-landscape page with only a QR, ``y_from_top`` (0-1) down the page."""
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from tests.docgen.pdf_doc import _qr_image

    out = io.BytesIO()
    width, height = 210 * mm, 140 * mm
    c = canvas.Canvas(out, pagesize=(width, height))
    size = 20 * mm
    c.drawImage(
        ImageReader(_qr_image(payload)),
        12 * mm,
        height - y_from_top * height - size,
        size,
        size,
    )
    c.showPage()
    c.save()
    return out.getvalue()


@pytest.mark.parametrize("y_from_top", [0.03, 0.45, 0.8])
def test_the_qr_is_found_wherever_the_page_prints_it(y_from_top):
    """The top band is searched first (where invoices print it), the whole page
    after."""
    from invoiceportal.invoices.extraction.image_reader import deadline_for
    from invoiceportal.invoices.extraction.pdf_reader import _open, _qr_from_pdf

    payload = "01,32,,24952000000031722382,1800.00,20240315,,D2D1"
    doc = _open(_page_with_qr(payload, y_from_top=y_from_top))
    try:
        found = _qr_from_pdf(doc, 1, deadline_for(None))
    finally:
        doc.close()
    assert found is not None
    assert found.payload.raw == payload


def test_a_font_without_a_unicode_map_is_read_by_pdfplumber_as_before():
    """pdfium reports the characters of a font whose ToUnicode map is gone; the
    words then come from pdfplumber, as they did before pdfium read the text."""
    from invoiceportal.invoices.extraction.pdf_reader import pdf_words

    writer = pypdf.PdfWriter(
        clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(_truth(322))))
    )
    removed = 0
    for page in writer.pages:
        fonts = page["/Resources"]["/Font"]
        for name in fonts:
            font = fonts[name].get_object()
            if "/ToUnicode" in font:
                del font["/ToUnicode"]
                removed += 1
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()

    assert removed
    words = pdf_words(data, 1)
    assert any("(cid:" in box.text for box in words[0])  # pdfminer's spelling
    _same_words(words, _pdfplumber_words(data, 1))


def test_pdfs_read_on_many_threads_read_as_on_one():
    """The web processes read uploads on threads; pdfium must never be entered by
    two of them at once (it may crash or corrupt the process): each read gives what
    it gives alone."""
    from concurrent.futures import ThreadPoolExecutor

    from invoiceportal.invoices.extraction.pdf_reader import pdf_opens, pdf_words

    datas = [
        make_pdf(_truth(340 + i), layout_variant=i % 3, style=Style.for_variant(i))
        for i in range(6)
    ]
    alone = [(read_pdf(d), pdf_words(d, 1), pdf_opens(d)) for d in datas]
    with ThreadPoolExecutor(8) as pool:
        together = list(
            pool.map(lambda d: (read_pdf(d), pdf_words(d, 1), pdf_opens(d)), datas * 4)
        )
    assert together == alone * 4
