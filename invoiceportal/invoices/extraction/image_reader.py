"""Photos and scans (JPEG, PNG): QR code first, OCR for the rest, fields by position.

- Refuses damaged images and decompression bombs before decoding pixels.
- Honours EXIF orientation; uses the QR code's orientation to turn the page upright
  (and straighten small skews) before OCR.
- QR-sourced fields (number, code, date, amount or 价税合计, check code, kind) have
  confidence 1.0; OCR fields carry the recogniser's score, lowered when the shape or
  the arithmetic does not hold.

rapidocr ships its ONNX models inside the wheel; nothing is downloaded at run time.
"""

from __future__ import annotations

import io
import math
import re
import threading
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from .errors import refuse
from .layout import TextBox, consistency, read_fields
from .qr import QrPayload, parse_qr_payload
from .types import (
    DIGITAL_KINDS,
    ExtractedInvoice,
    FieldReading,
    FieldSource,
    InvoiceKind,
)

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_SECONDS = 60.0
OCR_LONG_SIDE = 1500  # pixels along the page's long side handed to OCR
OCR_REC_MIN_WIDTH = 96  # pixels: a text line narrower than this is padded to it
QR_MAX_SIDE = 3000
ACCEPTED_FORMATS = ("JPEG", "PNG", "MPO")
DIGITAL = (InvoiceKind.DIGITAL_SPECIAL, InvoiceKind.DIGITAL_ORDINARY)
TITLED_KINDS = frozenset(
    {InvoiceKind.RAIL_TICKET, InvoiceKind.AIR_ITINERARY, InvoiceKind.GENERAL_MACHINE}
)


class Deadline:
    """A cooperative time bound: ``check()`` raises extraction_timeout once passed."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise refuse("extraction_timeout", seconds=self.seconds)


def deadline_for(limits: Any) -> Deadline:
    return Deadline(float(getattr(limits, "max_extraction_seconds", DEFAULT_SECONDS)))


# --- opening ------------------------------------------------------------------


def open_image(data: bytes, *, limits: Any = None) -> Image.Image:
    """Decode an uploaded image safely, upright per EXIF, as RGB."""
    max_pixels = int(getattr(limits, "max_image_pixels", DEFAULT_MAX_PIXELS))
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger bound
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else max_pixels + 1
        raise refuse("image_too_large", unsafe=True, pixels=pixels) from None
    except (OSError, ValueError, SyntaxError):
        raise refuse("corrupt_image") from None
    pixels = img.width * img.height
    if pixels > max_pixels:
        raise refuse("image_too_large", unsafe=True, pixels=pixels)
    if img.format not in ACCEPTED_FORMATS:
        raise refuse("corrupt_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
        img = ImageOps.exif_transpose(img) or img
        return img.convert("RGB")
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning):
        raise refuse("corrupt_image") from None


# --- QR -----------------------------------------------------------------------


@dataclass(frozen=True)
class QrRead:
    payload: QrPayload
    angle: float  # degrees to rotate the image counter-clockwise to make it upright


def _scaled(img: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    scale = min(1.0, max_side / max(img.size))
    if scale >= 1.0:
        return img, 1.0
    size = (round(img.width * scale), round(img.height * scale))
    return img.resize(size, Image.Resampling.LANCZOS), scale


def decode_qr(img: Image.Image) -> QrRead | None:
    """The invoice QR code on the page, with the page's rotation, or None."""
    import zxingcpp

    gray, _ = _scaled(img.convert("L"), QR_MAX_SIDE)
    candidates = [gray]
    if max(gray.size) > 1600:
        candidates.append(_scaled(gray, 1600)[0])
    candidates.append(ImageOps.autocontrast(gray, cutoff=2))
    for candidate in candidates:
        for barcode in zxingcpp.read_barcodes(
            candidate, formats=zxingcpp.BarcodeFormat.QRCode
        ):
            payload = parse_qr_payload(barcode.text)
            if payload is not None:
                return QrRead(payload, _qr_angle(barcode))
    return None


def _qr_angle(barcode: Any) -> float:
    """The QR's top edge direction: how far the page is turned (degrees, CCW)."""
    pos = barcode.position
    dx = pos.top_right.x - pos.top_left.x
    dy = pos.top_right.y - pos.top_left.y
    return -math.degrees(math.atan2(dy, dx))


def apply_qr(inv: ExtractedInvoice, qr: QrPayload, *, qr_wins: bool) -> None:
    """Cross-check the body against the QR.

    ``qr_wins`` (images): QR values replace OCR values, confidence 1.0. Otherwise
    (PDF text): the text keeps its value; agreement raises its confidence to 1.0,
    disagreement lowers it to 0.3 (a sign of tampering or a misread); the QR fills
    fields the text lacks.
    """
    kind = qr.kind
    # a ticket or a general machine-printed invoice is known by its title; its QR
    # type is not a VAT kind and must not turn it into one
    titled = inv.kind in TITLED_KINDS
    digital = kind in DIGITAL or (
        kind is InvoiceKind.OTHER and inv.kind in DIGITAL_KINDS
    )
    amount_field = "total_amount" if digital else "amount"
    pairs = {
        "number": qr.number,
        "code": qr.code,
        "issue_date": qr.issue_date,
        amount_field: qr.amount,
        "check_code": qr.check_code,
    }
    if kind is not InvoiceKind.OTHER and not titled:
        pairs["kind"] = kind
    for name, value in pairs.items():
        if value in (None, ""):
            continue
        current = getattr(inv, name)
        has = name in inv.readings and current not in (None, "")
        if not has or qr_wins:
            setattr(inv, name, value)
            inv.readings[name] = FieldReading(FieldSource.QR, 1.0)
        else:
            source = inv.readings[name].source
            agree = current == value
            inv.readings[name] = FieldReading(source, 1.0 if agree else 0.3)
    inv.qr_payload = qr.raw
    inv.readings["qr_payload"] = FieldReading(FieldSource.QR, 1.0)


