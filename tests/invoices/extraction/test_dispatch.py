from __future__ import annotations

import io
import os
import random
import zipfile

import pytest

from invoiceportal.invoices.extraction.dispatch import (
    check_declared_type,
    extract,
    iter_batch_archive,
)
from invoiceportal.invoices.extraction.errors import ExtractionError, UnsafeFileError
from invoiceportal.invoices.extraction.safety import Limits
from invoiceportal.invoices.extraction.sniff import DocumentFormat, sniff
from invoiceportal.invoices.extraction.types import InvoiceKind
from tests.docgen.compare import (
    NOT_IN_DIGITAL_OFD,
    NOT_IN_LEGACY_OFD,
    NOT_IN_XML,
    assert_same_invoice,
)
from tests.docgen.image_doc import make_image
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.pdf_doc import make_pdf
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml

from .test_sniff_and_safety import BILLION_LAUGHS, PDF, XXE, make_zip


def code_of(func, *args, **kwargs) -> str:
    with pytest.raises(ExtractionError) as exc:
        result = func(*args, **kwargs)
        if hasattr(result, "__next__"):
            list(result)
    return exc.value.code


def test_xml_goes_to_the_xml_reader() -> None:
    truth = random_invoice(random.Random(1), kind=InvoiceKind.DIGITAL_ORDINARY)

    fmt, got = extract(make_xml(truth, variant=1))

    assert fmt is DocumentFormat.XML
    assert_same_invoice(truth, got, skip=NOT_IN_XML)


def test_ofd_goes_to_the_ofd_reader() -> None:
    digital = random_invoice(random.Random(2), kind=InvoiceKind.DIGITAL_SPECIAL)
    legacy = random_invoice(random.Random(2), kind=InvoiceKind.E_TOLL)

    fmt, got = extract(make_ofd(digital, layout=0))
    assert fmt is DocumentFormat.OFD
    assert_same_invoice(
        digital,
        got,
        skip=NOT_IN_DIGITAL_OFD,
        line_skip=frozenset({"tax_classification_code"}),
    )

    fmt, got = extract(make_ofd(legacy, legacy=True))
    assert fmt is DocumentFormat.OFD
    assert_same_invoice(legacy, got, skip=NOT_IN_LEGACY_OFD)


def test_pdf_and_images_go_to_their_readers_with_the_limits() -> None:
    truth = random_invoice(random.Random(4), kind=InvoiceKind.DIGITAL_ORDINARY)
    documents = {
        DocumentFormat.PDF: make_pdf(truth),
        DocumentFormat.JPEG: make_image(truth, fmt="JPEG"),
        DocumentFormat.PNG: make_image(truth, fmt="PNG"),
    }

    for expected, data in documents.items():
        fmt, got = extract(data)
        assert fmt is expected
        assert (got.number, got.issue_date) == (truth.number, truth.issue_date)

    # the limits given to extract reach the reader that applies them
    assert code_of(
        extract, documents[DocumentFormat.PDF], limits=Limits(max_pdf_pages=0)
    ) == ("too_many_pages")
    for fmt in (DocumentFormat.JPEG, DocumentFormat.PNG):
        tiny = Limits(max_image_pixels=100)
        assert code_of(extract, documents[fmt], limits=tiny) == "image_too_large"


def test_a_pdf_named_xml_still_goes_to_the_pdf_reader() -> None:
    # the name is never consulted by extract: content decides
    truth = random_invoice(random.Random(5), kind=InvoiceKind.DIGITAL_ORDINARY)

    fmt, got = extract(make_pdf(truth))

    assert fmt is DocumentFormat.PDF
    assert got.number == truth.number


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (os.urandom(3000), "unsupported_type"),
        (b"hello world", "unsupported_type"),
        (b"<html><body>not an invoice</body></html>", "unsupported_type"),
        (BILLION_LAUGHS, "unsafe_xml"),
        (XXE, "unsafe_xml"),
        (b"<EInvoice><Header>", "malformed_xml"),
        (b"<catalog><book/></catalog>", "not_an_invoice"),
        (make_zip({"a.xml": b"<a/>", "b.pdf": PDF}), "batch_archive"),
        (make_zip({"zeros.bin": bytes(30 * 1024 * 1024)}), "zip_bomb"),
        (make_zip({"../../etc/x.xml": b"<a/>"}), "unsafe_archive_path"),
        (make_zip({"a.xml": b"<a/>"})[:-30], "corrupt_archive"),
    ],
    ids=[
        "empty",
        "random-bytes",
        "text",
        "html",
        "billion-laughs",
        "xxe",
        "truncated-xml",
        "non-invoice-xml",
        "batch-zip",
        "zip-bomb",
        "zip-traversal",
        "truncated-zip",
    ],
)
def test_extract_refuses(data: bytes, code: str) -> None:
    assert code_of(extract, data) == code


