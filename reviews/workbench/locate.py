"""Where on the page a field's value was read: pure functions over text boxes.

The extractors keep values, not positions, so the workbench finds each stored value
again among the page's text (PDF words from pdfplumber, OCR boxes from rapidocr,
OFD text objects), line by line: the value's characters are matched in the line's
text with spaces, thousands separators and currency signs ignored, and the box is
the matched characters' extent (``layout.Line.x_range``). Boxes are returned as
fractions of the page, so they fit any rendering scale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from invoiceportal.invoices.extraction.layout import Line, TextBox, fold, group_lines

_IGNORED = frozenset(" ,¥￥\u3000")  # a tab (a wide gap) still separates
# Totals are printed below the lines that may repeat them (a one-line invoice's line
# amount equals its total): the last occurrence is the field's.
LAST_MATCH_FIELDS = frozenset({"amount", "tax_amount", "total_amount"})
_NUMERIC_FIELDS = frozenset(
    {"amount", "tax_amount", "total_amount", "code", "number", "check_code"}
)


@dataclass(frozen=True)
class FieldBox:
    """A field's place: page (1-based) and a box in fractions of the page."""

    page: int
    x: float
    y: float
    w: float
    h: float

    def as_percent(self) -> dict[str, str]:
        return {
            "left": f"{self.x * 100:.3f}",
            "top": f"{self.y * 100:.3f}",
            "width": f"{self.w * 100:.3f}",
            "height": f"{self.h * 100:.3f}",
        }


def _squeeze(text: str) -> tuple[str, list[int]]:
    """``text`` without ignored characters, with each kept character's index."""
    kept: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _IGNORED:
            continue
        kept.append(ch)
        index.append(i)
    return "".join(kept), index


def candidates(name: str, value: Any) -> list[str]:
    """The ways ``value`` of field ``name`` may be printed, most specific first."""
    if value in (None, ""):
        return []
    if isinstance(value, bool):
        return []
    if isinstance(value, Decimal):
        text = f"{value:.2f}"
        return [text]
    if isinstance(value, dt.date):
        return [
            f"{value:%Y年%m月%d日}",
            f"{value.year}年{value.month}月{value.day}日",
            f"{value:%Y-%m-%d}",
            f"{value:%Y/%m/%d}",
        ]
    text = str(value).strip()
    if not text:
        return []
    out = [text]
    folded = fold(text)
    if folded != text:
        out.append(folded)
    if name.endswith("_name"):
        # Brackets read either way; a long name may wrap: its first 8 characters.
        swapped = text.replace("（", "(").replace("）", ")")
        if swapped != text:
            out.append(swapped)
        if len(text) > 10:
            out.append(text[:8])
    return out


def _bounded(squeezed: str, start: int, end: int, numeric: bool) -> bool:
    """A number is not part of a longer number ("100.00" inside "2100.00")."""
    if not numeric:
        return True
    before = squeezed[start - 1] if start > 0 else ""
    after = squeezed[end] if end < len(squeezed) else ""
    return not (before.isdigit() or before == ".") and not (
        after.isdigit() or after == "."
    )


def _find_in_line(line: Line, wanted: str, numeric: bool) -> list[tuple[int, int]]:
    squeezed, index = _squeeze(line.text)
    target, _ = _squeeze(fold(wanted))
    if not target:
        return []
    found = []
    pos = squeezed.find(target)
    while pos >= 0:
        end = pos + len(target)
        if _bounded(squeezed, pos, end, numeric):
            found.append((index[pos], index[end - 1] + 1))
        pos = squeezed.find(target, pos + 1)
    return found


def locate_fields(
    pages: Sequence[Sequence[TextBox]],
    sizes: Sequence[tuple[float, float]],
    values: Mapping[str, Any],
) -> dict[str, FieldBox]:
    """For each field of ``values``, the box of its printed value (fields not found
    are left out). ``pages`` are the text boxes of each page in that page's units,
    ``sizes`` each page's (width, height) in the same units."""
    lines = [group_lines(boxes) for boxes in pages]
    found: dict[str, FieldBox] = {}
    for name, value in values.items():
        numeric = name in _NUMERIC_FIELDS
        for wanted in candidates(name, value):
            hits: list[FieldBox] = []
            for page_no, (page_lines, (width, height)) in enumerate(
                zip(lines, sizes, strict=False), start=1
            ):
                if width <= 0 or height <= 0:
                    continue
                for line in page_lines:
                    for start, end in _find_in_line(line, wanted, numeric):
                        x0, x1 = line.x_range(start, end)
                        hits.append(
                            FieldBox(
                                page_no,
                                max(0.0, x0 / width),
                                max(0.0, line.y0 / height),
                                max(0.0, (x1 - x0) / width),
                                max(0.0, (line.y1 - line.y0) / height),
                            )
                        )
            if hits:
                found[name] = hits[-1] if name in LAST_MATCH_FIELDS else hits[0]
                break
    return found