# --- OCR ----------------------------------------------------------------------

_OCR_LOCK = threading.Lock()


_OCR_THREADS = 1


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr import RapidOCR

    # no text-direction classifier: the page is turned upright from the QR first, and
    # the classifier flips short boxes ("9%" read as "%6")
    return RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": False,
            "EngineConfig.onnxruntime.intra_op_num_threads": _OCR_THREADS,
            # lines are recognised six at a time, padded to the widest of the six
            # (sorted by width) but no longer to at least rapidocr's 320 px: most of
            # an invoice's lines are short labels and figures, so most of the
            # recogniser's time went to padding. Measured on the soak's photos:
            # recognition 2.30 -> 1.49 s of CPU per photo with the same text read;
            # bench_extraction_visual's field accuracy unchanged (99.36 % of photo
            # fields either way). A smaller detection input (longest side 960 or
            # 1200 instead of 1500) saved another 0.2-0.6 s but missed fields on
            # clean images: not taken.
            "Rec.rec_img_shape": [3, 48, OCR_REC_MIN_WIDTH],
        }
    )


def load_readers(*, ocr_threads: int = 1) -> None:
    """Load the QR decoder and the OCR engine (libraries and models) now, so that a
    memory bound set for one document's reading does not count them.

    ``ocr_threads``: onnxruntime's threads per OCR call (first call wins). One by
    default: a worker process per core already fills the cores, and more threads
    spin-wait against the other workers (measured: 1.45 s CPU per photo with two
    threads, 1.23 s with one, on an idle 2-core machine; more under load)."""
    import zxingcpp  # noqa: F401

    global _OCR_THREADS
    if _engine.cache_info().currsize == 0:
        _OCR_THREADS = max(1, ocr_threads)
    _engine()


def ocr_boxes(img: Image.Image) -> list[TextBox]:
    """Text lines with their boxes (in ``img`` pixels) and recognition scores."""
    small, scale = _scaled(img, OCR_LONG_SIDE)
    with _OCR_LOCK:
        result = _engine()(np.asarray(small.convert("RGB")))
    boxes: list[TextBox] = []
    if result.boxes is None:
        return boxes
    for text, score, quad in zip(
        result.txts, result.scores, result.boxes, strict=False
    ):
        xs = [float(p[0]) / scale for p in quad]
        ys = [float(p[1]) / scale for p in quad]
        boxes.extend(
            _split_tall(TextBox(text, min(xs), min(ys), max(xs), max(ys), float(score)))
        )
    return boxes


def _split_tall(box: TextBox) -> list[TextBox]:
    """OCR sometimes reads two stacked single characters ('片' over '升') as one tall
    box: split it into one box per character."""
    text = box.text.strip()
    n = len(text)
    width = box.x1 - box.x0
    if n < 2 or box.h < 1.6 * width or n * width < 0.6 * box.h:
        return [box]
    from .layout import ANCHOR_WORDS

    if any(text in words for words in ANCHOR_WORDS.values()):
        return [box]
    step = box.h / n
    return [
        TextBox(
            ch, box.x0, box.y0 + i * step, box.x1, box.y0 + (i + 1) * step, box.conf
        )
        for i, ch in enumerate(text)
    ]


def _upright(img: Image.Image, qr: QrRead | None) -> Image.Image:
    if qr is None or abs(qr.angle) < 0.5:
        return img
    return img.rotate(
        -qr.angle,
        expand=True,
        fillcolor=(255, 255, 255),
        resample=Image.Resampling.BICUBIC,
    )


def ocr_page(
    img: Image.Image, deadline: Deadline
) -> tuple[QrRead | None, list[TextBox]]:
    """One page image: its QR (if any) and its text boxes, read upright."""
    qr = decode_qr(img)
    deadline.check()
    boxes = ocr_boxes(_upright(img, qr))
    deadline.check()
    return qr, boxes


def finish_ocr(inv: ExtractedInvoice, qr: QrRead | None) -> ExtractedInvoice:
    """Names in canonical brackets, the QR's values (they win over OCR), cross-checks;
    refuses a page with neither a QR nor an invoice number."""
    _canonical_names(inv)
    if qr is not None:
        apply_qr(inv, qr.payload, qr_wins=True)
    consistency(inv)
    if qr is None and not inv.number:
        raise refuse("not_an_invoice")
    return inv


def read_page_image(
    img: Image.Image, *, limits: Any = None, deadline: Deadline | None = None
) -> ExtractedInvoice:
    """Fields of one page image: QR, then OCR by position, then cross-checks."""
    deadline = deadline or deadline_for(limits)
    qr, boxes = ocr_page(img, deadline)
    inv, _lines = read_fields(boxes, source=FieldSource.OCR)
    return finish_ocr(inv, qr)


def _canonical_names(inv: ExtractedInvoice) -> None:
    """OCR reads full-width brackets in names as ASCII ones; Chinese names use 全角."""
    for name in ("seller_name", "buyer_name"):
        value = getattr(inv, name)
        setattr(inv, name, value.replace("(", "（").replace(")", "）"))


def read_image(data: bytes, *, limits: Any = None) -> ExtractedInvoice:
    """Read an invoice photo or scan (JPEG/PNG)."""
    deadline = deadline_for(limits)
    img = open_image(data, limits=limits)
    return read_page_image(img, limits=limits, deadline=deadline)
