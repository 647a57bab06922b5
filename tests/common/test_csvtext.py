"""Uploaded CSV text: UTF-8 with or without BOM, GB18030, nothing else."""

from __future__ import annotations

import pytest

from invoiceportal.common.csvtext import decode_csv_bytes

ROW = "2026-10-01,holiday,国庆节\n"


@pytest.mark.parametrize(
    "data",
    [
        ROW.encode("utf-8"),
        "\ufeff".encode() + ROW.encode("utf-8"),
        ROW.encode("gb18030"),
        ROW,
        "\ufeff" + ROW,
    ],
    ids=["utf-8", "utf-8 with BOM", "gb18030", "text", "text with BOM"],
)
def test_csv_text_is_read_in_the_encodings_excel_writes(data: bytes | str) -> None:
    assert decode_csv_bytes(data) == ROW


def test_bytes_that_are_neither_encoding_are_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode_csv_bytes(b"\xff\xfe\x00\x81\x30")
