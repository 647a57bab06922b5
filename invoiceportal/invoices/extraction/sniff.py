"""What a file is, judged by its bytes, never by its name; and safe file names."""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import zipfile
from enum import StrEnum

from .errors import refuse
from .safety import DEFAULT_LIMITS, is_zip


class DocumentFormat(StrEnum):
    XML = "xml"
    OFD = "ofd"
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    ZIP = "zip"
    UNKNOWN = "unknown"


_BOMS = (b"\xef\xbb\xbf",)
_UTF16_XML = (b"\xff\xfe<\x00", b"\xfe\xff\x00<", b"<\x00?\x00", b"\x00<\x00?")
_XML_START = re.compile(rb"^\s*<(\?xml[\s?]|[A-Za-z_][\w.:-]*[\s/>]|!--)")
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I)
_PDF_WINDOW = 1024  # the PDF header may follow some junk (PDF 32000 tolerance)


def sniff(data: bytes) -> DocumentFormat:
    """Detect the format from content. OFD is a ZIP whose root holds OFD.xml; any other
    ZIP is a batch archive (or a damaged OFD: opening it tells)."""
    head = data[:_PDF_WINDOW]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentFormat.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return DocumentFormat.JPEG
    if is_zip(head):
        return DocumentFormat.OFD if _has_ofd_root(data) else DocumentFormat.ZIP
    if b"%PDF-" in head:
        return DocumentFormat.PDF
    if _looks_like_xml(head):
        return DocumentFormat.XML
    return DocumentFormat.UNKNOWN


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith(_UTF16_XML):
        return True
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
    return bool(_XML_START.match(head)) and not _HTML_START.match(head)


def _has_ofd_root(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return False
    return any(info.filename.lstrip("/").lower() == "ofd.xml" for info in infos)


def check_filename(
    name: str, *, max_length: int = DEFAULT_LIMITS.max_filename_length
) -> str:
    """A safe base name for ``name``, or refuse("bad_filename").

    Refused: empty names, NUL and control or bidi-override characters, backslashes,
    absolute paths and drive letters, '..' components, names longer than
    ``max_length`` bytes. A harmless relative path ('scans/a.pdf') gives its base name.
    """
    if not isinstance(name, str):
        raise refuse("bad_filename")
    name = unicodedata.normalize("NFC", name.strip())
    if not name or len(name.encode("utf-8")) > max_length:
        raise refuse("bad_filename")
    if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise refuse("bad_filename")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise refuse("bad_filename")
    parts = name.split("/")
    if any(part in ("..", ".") for part in parts):
        raise refuse("bad_filename")
    base = posixpath.basename(name).strip()
    if not base or set(base) <= {"."}:
        raise refuse("bad_filename")
    return base
