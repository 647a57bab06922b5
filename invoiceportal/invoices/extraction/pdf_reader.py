"""PDF invoices: the text layer read by position, the QR code from the rendered page.

Guards: a PDF header and trailer, pdfium must open it (a password means
``encrypted_pdf``), at most ``limits.max_pdf_pages`` pages, rendering at a bounded
pixel count, and a cooperative time limit between steps. A PDF without a text layer
(a scan) has its first pages rendered and read like a photo.

Pages are read one by one (an invoice continued over 共N页 gives its lines from every
page and its totals from the last, see ``layout.read_pages``); the QR is decoded from
the first page that shows one. A rail ticket or air itinerary with an embedded XBRL
attachment is read from the attachment first and completed from the page.
"""

from __future__ import annotations

import io
import math
import threading
from typing import Any

from .errors import ExtractionError, refuse
from .image_reader import (
    Deadline,
    apply_qr,
    deadline_for,
    decode_qr,
    finish_ocr,
    ocr_page,
)
from .layout import TextBox, consistency, read_pages
from .types import TICKET_KINDS, ExtractedInvoice, FieldReading, FieldSource
from .xbrl import MAX_XBRL_BYTES, is_ticket_xbrl_name, read_ticket_xbrl

DEFAULT_MAX_PAGES = 20
MAX_RENDER_PIXELS = 8_000_000
QR_SCALES = (2.0, 1.5, 3.0)  # 144, 108 and 216 dpi
SCAN_DPI = 200
MAX_SCANNED_PAGES = 3  # OCR costs about a second a page
MIN_TEXT_CHARS = 20  # fewer characters than this on every page: a scan

# PDFium may not be called from two threads at once, not even on different documents
# (pypdfium2's documentation: it "would crash or corrupt the process"), and the web
# processes serve uploads and the review workbench on threads. Every call into pdfium
# (here and in the workbench's rendering) holds this lock; the OCR of a rendered page
# and pdfminer's parsing do not.
PDFIUM_LOCK = threading.RLock()


def _open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    head = data[:1024]
    if b"%PDF-" not in head:
        raise refuse("corrupt_pdf")
    if b"%%EOF" not in data[-2048:]:
        raise refuse("corrupt_pdf")  # truncated
    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise refuse("encrypted_pdf") from None
        raise refuse("corrupt_pdf") from None


def pdf_opens(data: bytes) -> bool:
    """Whether ``data`` opens as a PDF with at least one page: not damaged, not
    truncated, not protected by a password (answer attachments are checked so)."""
    with PDFIUM_LOCK:
        try:
            pdf = _open(data)
        except (ExtractionError, ValueError, OSError):
            return False
        try:
            return len(pdf) > 0
        finally:
            pdf.close()


def pdf_words(
    data: bytes, pages: int, deadline: Deadline | None = None, *, doc: Any = None
) -> list[list[TextBox]]:
    """Words with coordinates, one list per page (each in its page's coordinates),
    of the first ``pages`` pages (also the review workbench's field boxes). Raises
    ``ExtractionError`` for a file that cannot be read. ``doc``: the file already
    opened by pdfium, if it is.

    pdfium reads the text layer (about 2 ms a page, in C) and the words are formed
    as pdfplumber forms them (``x_tolerance=2, y_tolerance=2``), with the same
    coordinates: the real-file reading was tuned on pdfplumber's words. A page
    pdfium cannot give the same words for (rotated, text in another direction, a
    font without a Unicode map) is read by pdfplumber as before."""
    try:
        return _pdfium_words(data, pages, deadline, doc)
    except _PdfminerNeeded:
        return _pdfminer_words(data, pages, deadline)


class _PdfminerNeeded(Exception):
    """pdfium's text would not give pdfplumber's words on this file."""


_LIGATURES = {
    "ﬀ": "ff",
    "ﬃ": "ffi",
    "ﬄ": "ffl",
    "ﬁ": "fi",
    "ﬂ": "fl",
    "ﬆ": "st",
    "ﬅ": "st",
}
WORD_X_TOLERANCE = 2.0
WORD_Y_TOLERANCE = 2.0
_CHARS_PER_DEADLINE_CHECK = 2000

# (text, x0, x1, top, bottom) of one character, y growing downwards
_Char = tuple[str, float, float, float, float]


def _pdfium_words(
    data: bytes, pages: int, deadline: Deadline | None, doc: Any
) -> list[list[TextBox]]:
    with PDFIUM_LOCK:
        own = doc is None
        if own:
            doc = _open(data)
        try:
            out = []
            for index in range(min(pages, len(doc))):
                if deadline is not None:
                    deadline.check()
                page = doc[index]
                try:
                    out.append(_words(_page_chars(page, deadline)))
                finally:
                    page.close()
            return out
        finally:
            if own:
                doc.close()


