"""Text of uploaded CSV files, as Excel and WPS save them in China."""

from __future__ import annotations


def decode_csv_bytes(data: bytes | str) -> str:
    """UTF-8 (with or without a BOM) or else GB18030 bytes as text; text is returned
    without its BOM. Raises ``UnicodeDecodeError`` when the bytes are neither."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")
