"""Invoice photos and scans: QR first, OCR by position; hostile images.

OCR costs about a second per image on two cores, so only a handful are read here; the
benchmark (bench/bench_extraction_visual.py) reads hundreds.
"""

from __future__ import annotations

import io
import os
import random

import pytest
from PIL import Image

from invoiceportal.invoices.extraction.errors import (
    ExtractionError,
    UnreadableFileError,
    UnsafeFileError,
)
from invoiceportal.invoices.extraction.image_reader import read_image
from invoiceportal.invoices.extraction.safety import Limits
from invoiceportal.invoices.extraction.types import FieldSource, InvoiceKind
from tests.docgen.image_doc import make_image
from tests.docgen.pdf_doc import field_diff, make_pdf, render_page
from tests.docgen.truth import random_invoice

QR_FIELDS = ("kind", "code", "number", "issue_date", "check_code")


def _truth(seed: int, kind: InvoiceKind):
    return random_invoice(random.Random(seed), kind=kind)


def _assert_qr_identity(truth, got) -> None:
    assert got.identity == truth.identity
    for name in QR_FIELDS:
        assert getattr(got, name) == getattr(truth, name), name
    for name in ("number", "issue_date", "kind"):
        assert got.readings[name].source is FieldSource.QR
        assert got.readings[name].confidence == 1.0


@pytest.mark.parametrize(
    ("seed", "kind", "fmt"),
    [
        (101, InvoiceKind.DIGITAL_SPECIAL, "PNG"),
        (102, InvoiceKind.E_ORDINARY, "JPEG"),
        (103, InvoiceKind.PAPER_SPECIAL, "PNG"),
    ],
)
def test_every_field_is_read_from_a_clean_image(seed, kind, fmt):
    truth = _truth(seed, kind)

    got = read_image(make_image(truth, fmt=fmt, layout_variant=seed))

    _assert_qr_identity(truth, got)
    assert field_diff(truth, got, loose=True) == {}
    assert got.readings["seller_name"].source is FieldSource.OCR
    assert 0.5 < got.readings["seller_name"].confidence <= 1.0


def test_a_skewed_noisy_phone_photo_keeps_its_identity_and_totals():
    truth = _truth(104, InvoiceKind.DIGITAL_ORDINARY)

    got = read_image(make_image(truth, noise=0.6, rotation=-5, fmt="JPEG"))

    _assert_qr_identity(truth, got)
    diff = field_diff(truth, got, loose=True)
    for name in ("total_amount", "amount", "tax_amount", "seller_tax_id"):
        assert name not in diff


def test_exif_orientation_is_honoured():
    truth = _truth(105, InvoiceKind.E_SPECIAL)
    upright = render_page(make_pdf(truth), dpi=200)
    turned = upright.transpose(Image.Transpose.ROTATE_90)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...and tagged "rotate 90° clockwise to display"
    out = io.BytesIO()
    turned.save(out, "JPEG", quality=92, exif=exif.tobytes())

    got = read_image(out.getvalue())

    _assert_qr_identity(truth, got)
    assert got.seller_tax_id == truth.seller_tax_id


def test_an_upside_down_scan_is_turned_by_the_qr_code():
    truth = _truth(106, InvoiceKind.PAPER_ORDINARY)

    got = read_image(make_image(truth, rotation=180))

    _assert_qr_identity(truth, got)
    assert got.buyer_tax_id == truth.buyer_tax_id
    assert got.total_amount == truth.total_amount


def _refusal(data: bytes, **kw) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        read_image(data, **kw)
    return caught.value


def _png(size: tuple[int, int], mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 255).save(out, "PNG")
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_decoding():
    bomb = _png((20_000, 20_000), mode="1")  # a few hundred KB, 400 megapixels

    error = _refusal(bomb)

    assert error.code == "image_too_large"
    assert isinstance(error, UnsafeFileError)
    assert error.details["pixels"] == 400_000_000


def test_the_pixel_limit_comes_from_the_limits_object():
    error = _refusal(_png((3000, 2000)), limits=Limits(max_image_pixels=5_000_000))

    assert (error.code, error.details["pixels"]) == ("image_too_large", 6_000_000)


def test_a_truncated_jpeg_is_refused_as_corrupt():
    jpeg = make_image(_truth(107, InvoiceKind.E_ORDINARY), fmt="JPEG")

    error = _refusal(jpeg[: len(jpeg) // 2])

    assert error.code == "corrupt_image"
    assert isinstance(error, UnreadableFileError)


def test_random_bytes_are_refused_as_corrupt():
    assert _refusal(os.urandom(4096)).code == "corrupt_image"
    assert _refusal(b"\x89PNG\r\n\x1a\n" + os.urandom(4096)).code == "corrupt_image"


def test_an_image_format_we_do_not_accept_is_refused():
    out = io.BytesIO()
    Image.new("RGB", (50, 50)).save(out, "GIF")

    assert _refusal(out.getvalue()).code == "corrupt_image"


def test_a_blank_page_is_not_an_invoice():
    assert _refusal(_png((800, 600))).code == "not_an_invoice"


def test_the_qr_of_a_noisy_photo_is_kept_as_the_payload_screening_compares():
    truth = _truth(106, InvoiceKind.E_ORDINARY)

    got = read_image(make_image(truth, noise=0.5, rotation=3, fmt="JPEG"))

    assert got.qr_payload.rstrip(",") == truth.qr_payload.rstrip(",")
    assert got.readings["qr_payload"] == got.readings["number"]
    assert got.readings["qr_payload"].source is FieldSource.QR


def test_a_photographed_rail_ticket_keeps_its_kind_and_its_qr():
    from tests.docgen.variants_pdf import rail_ticket

    pdf, truth = rail_ticket(3)
    out = io.BytesIO()
    render_page(pdf, dpi=200).save(out, "PNG")

    got = read_image(out.getvalue())

    assert got.kind is InvoiceKind.RAIL_TICKET  # the QR type does not override it
    assert got.qr_payload == truth.qr_payload
    assert (got.number, got.total_amount) == (truth.number, truth.total_amount)
    assert got.readings["total_amount"].source is FieldSource.QR
