"""Intake limits and hostile-file guards: sizes, XML entities, zip bombs.

Every reader goes through these helpers; nothing else in the extraction package
opens a ZIP or parses XML directly. Limits are plain data so rules or settings can
override them.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as SafeET

from .errors import refuse

MB = 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one uploaded file may cost us. Defaults suit single invoices and batches."""

    max_bytes: int = 20 * MB  # the uploaded file itself
    max_zip_entries: int = 1000
    max_member_bytes: int = 20 * MB  # one member, uncompressed
    max_uncompressed_total: int = 200 * MB  # all members, uncompressed
    max_compression_ratio: int = 100  # per member, once it is larger than below
    ratio_floor_bytes: int = 1 * MB  # small members may compress as well as they like
    max_zip_depth: int = 1  # archive levels; an OFD is a document, not a level
    max_pdf_pages: int = 20
    max_image_pixels: int = 40_000_000
    max_filename_length: int = 255  # bytes of UTF-8
    # One XML document (an e-invoice, or one part of an OFD). A real invoice has about
    # 55 elements plus 11 per line, 5 to 8 levels deep: 25,000 elements hold the 2,000
    # lines a 数电 invoice may have. Reading costs about 40 us per element, so the
    # bound also bounds the reader's time (about a second at the limit).
    max_xml_elements: int = 100_000  # a 数电 XML of 2,000 lines has about 22,000
    max_xml_depth: int = 64
    max_xml_attributes: int = 100  # on one element
    max_xml_seconds: float = 1.0  # for the pre-pass that checks the above
    # bytes read without a single element, text or comment (one huge start tag)
    max_xml_token_bytes: int = 1 * MB


DEFAULT_LIMITS = Limits()