def test_oversized_upload_is_refused_before_reading() -> None:
    truth = random_invoice(random.Random(3), kind=InvoiceKind.DIGITAL_SPECIAL)
    data = make_xml(truth)

    with pytest.raises(UnsafeFileError) as exc:
        extract(data, limits=Limits(max_bytes=len(data) - 1))

    assert exc.value.code == "file_too_large"


# --- declared types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "filename", "content_type"),
    [
        (DocumentFormat.XML, "invoice.xml", "text/xml"),
        (DocumentFormat.XML, "invoice.XML", "application/xml; charset=utf-8"),
        (DocumentFormat.OFD, "发票.ofd", "application/octet-stream"),
        (DocumentFormat.OFD, "发票.ofd", "application/zip"),
        (DocumentFormat.PDF, "a.pdf", "application/pdf"),
        (DocumentFormat.JPEG, "photo.jpeg", "image/jpeg"),
        (DocumentFormat.JPEG, "photo.JPG", None),
        (DocumentFormat.PNG, "scan.png", ""),
        (DocumentFormat.PDF, None, None),
        (DocumentFormat.PDF, "", "application/octet-stream"),
        (DocumentFormat.PDF, "download", "application/pdf"),  # no extension
        (DocumentFormat.ZIP, "batch.zip", "application/x-zip-compressed"),
    ],
)
def test_honest_declarations_pass(
    fmt: DocumentFormat, filename: str | None, content_type: str | None
) -> None:
    check_declared_type(fmt, filename, content_type)


@pytest.mark.parametrize(
    ("fmt", "filename", "content_type"),
    [
        (DocumentFormat.PDF, "invoice.xml", None),
        (DocumentFormat.PDF, "invoice.xml", "application/octet-stream"),
        (DocumentFormat.XML, "invoice.pdf", "application/pdf"),
        (DocumentFormat.ZIP, "invoice.ofd", None),
        (DocumentFormat.PNG, "photo.jpg", "image/jpeg"),
        (DocumentFormat.XML, None, "application/pdf"),
        (DocumentFormat.PDF, "a.pdf", "image/png"),
        (DocumentFormat.UNKNOWN, "a.pdf", None),
    ],
)
def test_lying_declarations_are_refused(
    fmt: DocumentFormat, filename: str | None, content_type: str | None
) -> None:
    assert code_of(check_declared_type, fmt, filename, content_type) == (
        "content_type_mismatch"
    )


def test_a_pdf_named_xml_is_a_content_type_mismatch() -> None:
    assert code_of(check_declared_type, sniff(PDF), "invoice.xml", "text/xml") == (
        "content_type_mismatch"
    )


# --- batch archives -------------------------------------------------------------


def test_batch_archive_yields_safe_names_and_bytes() -> None:
    digital = random_invoice(random.Random(4), kind=InvoiceKind.DIGITAL_SPECIAL)
    xml, ofd = make_xml(digital), make_ofd(digital)
    archive = make_zip(
        {
            "march/a.xml": xml,
            "b.ofd": ofd,
            "c.pdf": PDF,
            "__MACOSX/march/._a.xml": b"\x00\x05\x16\x07",
            "march/.DS_Store": b"junk",
            "march/": b"",
        }
    )

    members = list(iter_batch_archive(archive))

    assert members == [("a.xml", xml), ("b.ofd", ofd), ("c.pdf", PDF)]
    assert [extract(data)[0] for _, data in members[:2]] == [
        DocumentFormat.XML,
        DocumentFormat.OFD,
    ]


@pytest.mark.parametrize(
    ("archive", "code"),
    [
        (make_zip({"inner.zip": make_zip({"a.xml": b"<a/>"})}), "nested_archive"),
        (make_zip({"../a.xml": b"<a/>"}), "unsafe_archive_path"),
        (make_zip({"zeros.bin": bytes(30 * 1024 * 1024)}), "zip_bomb"),
        (make_zip({f"{i}.xml": b"<a/>" for i in range(1001)}), "zip_bomb"),
        (make_zip({"__MACOSX/._a.xml": b"x"}), "empty_file"),
        (make_zip({"a.xml": b"<a/>"})[:40], "corrupt_archive"),
        (PDF, "unsupported_type"),
        (b"", "empty_file"),
    ],
    ids=[
        "nested",
        "traversal",
        "bomb",
        "entries",
        "only-junk",
        "truncated",
        "not-zip",
        "empty",
    ],
)
def test_batch_archive_refuses(archive: bytes, code: str) -> None:
    assert code_of(iter_batch_archive, archive) == code


def test_an_ofd_is_not_a_batch() -> None:
    ofd = make_ofd(random_invoice(random.Random(5), kind=InvoiceKind.DIGITAL_SPECIAL))

    assert code_of(iter_batch_archive, ofd) == "unsupported_type"


def test_batch_member_with_a_control_character_in_its_name_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("invoice\u202efdp.xml", b"<a/>")

    assert code_of(iter_batch_archive, out.getvalue()) == "bad_filename"
