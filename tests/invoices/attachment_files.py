"""Real files of the kinds an answer may carry (issue 11), and hostile ones."""

from __future__ import annotations

import io
import zipfile


def pdf_bytes(pages: int = 1) -> bytes:
    """A genuine PDF that pdfium opens."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("contract.txt", "not a pdf")
    return out.getvalue()


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