def check_size(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an empty or oversized file."""
    if not data:
        raise refuse("empty_file")
    if len(data) > limits.max_bytes:
        raise refuse(
            "file_too_large", unsafe=True, limit_mb=round(limits.max_bytes / MB, 1)
        )


# --- XML -------------------------------------------------------------------------

_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_NATIVE = {"utf-8", "utf8", "utf-16", "utf16", "us-ascii", "ascii", "iso-8859-1"}
_GB = {"gbk", "gb2312", "gb18030", "cp936", "gb_2312-80"}


def _to_parsable(data: bytes) -> bytes:
    """expat reads only a few encodings: re-encode the GBK family (common in
    China) to UTF-8."""
    match = _DECL.match(data[:256])
    if not match:
        return data
    declared = match.group(1).decode("ascii").lower()
    if declared in _NATIVE:
        return data
    codec = "gb18030" if declared in _GB else declared
    try:
        text = data.decode(codec)
    except (LookupError, UnicodeDecodeError):
        raise refuse("malformed_xml") from None
    start, end = match.span(1)
    return (data[:start].decode("ascii") + "UTF-8").encode() + text[
        len(data[:end].decode(codec)) :
    ].encode("utf-8")


_XML_CHUNK = 64 * 1024
_CLOCK_EVERY = 512  # elements between two looks at the clock


def _too_complex(limits: Limits) -> Exception:
    return refuse(
        "xml_too_complex",
        unsafe=True,
        max_elements=limits.max_xml_elements,
        max_depth=limits.max_xml_depth,
    )


def check_xml_shape(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse XML with too many elements, too deep a nesting or too many attributes
    before any tree is built: a streaming expat pass that stops at the first excess
    (a million flat elements or 400,000 levels are refused in milliseconds), also
    stopped by a clock. DTDs are refused here too, so nothing is ever expanded."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    deadline = time.monotonic() + limits.max_xml_seconds
    depth = count = last_event = 0

    def seen(*args: object) -> None:
        nonlocal last_event
        last_event = parser.CurrentByteIndex

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, count, last_event
        last_event = parser.CurrentByteIndex
        depth += 1
        count += 1
        if (
            depth > limits.max_xml_depth
            or count > limits.max_xml_elements
            or len(attrs) > limits.max_xml_attributes
        ):
            raise _too_complex(limits)
        if count % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
            raise refuse(
                "extraction_timeout", unsafe=True, seconds=limits.max_xml_seconds
            )

    def end(name: str) -> None:
        nonlocal depth, last_event
        last_event = parser.CurrentByteIndex
        depth -= 1

    def doctype(*args: object) -> None:
        raise refuse("unsafe_xml", unsafe=True)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = seen
    parser.CommentHandler = seen
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        for offset in range(0, len(data), _XML_CHUNK):
            parser.Parse(data[offset : offset + _XML_CHUNK], False)
            if offset + _XML_CHUNK - last_event > limits.max_xml_token_bytes:
                raise _too_complex(limits)
            if time.monotonic() > deadline:
                raise refuse(
                    "extraction_timeout", unsafe=True, seconds=limits.max_xml_seconds
                )
        parser.Parse(b"", True)
    except (expat.ExpatError, ValueError, UnicodeError):
        raise refuse("malformed_xml") from None


def safe_parse_xml(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ET.Element:
    """Parse untrusted XML. DTDs, entities and external references are refused outright
    (billion laughs, XXE); a document that is not well formed is malformed_xml; one
    with more elements, levels or attributes than ``limits`` allow is refused before
    its tree is built (``check_xml_shape``)."""
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        # also caught by defusedxml; refusing early skips expat entirely
        raise refuse("unsafe_xml", unsafe=True)
    parsable = _to_parsable(data)
    check_xml_shape(parsable, limits)
    try:
        return SafeET.fromstring(
            parsable,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
    except defusedxml.DefusedXmlException:
        raise refuse("unsafe_xml", unsafe=True) from None
    except (ET.ParseError, ValueError, UnicodeError):
        raise refuse("malformed_xml") from None


# --- ZIP -------------------------------------------------------------------------


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGIC


def check_member_name(name: str) -> str:
    """A member path that stays inside the archive: relative, no '..', no backslash,
    no drive letter, no control character."""
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name)
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
        or ".." in name.split("/")
        or posixpath.normpath(name).startswith("..")
    ):
        raise refuse("unsafe_archive_path", unsafe=True, member=name[:200])
    return name


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, repaired when a Chinese Windows tool wrote GBK without the
    UTF-8 flag (zipfile then decodes it as cp437)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        for codec in ("utf-8", "gb18030"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
    return name


def open_zip_safely(data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Open an archive after checking its central directory against ``limits``.

    Declared sizes are checked here; ``read_member`` also caps what is actually
    decompressed, because headers can lie.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise refuse("corrupt_archive") from None
    if len(infos) > limits.max_zip_entries:
        raise refuse("zip_bomb", unsafe=True, entries=len(infos))
    total = 0
    for info in infos:
        check_member_name(member_name(info))
        if info.flag_bits & 0x1:
            raise refuse("encrypted_archive")
        _check_declared(info, limits)
        total += info.file_size
        if total > limits.max_uncompressed_total:
            raise refuse("zip_bomb", unsafe=True, uncompressed=total)
    return zf


def _check_declared(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.max_member_bytes:
        raise refuse("zip_bomb", unsafe=True, member=info.filename[:200])
    if info.file_size > limits.ratio_floor_bytes:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise refuse("zip_bomb", unsafe=True, ratio=round(ratio))


def read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """Decompress one member, never producing more than its declared size, the member
    limit or the ratio limit allows. Output beyond the declared size (a header that
    lies) is a zip bomb; a CRC or length mismatch is a corrupt archive."""
    _check_declared(info, limits)
    cap = min(info.file_size, limits.max_member_bytes)
    if info.compress_size and info.file_size > limits.ratio_floor_bytes:
        cap = min(cap, info.compress_size * limits.max_compression_ratio)
    if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        out = _inflate(zf, info, cap)
    else:
        out = _read_stream(zf, info, cap)
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise refuse("corrupt_archive")
    return out


def _raw_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's compressed bytes, located through its local header."""
    fp = zf.fp
    if fp is None:
        raise refuse("corrupt_archive")
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise refuse("corrupt_archive")
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    raw = fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise refuse("corrupt_archive")
    return raw


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    raw = _raw_member(zf, info)
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > cap:
            raise refuse("zip_bomb", unsafe=True, member=info.filename[:200])
        return raw
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    pending = raw
    try:
        while pending and not inflater.eof:
            out += inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if len(out) > cap:
                raise refuse("zip_bomb", unsafe=True, member=info.filename[:200])
        out += inflater.flush(cap + 1 - len(out))
    except zlib.error:
        raise refuse("corrupt_archive") from None
    if len(out) > cap:
        raise refuse("zip_bomb", unsafe=True, member=info.filename[:200])
    return bytes(out)


def _read_stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Other compression methods (bzip2, lzma): zipfile's stream, read with a cap."""
    out = bytearray()
    try:
        with zf.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                out += chunk
                if len(out) > cap:
                    raise refuse("zip_bomb", unsafe=True, member=info.filename[:200])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise refuse("corrupt_archive") from None
    except (NotImplementedError, RuntimeError):  # unknown method, encryption
        raise refuse("corrupt_archive") from None
    return bytes(out)


def iter_zip_members(
    zf: zipfile.ZipFile,
    limits: Limits = DEFAULT_LIMITS,
    *,
    depth: int = 1,
    allow_ofd: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """Yield ``(name, bytes)`` for every file member (directories skipped).

    ``depth`` is this archive's nesting level. A member that is itself a ZIP would sit
    one level deeper and is refused beyond ``limits.max_zip_depth``, except OFD
    documents when ``allow_ofd`` (a batch of OFD invoices is normal).
    The running total of bytes actually read is capped too.
    """
    total = 0
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = check_member_name(member_name(info))
        data = read_member(zf, info, limits)
        total += len(data)
        if total > limits.max_uncompressed_total:
            raise refuse("zip_bomb", unsafe=True, uncompressed=total)
        nested = is_zip(data) and depth + 1 > limits.max_zip_depth
        if nested and not (allow_ofd and _is_ofd_container(data)):
            raise refuse("nested_archive", unsafe=True, member=name[:200])
        yield name, data


def _is_ofd_container(data: bytes) -> bool:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return False
    return any(n.lower().lstrip("/") == "ofd.xml" for n in names)
