"""Invoice images from ground truth: clean scans and imperfect phone photos.

``make_image`` renders the generated PDF page (pdfium, embedded fonts) and, for
photos, puts it on a darker background, turns it by ``rotation`` degrees, lights it
unevenly, blurs it slightly, adds sensor noise and JPEG compression (``noise`` in
0..1 scales all of these).
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageFilter

from invoiceportal.invoices.extraction.types import ExtractedInvoice

from .pdf_doc import make_pdf, render_page


def _photo(img: Image.Image, noise: float, rotation: float, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if noise > 0:
        margin = int(40 + 60 * noise)
        desk = Image.new(
            "RGB", (img.width + 2 * margin, img.height + 2 * margin), (96, 90, 84)
        )
        desk.paste(img, (margin, margin))
        img = desk
    if rotation:
        img = img.rotate(
            rotation,
            expand=True,
            fillcolor=(96, 90, 84),
            resample=Image.Resampling.BICUBIC,
        )
    if noise <= 0:
        return img
    img = img.filter(ImageFilter.GaussianBlur(radius=0.4 + 0.8 * noise))
    arr = np.asarray(img).astype(np.float32)
    h, w = arr.shape[:2]
    light = np.linspace(1.0, 1.0 - 0.25 * noise, w)[None, :, None]
    light = light * np.linspace(1.0 - 0.1 * noise, 1.0, h)[:, None, None]
    arr = arr * light + rng.normal(0, 18 * noise, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def make_image(
    inv: ExtractedInvoice,
    *,
    noise: float = 0,
    rotation: float = 0,
    fmt: str = "PNG",
    layout_variant: int = 0,
    dpi: float = 200,
) -> bytes:
    """The invoice as PNG or JPEG bytes; ``noise`` > 0 makes it look photographed."""
    img = render_page(make_pdf(inv, layout_variant=layout_variant), dpi=dpi)
    seed = random.Random(inv.number + str(layout_variant)).randrange(2**32)
    img = _photo(img, noise, rotation, seed)
    out = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        img.save(out, "JPEG", quality=int(92 - 30 * noise))
    else:
        img.save(out, "PNG")
    return out.getvalue()