def _page_chars(page: Any, deadline: Deadline | None) -> list[_Char]:
    """The page's characters as pdfminer places them: from the glyph's origin to its
    advance, from the font's top down one font size; pdfium's own line breaks and
    spaces (generated, not drawn) left out."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    if page.get_rotation() != 0:
        raise _PdfminerNeeded
    height = page.get_size()[1]
    text_page = page.get_textpage()
    try:
        count = pdfium_c.FPDFText_CountChars(text_page)
        rect = pdfium_c.FS_RECTF()
        origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
        chars: list[_Char] = []
        for i in range(count):
            if deadline is not None and i % _CHARS_PER_DEADLINE_CHECK == 0:
                deadline.check()
            if pdfium_c.FPDFText_IsGenerated(text_page, i) == 1:
                continue
            if (
                pdfium_c.FPDFText_HasUnicodeMapError(text_page, i) == 1
                or abs(pdfium_c.FPDFText_GetCharAngle(text_page, i)) > 1e-3
            ):
                raise _PdfminerNeeded
            code = pdfium_c.FPDFText_GetUnicode(text_page, i)
            pdfium_c.FPDFText_GetLooseCharBox(text_page, i, rect)
            pdfium_c.FPDFText_GetCharOrigin(text_page, i, origin_x, origin_y)
            top = height - rect.top
            size = pdfium_c.FPDFText_GetFontSize(text_page, i)
            chars.append((chr(code), origin_x.value, rect.right, top, top + size))
        return chars
    finally:
        text_page.close()


def _words(chars: list[_Char]) -> list[TextBox]:
    """pdfplumber's ``extract_words``: characters clustered into lines by their top
    (within the y tolerance), each line read left to right, a new word at a space
    or a gap wider than the x tolerance."""
    tops = sorted({c[3] for c in chars})
    line_of: dict[float, int] = {}
    line, last = -1, None
    for top in tops:
        if last is None or top > last + WORD_Y_TOLERANCE:
            line += 1
        line_of[top] = line
        last = top
    lines: list[list[_Char]] = [[] for _ in range(line + 1)]
    for c in chars:
        lines[line_of[c[3]]].append(c)
    groups: list[list[_Char]] = []
    for members in lines:
        word: list[_Char] = []
        for c in sorted(members, key=lambda c: c[1]):
            if c[0].isspace():
                if word:
                    groups.append(word)
                word = []
            elif word and (
                c[1] < word[-1][1]
                or c[1] > word[-1][2] + WORD_X_TOLERANCE
                or abs(c[3] - word[-1][3]) > WORD_Y_TOLERANCE
            ):
                groups.append(word)
                word = [c]
            else:
                word.append(c)
        if word:
            groups.append(word)
    return [
        TextBox(
            "".join(_LIGATURES.get(c[0], c[0]) for c in group),
            min(c[1] for c in group),
            min(c[3] for c in group),
            max(c[2] for c in group),
            max(c[4] for c in group),
        )
        for group in groups
    ]


def _pdfminer_words(
    data: bytes, pages: int, deadline: Deadline | None = None
) -> list[list[TextBox]]:
    import pdfplumber

    out: list[list[TextBox]] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages[:pages]:
                if deadline is not None:
                    deadline.check()
                out.append(
                    [
                        TextBox(w["text"], w["x0"], w["top"], w["x1"], w["bottom"])
                        for w in page.extract_words(
                            x_tolerance=WORD_X_TOLERANCE, y_tolerance=WORD_Y_TOLERANCE
                        )
                    ]
                )
                page.close()
    except Exception as exc:  # pdfminer raises many types on hostile input
        if exc.__class__.__name__ in ("ExtractionError", "UnreadableFileError"):
            raise
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise refuse("encrypted_pdf") from None
        raise refuse("corrupt_pdf") from None
    return out


def pdf_render(
    doc: Any,
    index: int,
    scale: float,
    *,
    max_pixels: int = MAX_RENDER_PIXELS,
    top: float = 1.0,
) -> Any:
    """Page ``index`` of ``doc`` as an RGB image of its own, at ``scale`` but at most
    ``max_pixels``, or only its ``top`` fraction. pdfium's page and bitmap are closed
    here, under the lock, not later by the garbage collector on whatever thread."""
    with PDFIUM_LOCK:
        page = doc[index]
        try:
            width, height = page.get_size()
            bound = math.sqrt(max_pixels / max(width * height * 1.0, 1.0))
            crop = (0, height * (1 - top), 0, 0) if top < 1.0 else (0, 0, 0, 0)
            bitmap = page.render(scale=min(scale, bound), crop=crop)
            try:
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()


def pdf_page_count(doc: Any) -> int:
    with PDFIUM_LOCK:
        return len(doc)


def pdf_page_size(doc: Any, index: int) -> tuple[float, float]:
    """Page ``index``'s width and height in points."""
    with PDFIUM_LOCK:
        page = doc[index]
        try:
            width, height = page.get_size()
            return width, height
        finally:
            page.close()


def pdf_close(doc: Any) -> None:
    with PDFIUM_LOCK:
        doc.close()


