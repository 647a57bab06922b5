"""Server-side rendering of an invoice's original document, cached.

- PDF pages: pypdfium2 to PNG; words and their boxes from pdfplumber (the text
  layer), or from OCR of the rendered page for a scan without one.
- Photos and scans (JPEG/PNG): decoded safely (``open_image``: bombs refused, EXIF
  orientation honoured) and normalised to PNG; text boxes from OCR.
- OFD: each page drawn as SVG from its objects (``ofd.py``); text boxes from the
  text objects.
- XML: nothing to draw here: the page shows it as an invoice layout in HTML.

Everything expensive is cached in Django's default storage (shared by every web
node) under ``WORKBENCH_CACHE_PREFIX/<sha256>/``: ``layout-v1.json`` (page sizes
and text boxes) and ``p<page>-s<scale>.<ext>`` (a rendered page). The document's
SHA-256 is its content's name, so an entry never goes stale.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from invoiceportal.invoices.extraction.errors import ExtractionError
from invoiceportal.invoices.extraction.image_reader import ocr_boxes, open_image
from invoiceportal.invoices.extraction.layout import TextBox
from invoiceportal.invoices.extraction.pdf_reader import (
    MAX_SCANNED_PAGES,
    MIN_TEXT_CHARS,
    PDFIUM_LOCK,
    SCAN_DPI,
    pdf_close,
    pdf_page_count,
    pdf_page_size,
    pdf_render,
    pdf_words,
)

from .ofd import page_svg, read_ofd_pages

logger = logging.getLogger(__name__)

LAYOUT_VERSION = 1
IMAGE_LONG_SIDE = 1100  # pixels along an image page's long side at scale 1
CONTENT_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


class RenderError(Exception):
    """The page cannot be drawn (damaged file, page out of range)."""


def document_kind(document: Any) -> str:
    """``pdf``, ``image``, ``ofd``, ``xml`` or ``other`` for a ``Document``."""
    if document is None:
        return ""
    fmt = (document.format or "").lower()
    ctype = (document.content_type or "").lower()
    if fmt == "pdf" or ctype == "application/pdf":
        return "pdf"
    if fmt in {"jpeg", "jpg", "png", "image"} or ctype.startswith("image/"):
        return "image"
    if fmt == "ofd" or ctype in {"application/ofd", "application/x-ofd"}:
        return "ofd"
    if fmt == "xml" or ctype.endswith("xml"):
        return "xml"
    return "other"


@dataclass(frozen=True)
class Layout:
    """A document's pages: sizes (in the page's own units) and text boxes."""

    kind: str
    sizes: tuple[tuple[float, float], ...]
    boxes: tuple[tuple[TextBox, ...], ...]
    error: str = ""

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "v": LAYOUT_VERSION,
                "kind": self.kind,
                "sizes": self.sizes,
                "boxes": [
                    [[b.text, b.x0, b.y0, b.x1, b.y1] for b in page]
                    for page in self.boxes
                ],
                "error": self.error,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Layout | None:
        try:
            raw = json.loads(data)
            if raw.get("v") != LAYOUT_VERSION:
                return None
            return cls(
                kind=raw["kind"],
                sizes=tuple((float(w), float(h)) for w, h in raw["sizes"]),
                boxes=tuple(
                    tuple(TextBox(str(t), *map(float, xy)) for t, *xy in page)
                    for page in raw["boxes"]
                ),
                error=str(raw.get("error", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None


# ------------------------------------------------------------------ the cache


def _key(sha256: str, name: str) -> str:
    sha = "".join(ch for ch in sha256.lower() if ch in "0123456789abcdef")[:64]
    if len(sha) != 64:
        raise RenderError("document without a valid SHA-256")
    return f"{settings.WORKBENCH_CACHE_PREFIX}/{sha[:2]}/{sha}/{name}"


def cache_read(sha256: str, name: str) -> bytes | None:
    key = _key(sha256, name)
    try:
        if not default_storage.exists(key):
            return None
        with default_storage.open(key, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def cache_write(sha256: str, name: str, data: bytes) -> None:
    key = _key(sha256, name)
    try:
        if default_storage.exists(key):
            return
        default_storage.save(key, ContentFile(data))
    except OSError:  # a full or read-only cache must not break the page
        logger.warning("workbench cache write failed for %s", key, exc_info=True)


def _document_bytes(document: Any) -> bytes:
    with document.file.open("rb") as fh:
        return fh.read()


# ------------------------------------------------------------------ layouts


def _pdf_open(data: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise RenderError(str(exc)) from None


def _pdf_layout(data: bytes) -> Layout:
    doc = _pdf_open(data)
    try:
        count = min(pdf_page_count(doc), settings.WORKBENCH_MAX_PAGES)
        sizes = tuple(pdf_page_size(doc, i) for i in range(count))
    finally:
        pdf_close(doc)
    try:
        boxes = [tuple(page) for page in pdf_words(data, count)]
    except ExtractionError:  # a file pdfminer cannot read: no boxes then
        logger.info("pdf words unavailable", exc_info=True)
        boxes = [() for _ in sizes]
    if sum(len(b.text) for page in boxes for b in page) < MIN_TEXT_CHARS:
        boxes = _pdf_ocr_boxes(data, sizes)
    return Layout("pdf", sizes, tuple(boxes))  # type: ignore[arg-type]


def _pdf_ocr_boxes(
    data: bytes, sizes: tuple[tuple[float, float], ...]
) -> list[tuple[TextBox, ...]]:
    """A scan: OCR of the first pages rendered at 200 dpi, boxes back in points."""
    out: list[tuple[TextBox, ...]] = [() for _ in sizes]
    doc = _pdf_open(data)
    try:
        for i in range(min(len(sizes), MAX_SCANNED_PAGES)):
            scale = SCAN_DPI / 72
            img = _pdf_bitmap(doc, i, scale)
            factor = sizes[i][0] / img.width
            out[i] = tuple(
                TextBox(
                    b.text, b.x0 * factor, b.y0 * factor, b.x1 * factor, b.y1 * factor
                )
                for b in ocr_boxes(img)
            )
    except Exception:  # OCR is a help, never a reason to fail the page
        logger.info("ocr boxes unavailable", exc_info=True)
    finally:
        pdf_close(doc)
    return out


def _image_layout(data: bytes) -> Layout:
    try:
        img = open_image(data)
    except ExtractionError as exc:
        raise RenderError(exc.code) from None
    try:
        boxes = tuple(ocr_boxes(img))
    except Exception:
        logger.info("ocr boxes unavailable", exc_info=True)
        boxes = ()
    return Layout("image", ((float(img.width), float(img.height)),), (boxes,))


def _ofd_layout(data: bytes) -> Layout:
    try:
        pages = read_ofd_pages(data)
    except ExtractionError as exc:
        raise RenderError(exc.code) from None
    return Layout(
        "ofd",
        tuple((p.width, p.height) for p in pages),
        tuple(tuple(p.text_boxes()) for p in pages),
    )


def compute_layout(kind: str, data: bytes) -> Layout:
    if kind == "pdf":
        return _pdf_layout(data)
    if kind == "image":
        return _image_layout(data)
    if kind == "ofd":
        return _ofd_layout(data)
    return Layout(kind, (), ())


def document_layout(document: Any) -> Layout:
    """The document's layout, from the cache or computed (and cached) now. A
    document that cannot be drawn gets a layout with ``error`` set and one
    placeholder page, so the reviewer is told rather than shown nothing."""
    kind = document_kind(document)
    if kind not in ("pdf", "image", "ofd"):
        return Layout(kind, (), ())
    cached = cache_read(document.sha256, f"layout-v{LAYOUT_VERSION}.json")
    if cached is not None:
        layout = Layout.from_json(cached)
        if layout is not None:
            return layout
    try:
        layout = compute_layout(kind, _document_bytes(document))
        if not layout.sizes:
            raise RenderError("no pages")
    except (RenderError, OSError) as exc:
        layout = Layout(kind, ((595.0, 397.0),), ((),), error=str(exc) or "damaged")
    cache_write(document.sha256, f"layout-v{LAYOUT_VERSION}.json", layout.to_json())
    return layout


def document_pages(document: Any) -> tuple[tuple[tuple[float, float], ...], str]:
    """The document's page sizes and render error, from Django's cache (shared by
    the web nodes) before the layout file: every page image request asks."""
    key = f"workbench:pages:v{LAYOUT_VERSION}:{document.sha256}"
    found = cache.get(key)
    if found is None:
        layout = document_layout(document)
        found = (layout.sizes, layout.error)
        cache.set(key, found, settings.WORKBENCH_CACHE_SECONDS)
    return found


# ------------------------------------------------------------------ pages


def _pdf_bitmap(doc: Any, index: int, scale: float) -> Any:
    return pdf_render(
        doc, index, scale, max_pixels=settings.WORKBENCH_MAX_RENDER_PIXELS
    )


def _png(img: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()


def _placeholder(width: int = 1190, height: int = 794) -> bytes:
    """A plain page saying nothing can be shown (the page shows why in words)."""
    img = Image.new("RGB", (width, height), (248, 249, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle((4, 4, width - 5, height - 5), outline=(173, 181, 189), width=3)
    draw.line((4, 4, width - 5, height - 5), fill=(206, 212, 218), width=2)
    draw.line((4, height - 5, width - 5, 4), fill=(206, 212, 218), width=2)
    return _png(img)


def render_page(kind: str, data: bytes, page: int, scale: float) -> tuple[bytes, str]:
    """Page ``page`` (1-based) at ``scale`` as ``(bytes, extension)``."""
    if kind == "pdf":
        doc = _pdf_open(data)
        try:
            if not 1 <= page <= min(pdf_page_count(doc), settings.WORKBENCH_MAX_PAGES):
                raise RenderError("no such page")
            return _png(_pdf_bitmap(doc, page - 1, scale)), "png"
        finally:
            pdf_close(doc)
    if kind == "image":
        if page != 1:
            raise RenderError("no such page")
        try:
            img = open_image(data)
        except ExtractionError as exc:
            raise RenderError(exc.code) from None
        long_side = IMAGE_LONG_SIDE * scale
        factor = min(1.0, long_side / max(img.size))
        if factor < 1.0:
            img = img.resize(
                (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
            )
        return _png(img), "png"
    if kind == "ofd":
        try:
            pages = read_ofd_pages(data)
        except ExtractionError as exc:
            raise RenderError(exc.code) from None
        if not 1 <= page <= len(pages):
            raise RenderError("no such page")
        return page_svg(pages[page - 1], scale=scale).encode(), "svg"
    raise RenderError("not drawable")


def page_image(document: Any, page: int, scale: float) -> tuple[bytes, str]:
    """A rendered page as ``(bytes, content type)``, cached by SHA-256, page and
    scale. A document that cannot be drawn answers a placeholder for its one
    page; a page beyond the document raises ``RenderError``."""
    kind = document_kind(document)
    sizes, error = document_pages(document)
    if not 1 <= page <= len(sizes):
        raise RenderError("no such page")
    if error:
        return _placeholder(), CONTENT_TYPES["png"]
    ext = "svg" if kind == "ofd" else "png"
    cached = cache_read(document.sha256, f"p{page}-s{scale:g}.{ext}")
    if cached is not None:
        return cached, CONTENT_TYPES[ext]
    try:
        data, ext = render_page(kind, _document_bytes(document), page, scale)
    except (RenderError, OSError):
        return _placeholder(), CONTENT_TYPES["png"]
    cache_write(document.sha256, f"p{page}-s{scale:g}.{ext}", data)
    return data, CONTENT_TYPES[ext]
