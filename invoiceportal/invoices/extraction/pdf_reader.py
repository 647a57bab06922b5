"""PDF invoices: the text layer read by position, the QR code from the rendered page.

Guards: a PDF header and trailer, pdfium must open it (a password means
``encrypted_pdf``), at most ``limits.max_pdf_pages`` pages, rendering at a bounded
pixel count, and a cooperative time limit between steps. A PDF without a text layer
(a scan) has its first pages rendered and read like a photo.
"""

from __future__ import annotations

import io
import math
from typing import Any

from .errors import refuse
from .image_reader import (
    Deadline,
    apply_qr,
    deadline_for,
    decode_qr,
    read_page_image,
)
from .layout import TextBox, consistency, read_fields
from .types import ExtractedInvoice, FieldReading, FieldSource

DEFAULT_MAX_PAGES = 20
MAX_RENDER_PIXELS = 8_000_000
QR_SCALES = (2.0, 1.5, 3.0)  # 144, 108 and 216 dpi
SCAN_DPI = 200
MIN_TEXT_CHARS = 20  # fewer characters than this on every page: a scan
PAGE_GAP = 50.0  # points between stacked pages in the combined coordinate space


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    head = data[:1024]
    if b"%PDF-" not in head:
        raise refuse("corrupt_pdf")
    if b"%%EOF" not in data[-2048:]:
        raise refuse("corrupt_pdf")  # truncated
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise refuse("encrypted_pdf") from None
        raise refuse("corrupt_pdf") from None


def _words(data: bytes, pages: int, deadline: Deadline) -> list[TextBox]:
    """Words with coordinates from every page, pages stacked top to bottom."""
    import pdfplumber

    boxes: list[TextBox] = []
    offset = 0.0
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:pages]:
                deadline.check()
                for w in page.extract_words(x_tolerance=2, y_tolerance=2):
                    boxes.append(
                        TextBox(
                            w["text"],
                            w["x0"],
                            w["top"] + offset,
                            w["x1"],
                            w["bottom"] + offset,
                        )
                    )
                offset += float(page.height) + PAGE_GAP
                page.close()
    except Exception as exc:  # pdfminer raises many types on hostile input
        if exc.__class__.__name__ in ("ExtractionError", "UnreadableFileError"):
            raise
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise refuse("encrypted_pdf") from None
        raise refuse("corrupt_pdf") from None
    return boxes


def _render(doc: Any, index: int, scale: float) -> Any:
    page = doc[index]
    try:
        width, height = page.get_size()
        bound = math.sqrt(MAX_RENDER_PIXELS / max(width * height * 1.0, 1.0))
        return page.render(scale=min(scale, bound)).to_pil().convert("RGB")
    finally:
        page.close()


def _qr_from_pdf(doc: Any, deadline: Deadline) -> Any:
    for scale in QR_SCALES:
        deadline.check()
        found = decode_qr(_render(doc, 0, scale))
        if found is not None:
            return found
    return None


def _read_scanned(
    doc: Any, pages: int, limits: Any, deadline: Deadline
) -> ExtractedInvoice:
    last_error = None
    for index in range(min(pages, 3)):
        deadline.check()
        img = _render(doc, index, SCAN_DPI / 72)
        try:
            return read_page_image(img, limits=limits, deadline=deadline)
        except Exception as exc:
            if getattr(exc, "code", "") != "not_an_invoice":
                raise
            last_error = exc
    raise last_error or refuse("not_an_invoice")


def read_pdf(data: bytes, *, limits: Any = None) -> ExtractedInvoice:
    """Read an invoice PDF (text layer or scan)."""
    deadline = deadline_for(limits)
    max_pages = int(getattr(limits, "max_pdf_pages", DEFAULT_MAX_PAGES))
    doc = _open(data)
    try:
        pages = len(doc)
        if pages == 0:
            raise refuse("corrupt_pdf")
        if pages > max_pages:
            raise refuse("too_many_pages", unsafe=True, pages=pages, limit=max_pages)
        boxes = _words(data, pages, deadline)
        if sum(len(b.text) for b in boxes) < MIN_TEXT_CHARS:
            return _read_scanned(doc, pages, limits, deadline)
        inv, _lines = read_fields(boxes, source=FieldSource.PDF_TEXT)
        for name, reading in inv.readings.items():
            inv.readings[name] = FieldReading(reading.source, 0.95 * reading.confidence)
        qr = _qr_from_pdf(doc, deadline)
    finally:
        doc.close()
    if qr is not None:
        apply_qr(inv, qr.payload, qr_wins=False)
    elif not inv.number:
        raise refuse("not_an_invoice")
    consistency(inv)
    return inv