# Where an invoice prints its QR: at the top of the first page (数电 and legacy VAT
# invoices top left, tickets and itineraries in the same band). Rendering and
# decoding that band first costs a third of the whole page (measured: 18.0 -> 6.6 ms
# of CPU per PDF over 250 generated invoices, every QR found the same); a page that
# prints it elsewhere is still searched whole.
QR_BAND = 0.4


def _qr_from_pdf(doc: Any, pages: int, deadline: Deadline) -> Any:
    """The first invoice QR found: in the top band of the first page, then page by
    page (every page of a multi-page invoice prints the same code; a first page
    without a legible one is not the end)."""
    deadline.check()
    found = decode_qr(pdf_render(doc, 0, QR_SCALES[0], top=QR_BAND))
    if found is not None:
        return found
    for index in range(pages):
        for scale in QR_SCALES:
            deadline.check()
            found = decode_qr(pdf_render(doc, index, scale))
            if found is not None:
                return found
    return None


MAX_ATTACHMENTS = 16


def _ticket_attachment(data: bytes) -> ExtractedInvoice | None:
    """A rail or air XBRL instance embedded in the PDF, read as XML (trusted before
    the page); None when there is none or it cannot be read. Only files named like
    one are decompressed, and not when they declare more than an XBRL holds (pypdf
    also caps what one stream may inflate to)."""
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        for index, embedded in enumerate(reader.attachment_list):
            if index >= MAX_ATTACHMENTS:
                break
            if not is_ticket_xbrl_name(embedded.name):
                continue
            if (embedded.size or 0) > MAX_XBRL_BYTES:
                continue
            content = embedded.content
            if len(content) > MAX_XBRL_BYTES:
                continue
            found = read_ticket_xbrl(content)
            if found is not None:
                return found
    except ExtractionError:
        raise  # an attachment with a DTD or entities: unsafe, like any XML
    except Exception:  # odd or hostile name trees: the page is still read
        return None
    return None


def _merge_attachment(
    xbrl: ExtractedInvoice, page: ExtractedInvoice
) -> ExtractedInvoice:
    """The attachment's values win; the page fills what it lacks (extras key by key)."""
    for name, reading in page.readings.items():
        if name == "extras" or name in xbrl.readings:
            continue
        setattr(xbrl, name, getattr(page, name))
        xbrl.readings[name] = reading
    for key, values in page.extras.items():
        merged = dict(values)
        merged.update(xbrl.extras.get(key, {}))
        xbrl.extras[key] = merged
    if page.extras and "extras" not in xbrl.readings:
        xbrl.readings["extras"] = page.readings["extras"]
    return xbrl


def _read_scanned(
    doc: Any, pages: int, limits: Any, deadline: Deadline
) -> ExtractedInvoice:
    """A scan: the first pages rendered and read by OCR, each on its own (a scanned
    invoice continued over pages gives its lines from every page, its totals from
    the last); the first QR found wins over OCR."""
    qr = None
    page_boxes = []
    for index in range(min(pages, MAX_SCANNED_PAGES)):
        deadline.check()
        page_qr, boxes = ocr_page(pdf_render(doc, index, SCAN_DPI / 72), deadline)
        qr = qr or page_qr
        page_boxes.append(boxes)
    return finish_ocr(read_pages(page_boxes, source=FieldSource.OCR), qr)


def read_pdf(data: bytes, *, limits: Any = None) -> ExtractedInvoice:
    """Read an invoice PDF (text layer or scan)."""
    deadline = deadline_for(limits)
    max_pages = int(getattr(limits, "max_pdf_pages", DEFAULT_MAX_PAGES))
    doc = _open(data)
    try:
        pages = pdf_page_count(doc)
        if pages == 0:
            raise refuse("corrupt_pdf")
        if pages > max_pages:
            raise refuse("too_many_pages", unsafe=True, pages=pages, limit=max_pages)
        page_boxes = pdf_words(data, pages, deadline, doc=doc)
        if sum(len(b.text) for boxes in page_boxes for b in boxes) < MIN_TEXT_CHARS:
            return _read_scanned(doc, pages, limits, deadline)
        inv = read_pages(page_boxes, source=FieldSource.PDF_TEXT)
        if not inv.number:
            # Text, but no invoice number in it: a font without a usable Unicode
            # map, or the page drawn as outlines over a stray text layer. Real
            # invoices do this; read the pages as a scan rather than refuse them.
            return _read_scanned(doc, pages, limits, deadline)
        for name, reading in inv.readings.items():
            inv.readings[name] = FieldReading(reading.source, 0.95 * reading.confidence)
        if inv.kind in TICKET_KINDS:
            deadline.check()
            xbrl = _ticket_attachment(data)
            if xbrl is not None and xbrl.kind is inv.kind:
                inv = _merge_attachment(xbrl, inv)
        qr = _qr_from_pdf(doc, pages, deadline)
    finally:
        pdf_close(doc)
    if qr is not None:
        apply_qr(inv, qr.payload, qr_wins=False)
    elif not inv.number:
        raise refuse("not_an_invoice")
    consistency(inv)
    return inv
