"""One entry point per upload: check the size, sniff the content, run the right reader.

Batch archives are unpacked by ``iter_batch_archive``; each member then goes through
``extract`` like a single upload.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from .errors import refuse
from .ofd_reader import read_ofd
from .safety import (
    DEFAULT_LIMITS,
    Limits,
    check_size,
    iter_zip_members,
    open_zip_safely,
)
from .sniff import DocumentFormat, check_filename, sniff
from .types import ExtractedInvoice
from .xml_reader import read_xml

EXTENSIONS: dict[str, frozenset[DocumentFormat]] = {
    ".xml": frozenset({DocumentFormat.XML}),
    ".ofd": frozenset({DocumentFormat.OFD}),
    ".pdf": frozenset({DocumentFormat.PDF}),
    ".jpg": frozenset({DocumentFormat.JPEG}),
    ".jpeg": frozenset({DocumentFormat.JPEG}),
    ".jpe": frozenset({DocumentFormat.JPEG}),
    ".png": frozenset({DocumentFormat.PNG}),
    ".zip": frozenset({DocumentFormat.ZIP}),
}
CONTENT_TYPES: dict[str, frozenset[DocumentFormat]] = {
    "application/xml": frozenset({DocumentFormat.XML}),
    "text/xml": frozenset({DocumentFormat.XML}),
    "text/plain": frozenset({DocumentFormat.XML}),
    "application/ofd": frozenset({DocumentFormat.OFD}),
    "application/x-ofd": frozenset({DocumentFormat.OFD}),
    "application/pdf": frozenset({DocumentFormat.PDF}),
    "application/x-pdf": frozenset({DocumentFormat.PDF}),
    "image/jpeg": frozenset({DocumentFormat.JPEG}),
    "image/pjpeg": frozenset({DocumentFormat.JPEG}),
    "image/jpg": frozenset({DocumentFormat.JPEG}),
    "image/png": frozenset({DocumentFormat.PNG}),
    "application/zip": frozenset({DocumentFormat.ZIP, DocumentFormat.OFD}),
    "application/x-zip-compressed": frozenset({DocumentFormat.ZIP, DocumentFormat.OFD}),
}
# declared types that say nothing about the content
NEUTRAL_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", ""})
JUNK_MEMBERS = ("__macosx/", ".ds_store", "thumbs.db", "desktop.ini")


def extract(
    data: bytes, *, limits: Limits | None = None
) -> tuple[DocumentFormat, ExtractedInvoice]:
    """Read one uploaded document. Archives are refused here: see iter_batch_archive."""
    limits = limits or DEFAULT_LIMITS
    check_size(data, limits)
    fmt = sniff(data)
    if fmt is DocumentFormat.XML:
        return fmt, read_xml(data)
    if fmt is DocumentFormat.OFD:
        return fmt, read_ofd(data, limits=limits)
    if fmt is DocumentFormat.PDF:
        from .pdf_reader import read_pdf

        return fmt, read_pdf(data, limits=limits)
    if fmt in (DocumentFormat.JPEG, DocumentFormat.PNG):
        from .image_reader import read_image

        return fmt, read_image(data, limits=limits)
    if fmt is DocumentFormat.ZIP:
        open_zip_safely(data, limits)  # a damaged or hostile archive says so first
        raise refuse("batch_archive")
    raise refuse("unsupported_type")


def check_declared_type(
    fmt: DocumentFormat, filename: str | None, content_type: str | None
) -> None:
    """Refuse a file whose extension or declared content type lies about its content.
    Missing values, unknown extensions and application/octet-stream are tolerated."""
    if filename:
        ext = posixpath.splitext(filename.strip().lower())[1]
        allowed = EXTENSIONS.get(ext)
        if allowed is not None and fmt not in allowed:
            raise refuse("content_type_mismatch", declared=ext, detected=str(fmt))
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in NEUTRAL_TYPES:
        return
    allowed = CONTENT_TYPES.get(declared)
    if allowed is not None and fmt not in allowed:
        raise refuse("content_type_mismatch", declared=declared, detected=str(fmt))


def _is_junk(name: str) -> bool:
    lower = name.lower()
    base = posixpath.basename(lower)
    return (
        lower.startswith(JUNK_MEMBERS[0])
        or base in JUNK_MEMBERS[1:]
        or base.startswith("._")
    )


def iter_batch_archive(
    data: bytes, limits: Limits | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(safe base name, bytes)`` for each document in a batch ZIP.

    Bombs, path tricks, nested archives (OFD members are documents and allowed) and
    damaged archives are refused; OS junk (__MACOSX, .DS_Store) is skipped.
    """
    limits = limits or DEFAULT_LIMITS
    check_size(data, limits)
    if sniff(data) is not DocumentFormat.ZIP:
        raise refuse("unsupported_type")
    zf = open_zip_safely(data, limits)
    count = 0
    for name, content in iter_zip_members(zf, limits, depth=1, allow_ofd=True):
        if _is_junk(name):
            continue
        count += 1
        yield check_filename(name, max_length=limits.max_filename_length), content
    if not count:
        raise refuse("empty_file")
