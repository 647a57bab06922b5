"""Invoice fields from positioned text: the PDF text layer and OCR share this finder.

Input is a bag of boxes ``(text, x0, y0, x1, y1, conf)`` in any unit with y growing
downwards (PDF words from pdfplumber, OCR lines from rapidocr). Nothing here reads the
page as one string: boxes are grouped into lines by position, labels are found inside
lines, values are read to the right of their label up to the next wide gap or label,
buyer and seller are told apart by a label that names its party (购买方名称,
付款方名称, 收款方…), by position on the legacy layout (the block below 价税合计 and
left of 备注 is the seller's), by the vertical 购买方/销售方 labels, or, failing those,
by left/right and top/bottom order; table cells are assigned to columns by the
x-range of their header. Labels are matched after a length-preserving NFKC fold
(Kangxi radicals, full-width punctuation); values keep their printed characters except
radicals and compatibility ideographs.

``read_pages`` reads an invoice printed over several pages (lines from every page,
a continued page's 小计 row skipped, totals from the last page). The printed title
decides kinds that are not VAT invoices (通用机打发票, 铁路电子客票, 航空运输电子客票
行程单) whatever the code's shape says; ticket pages are read by ``ticket_text`` and
their ``extras`` are documented at ``_ticket`` below.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from invoiceportal.common.capitals import parse_capitals
from invoiceportal.common.taxid import TaxIdForm, classify_tax_id

from .kinds import digital_kind, kind_from_code
from .types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from .values import parse_amount, parse_date, parse_decimal, parse_rate

# kinds whose 金额 + 税额 = 价税合计 relation does not hold or is not printed
NO_VAT_SUM_KINDS = frozenset(
    {InvoiceKind.RAIL_TICKET, InvoiceKind.AIR_ITINERARY, InvoiceKind.GENERAL_MACHINE}
)
TAB_GAP = 2.5  # a gap wider than this many text heights separates fields
SPACE_GAP = 0.2  # a gap wider than this many text heights is a space


@dataclass(frozen=True)
class TextBox:
    """One piece of text on the page; y grows downwards."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    conf: float = 1.0

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1e-6)

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


# --- normalisation ------------------------------------------------------------


def _is_compat_ideograph(cp: int) -> bool:
    return (
        0x2F00 <= cp <= 0x2FDF  # Kangxi radicals
        or 0x2E80 <= cp <= 0x2EFF  # CJK radicals supplement
        or 0xF900 <= cp <= 0xFAFF  # CJK compatibility ideographs
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _fold_char(ch: str) -> str:
    if ch == "\t":
        return ch
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        return " " if folded.isspace() else ch
    return " " if folded.isspace() else folded


def fold(text: str) -> str:
    """NFKC character by character, keeping the length (for matching labels)."""
    return "".join(_fold_char(ch) for ch in text)


def fold_value(text: str) -> str:
    """Printed characters kept, except radicals and compatibility ideographs."""
    out = []
    for ch in text:
        if _is_compat_ideograph(ord(ch)):
            folded = unicodedata.normalize("NFKC", ch)
            out.append(folded if len(folded) == 1 else ch)
        elif ch == "\u3000":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out).strip()


def _width(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55


# --- lines --------------------------------------------------------------------


@dataclass
class Line:
    """Boxes on one visual line, left to right, as one string with gap separators."""

    boxes: list[TextBox]
    raw: str = ""
    text: str = ""  # folded, same length as raw
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # start, end, box

    def __post_init__(self) -> None:
        self.boxes.sort(key=lambda b: b.x0)
        parts: list[str] = []
        pos = 0
        prev: TextBox | None = None
        for i, box in enumerate(self.boxes):
            if prev is not None:
                gap = box.x0 - prev.x1
                h = min(box.h, prev.h)
                sep = "\t" if gap > TAB_GAP * h else " " if gap > SPACE_GAP * h else ""
                parts.append(sep)
                pos += len(sep)
            parts.append(box.text)
            self.spans.append((pos, pos + len(box.text), i))
            pos += len(box.text)
            prev = box
        self.raw = "".join(parts)
        self.text = fold(self.raw)

    @property
    def y0(self) -> float:
        return min(b.y0 for b in self.boxes)

    @property
    def y1(self) -> float:
        return max(b.y1 for b in self.boxes)

    @property
    def h(self) -> float:
        heights = sorted(b.h for b in self.boxes)
        return heights[len(heights) // 2]

    def x_range(self, start: int, end: int) -> tuple[float, float]:
        """Approximate x-extent of ``raw[start:end]``, interpolating inside boxes."""
        xs: list[float] = []
        for s, e, i in self.spans:
            lo, hi = max(start, s), min(end, e)
            if lo >= hi:
                continue
            box = self.boxes[i]
            widths = [_width(ch) for ch in self.raw[s:e]]
            total = sum(widths) or 1.0
            unit = (box.x1 - box.x0) / total
            xs.append(box.x0 + unit * sum(widths[: lo - s]))
            xs.append(box.x0 + unit * sum(widths[: hi - s]))
        if not xs:
            return (0.0, 0.0)
        return (min(xs), max(xs))

    def conf(self, start: int, end: int) -> float:
        confs = [self.boxes[i].conf for s, e, i in self.spans if s < end and e > start]
        return min(confs, default=1.0)


def group_lines(boxes: Iterable[TextBox]) -> list[Line]:
    """Cluster boxes whose vertical centres fall inside one another's extent."""
    rows: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.yc):
        if not box.text.strip():
            continue
        for row in reversed(rows[-4:]):
            y0 = sum(b.y0 for b in row) / len(row)
            y1 = sum(b.y1 for b in row) / len(row)
            overlap = min(box.y1, y1) - max(box.y0, y0)
            if overlap >= 0.5 * min(box.h, y1 - y0) and not _overlaps_any(box, row):
                row.append(box)
                break
        else:
            rows.append([box])
    return [Line(row) for row in rows]


def _overlaps_any(box: TextBox, row: list[TextBox]) -> bool:
    return any(min(box.x1, b.x1) - max(box.x0, b.x0) > 0.5 * box.h for b in row)


# --- vertical labels (购买方信息, 销售方信息, 备注, 密码区) ---------------

ANCHOR_WORDS = {
    "buyer": ("购买方信息", "购买方"),
    "seller": ("销售方信息", "销售方"),
    "remarks": ("备注",),
    "cipher": ("密码区",),
}


@dataclass(frozen=True)
class Anchor:
    kind: str
    x0: float
    y0: float
    x1: float
    y1: float


def _anchor_kind(text: str) -> str | None:
    t = re.sub(r"\s", "", fold(text)).rstrip(":")
    for kind, words in ANCHOR_WORDS.items():
        if t in words:
            return kind
    return None


def find_anchors(boxes: Sequence[TextBox]) -> tuple[list[Anchor], list[TextBox]]:
    """Vertical labels written one character per line; returns them and the rest."""
    singles = [b for b in boxes if len(b.text.strip()) == 1]
    used: set[int] = set()
    anchors: list[Anchor] = []
    by_y = sorted(range(len(singles)), key=lambda i: singles[i].yc)
    for i in by_y:
        if i in used:
            continue
        stack = [i]
        for j in by_y:
            last = singles[stack[-1]]
            cand = singles[j]
            if j in used or j in stack or cand.yc <= last.yc:
                continue
            if abs(cand.xc - last.xc) < 0.5 * last.h and cand.y0 - last.y1 < 2 * last.h:
                stack.append(j)
        text = "".join(singles[k].text.strip() for k in stack)
        kind = _anchor_kind(text) if len(stack) > 1 else None
        if kind:
            used.update(stack)
            parts = [singles[k] for k in stack]
            anchors.append(
                Anchor(
                    kind,
                    min(p.x0 for p in parts),
                    min(p.y0 for p in parts),
                    max(p.x1 for p in parts),
                    max(p.y1 for p in parts),
                )
            )
    rest: list[TextBox] = []
    taken = {id(singles[k]) for k in used}
    for box in boxes:
        kind = _anchor_kind(box.text) if id(box) not in taken else None
        if id(box) in taken:
            continue
        if kind and box.y1 - box.y0 > 1.5 * (box.x1 - box.x0):  # one tall OCR box
            anchors.append(Anchor(kind, box.x0, box.y0, box.x1, box.y1))
            continue
        rest.append(box)
    return anchors, rest


# --- labels -------------------------------------------------------------------


def _label(word: str) -> str:
    return r"[ ]*".join(re.escape(ch) for ch in word)


LABELS = {
    "number": _label("发票号码"),
    "code": _label("发票代码"),
    "date": _label("开票日期"),
    "check": _label("校验码"),
    "machine": _label("机器编号"),
    # OCR may lose the 名 of a spaced-out "名　　称："
    "name": r"(?<!项目)(?<!服务)(?<!货物)"
    + _label("名称")
    + r"|(?:^|(?<=[\t ]))称(?=[ ]*:)",
    "tax_id": rf"(?:{_label('统一社会信用代码')}[ ]*/[ ]*)?{_label('纳税人识别号')}",
    "address": _label("地址") + r"[ 、,]*" + _label("电话"),
    "bank": _label("开户行及账号"),
    "drawer": _label("开票人"),
    "payee": _label("收款人"),
    "reviewer": _label("复核") + "人?",
    "seal": _label("销售方") + r"[ ]*[:(]",
    "total": _label("价税合计"),
    "words": r"\([ ]*大[ ]*写[ ]*\)",
    "figures": r"\([ ]*小[ ]*写[ ]*\)",
    "remarks": r"^[ ]*" + _label("备注") + r"[ ]*:?",
    # a ticket's buyer ID: the label alone, not the 数电 "统一社会信用代码/纳税人识别号"
    "uscc": _label("统一社会信用代码") + r"(?![ ]*/)",
}
_ANY_LABEL = re.compile("|".join(f"(?:{p})" for p in LABELS.values()))
# the 合计 row; OCR may keep only one of the two spaced-out characters
_SUM = re.compile(r"(?<!税)合[ ]*计(?![ ]*税)|^[ ]*[合计]?[ ]*\t?[ ]*-?¥")
_SUBTOTAL = re.compile(r"[ ]*小[ ]*计")  # a continued page's own sum
_MONEY = re.compile(r"-?[¥]?[ ]?-?\d[\d,]*\.\d{2}(?!\d)")


@dataclass(frozen=True)
class Hit:
    """A label found in a line, and the value to its right."""

    line: Line
    start: int
    end: int
    value: str  # raw characters
    value_start: int
    conf: float

    @property
    def x(self) -> float:
        return self.line.x_range(self.start, self.end)[0]

    @property
    def y(self) -> float:
        return (self.line.y0 + self.line.y1) / 2


MAX_VALUE_GAP = (
    8.0  # a value printed apart from its label starts within this many heights
)


def _value_span(line: Line, end: int) -> tuple[int, int]:
    text = line.text
    start = end
    while start < len(text) and text[start] in " :":
        start += 1
    if text.startswith("\t", start):  # label and value printed apart
        nxt = start + 1
        label_end = line.x_range(end - 1, end)[1]
        value_x = line.x_range(nxt, nxt + 1)[0]
        if value_x - label_end > MAX_VALUE_GAP * line.h or _ANY_LABEL.match(text, nxt):
            return start, start
        start = nxt
    stop = text.find("\t", start)
    stop = len(text) if stop < 0 else stop
    nxt = _ANY_LABEL.search(text, start, stop)
    if nxt and nxt.start() > start:
        stop = nxt.start()
    elif nxt and nxt.start() == start:
        stop = start
    return start, stop


def find_hits(lines: Sequence[Line], key: str) -> list[Hit]:
    pattern = re.compile(LABELS[key])
    hits = []
    for line in lines:
        for match in pattern.finditer(line.text):
            start, stop = _value_span(line, match.end())
            value = line.raw[start:stop].strip()
            conf = line.conf(match.start(), stop) if value else 0.0
            hits.append(Hit(line, match.start(), match.end(), value, start, conf))
    return hits


def _first(hits: list[Hit]) -> Hit | None:
    with_value = [h for h in hits if h.value]
    return with_value[0] if with_value else (hits[0] if hits else None)


# --- the result ---------------------------------------------------------------


@dataclass
class _Builder:
    inv: ExtractedInvoice
    source: FieldSource

    def set(self, name: str, value: object, conf: float) -> None:
        if value in (None, ""):
            return
        setattr(self.inv, name, value)
        self.inv.readings[name] = FieldReading(self.source, round(max(conf, 0.0), 4))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", fold(text))


def _shape(ok: bool) -> float:
    return 1.0 if ok else 0.5


_TAX_ID = re.compile(r"[0-9A-Z]{15,20}")
_OCR_DIGIT_FIX = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5"})


def clean_tax_id(text: str) -> tuple[str, bool]:
    """A taxpayer ID from printed text, and whether it has a known shape."""
    compact = re.sub(r"[\s\-]", "", fold(text)).upper()
    match = _TAX_ID.search(compact)
    if not match:
        return "", False
    value = match.group(0)
    if len(value) > 18 and classify_tax_id(value[:18]) is TaxIdForm.USCC:
        value = value[:18]
    if classify_tax_id(value) in (TaxIdForm.USCC, TaxIdForm.PERSONAL_ID):
        return value, True
    fixed = value.translate(_OCR_DIGIT_FIX)
    if classify_tax_id(fixed) is TaxIdForm.USCC:
        return fixed, True
    return value, classify_tax_id(value) is not TaxIdForm.INVALID


def _party_of(hit: Hit, anchors: list[Anchor], others: list[Hit]) -> str:
    """Buyer or seller, by the nearest vertical label to the left (or by order)."""
    parties = [a for a in anchors if a.kind in ("buyer", "seller")]
    h = hit.line.h
    best: tuple[float, str] | None = None
    for a in parties:
        if a.x0 > hit.x + h:
            continue
        dy = max(a.y0 - hit.y, hit.y - a.y1, 0.0)
        cost = max(hit.x - a.x1, 0.0) + 3 * dy
        if best is None or cost < best[0]:
            best = (cost, a.kind)
    if best is not None:
        return best[1]
    # no vertical labels: left of / above the other hit is the buyer
    for other in others:
        if other is hit:
            continue
        same_row = abs(other.y - hit.y) < h
        first = hit.x < other.x if same_row else hit.y < other.y
        return "buyer" if first else "seller"
    return "seller"


_PREFIX_PARTY = (
    (re.compile(r"(?:购买方|购方|付款方|付款单位|付款人)[ ]*$"), "buyer"),
    (re.compile(r"(?:销售方|销方|收款方|收款单位|收款人)[ ]*$"), "seller"),
)


def _party_by_prefix(hit: Hit) -> str | None:
    """``购买方名称``, ``付款方名称``, ``收款方识别号``: the label names its party."""
    before = hit.line.text[max(0, hit.start - 6) : hit.start]
    for pattern, party in _PREFIX_PARTY:
        if pattern.search(before):
            return party
    return None


def _below_total(lines: list[Line], anchors: list[Anchor]) -> tuple[float, float]:
    """The legacy seller block: below the 价税合计 row and left of 备注.

    Returns ``(y, x)``: hits lower than y and left of x are the seller's; (inf, inf)
    when the page has no 价税合计 row."""
    total_y = next(
        (ln.y1 for ln in lines if re.search(LABELS["total"], ln.text)), float("inf")
    )
    remarks = [a for a in anchors if a.kind == "remarks" and a.y0 > total_y - 1]
    right = min((a.x0 for a in remarks), default=float("inf"))
    if not remarks:  # a horizontal 备注 label: its line holds remarks, not parties
        for hit in find_hits(lines, "remarks"):
            if hit.y > total_y:
                right = min(right, hit.x)
    return total_y, right


def _parties(b: _Builder, lines: list[Line], anchors: list[Anchor]) -> None:
    total_y, right = _below_total(lines, anchors)
    for key in ("name", "tax_id"):
        hits = find_hits(lines, key)
        chosen: dict[str, Hit] = {}
        for hit in hits:
            party = _party_by_prefix(hit)
            if party is None and hit.line.y0 > total_y and hit.x < right:
                # the legacy layout puts the seller block below 价税合计, beside 备注,
                # whether or not its vertical 销售方 label was read
                party = "seller"
            if party is None:
                party = _party_of(hit, anchors, hits)
            if party not in chosen or (hit.value and not chosen[party].value):
                chosen[party] = hit
        for party, hit in chosen.items():
            if key == "name":
                b.set(f"{party}_name", fold_value(hit.value), hit.conf)
            else:
                value, ok = clean_tax_id(hit.value)
                b.set(f"{party}_tax_id", value, hit.conf * _shape(ok))


def _identity(b: _Builder, lines: list[Line]) -> None:
    hit = _first(find_hits(lines, "number"))
    if hit and hit.value:
        number = _digits(hit.value)
        b.set("number", number, hit.conf * _shape(len(number) in (8, 20)))
    hit = _first(find_hits(lines, "code"))
    if hit and hit.value:
        code = _digits(hit.value)
        b.set("code", code, hit.conf * _shape(len(code) in (10, 12)))
    hit = _first(find_hits(lines, "date"))
    if hit and hit.value:
        b.set("issue_date", parse_date(fold(hit.value)), hit.conf)
    hit = _first(find_hits(lines, "check"))
    if hit and hit.value:
        check = _digits(hit.value)
        b.set("check_code", check, hit.conf * _shape(len(check) == 20))
    hit = _first(find_hits(lines, "drawer"))
    if hit and hit.value:
        b.set("drawer", fold_value(hit.value), hit.conf)


def detect_kind(lines: Sequence[Line], code: str, number: str) -> InvoiceKind:
    """Kind from the printed title, else from the code's shape."""
    page = "".join(line.text.replace(" ", "") for line in lines)
    # titles of kinds that are not VAT invoices win over the code's shape
    if "通用机打发票" in page:
        return InvoiceKind.GENERAL_MACHINE
    if "铁路电子客票" in page:
        return InvoiceKind.RAIL_TICKET
    if "航空运输电子客票行程单" in page:
        return InvoiceKind.AIR_ITINERARY
    title = re.search(r"电子发票\((增值税专用发票|普通发票)\)", page)
    if title:
        return digital_kind(title.group(1))
    if code:
        return kind_from_code(code)
    if len(number) == 20:
        return digital_kind("专用" if "专用发票" in page else "普通")
    return InvoiceKind.OTHER


# --- totals -------------------------------------------------------------------


def _money_tokens(line: Line, start: int = 0, stop: int | None = None):
    stop = len(line.text) if stop is None else stop
    for match in _MONEY.finditer(line.text, start, stop):
        value = parse_amount(match.group(0).replace(" ", ""))
        if value is not None:
            x0, x1 = line.x_range(match.start(), match.end())
            yield value, (x0 + x1) / 2, line.conf(match.start(), match.end())


def _totals(b: _Builder, lines: list[Line], table: _Table | None) -> None:
    for line in lines:
        if _SUM.search(line.text) and not re.search(LABELS["total"], line.text):
            tokens = list(_money_tokens(line))
            if not tokens:
                continue
            if table and "amount" in table.columns and "tax" in table.columns:
                for value, xc, conf in tokens:
                    key = table.column_of(xc, ("amount", "tax"))
                    b.set("amount" if key == "amount" else "tax_amount", value, conf)
            else:
                b.set("amount", tokens[0][0], tokens[0][2])
                if len(tokens) > 1:
                    b.set("tax_amount", tokens[-1][0], tokens[-1][2])
            break
    for hit in find_hits(lines, "total"):
        line = hit.line
        words = re.compile(LABELS["words"]).search(line.text, hit.end)
        figures = re.compile(LABELS["figures"]).search(line.text, hit.end)
        start = words.end() if words else hit.end
        stop = figures.start() if figures else len(line.text)
        raw = re.sub(r"\s", "", line.raw[start:stop]).strip(":：")
        words_text = fold_value(
            re.sub(
                r"[^零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正负数()（）⊗⼀-⿕]",
                "",
                raw,
            )
        )
        words_text = re.sub(r"^[(（]负数[)）]", "（负数）", words_text)
        if words_text:
            b.set("total_in_words", words_text, line.conf(start, stop))
        tokens = list(_money_tokens(line, figures.end() if figures else hit.end))
        if tokens:
            b.set("total_amount", tokens[0][0], tokens[0][2])
        break


# --- the line table -----------------------------------------------------------

HEADERS = {
    "name": r"项[ ]*目[ ]*名[ ]*称|货物或应税劳务[、,]?[ ]*服务名称|货物或应税劳务名称",
    "spec": _label("规格型号"),
    "unit": r"(?<!\S)单[ ]*位",
    "quantity": _label("数量"),
    "unit_price": _label("单价"),
    "amount": r"(?<!价税合计)金[ ]*额",
    "rate": r"税率(?:[ ]*/[ ]*征收率)?|征收率",
    "tax": _label("税额"),
}
NUMERIC = ("quantity", "unit_price", "amount", "rate", "tax")


@dataclass
class _Table:
    header: Line
    columns: dict[str, tuple[float, float]]  # key -> header x-range

    def column_of(self, x: float, keys: Sequence[str] | None = None) -> str:
        keys = list(keys or self.columns)
        order = sorted(keys, key=lambda k: self.columns[k][0])
        for left, right in pairwise(order):
            boundary = (self.columns[left][1] + self.columns[right][0]) / 2
            if x < boundary:
                return left
        return order[-1]


def _find_table(lines: list[Line]) -> _Table | None:
    for line in lines:
        found = {}
        for key, pattern in HEADERS.items():
            match = re.search(pattern, line.text)
            if match:
                found[key] = line.x_range(match.start(), match.end())
        # a general machine-printed invoice has no tax columns, but prices them
        priced = "quantity" in found and "unit_price" in found
        if (
            len(found) >= 5
            and "amount" in found
            and ("tax" in found or "rate" in found or priced)
        ):
            return _Table(line, found)
    return None


def _tokens(line: Line) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^\t ]+", line.text)]


_RATE = re.compile(r"^-?\d+(?:\.\d+)?%$|免税|不征税|出口零税率")
_NUMBER = re.compile(r"^-?[\d,]*\.?\d+$")
_STARS = re.compile(r"^\*+$")


def _row_cells(line: Line, table: _Table) -> dict[str, tuple[str, float]]:
    """Assign a row's tokens to columns. The rate token (``13%``, ``免税``) is found by
    its content; the number just left of it is the amount and what is right of it the
    tax, so narrow columns cannot swap values; other tokens go by header x-range."""
    tokens = _tokens(line)
    texts = [line.text[s:e] for s, e in tokens]
    keys: list[str | None] = [None] * len(tokens)
    rate_at = next((i for i, t in enumerate(texts) if _RATE.search(t)), None)
    left_keys: Sequence[str] | None = None
    if rate_at is not None:
        keys[rate_at] = "rate"
        for i in range(rate_at + 1, len(tokens)):
            if _NUMBER.match(texts[i].replace("¥", "")) or _STARS.match(texts[i]):
                keys[i] = "tax"
        amount_at = next(
            (i for i in range(rate_at - 1, -1, -1) if _NUMBER.match(texts[i])), None
        )
        if amount_at is not None:
            keys[amount_at] = "amount"
        left_keys = [
            k
            for k in ("name", "spec", "unit", "quantity", "unit_price")
            if k in table.columns
        ]
    for i, (start, end) in enumerate(tokens):
        if keys[i] is None and (rate_at is None or i < rate_at):
            x0, x1 = line.x_range(start, end)
            keys[i] = table.column_of((x0 + x1) / 2, left_keys)
    # two numbers before the amount are quantity then unit price, wherever they sit
    priced = [i for i, k in enumerate(keys) if k in ("quantity", "unit_price")]
    if len(priced) == 2 and all(_NUMBER.match(texts[i]) for i in priced):
        keys[priced[0]], keys[priced[1]] = "quantity", "unit_price"
    cells: dict[str, list[tuple[int, int]]] = {}
    for i, (start, end) in enumerate(tokens):
        key = keys[i]
        if key is not None:
            cells.setdefault(key, []).append((start, end))
    out = {}
    for key, spans in cells.items():
        start, end = spans[0][0], spans[-1][1]
        out[key] = (line.raw[start:end].replace("\t", " "), line.conf(start, end))
    return out


def _parse_row(cells: dict[str, tuple[str, float]]) -> tuple[ExtractedLine, float]:
    def text(key: str) -> str:
        return fold_value(cells.get(key, ("", 1.0))[0])

    rate, exempt = parse_rate(text("rate"))
    tax_text = fold(text("tax")).strip()
    line = ExtractedLine(
        name=text("name"),
        spec=text("spec"),
        unit=text("unit"),
        quantity=parse_decimal(text("quantity")),
        unit_price=parse_decimal(text("unit_price")),
        amount=parse_amount(text("amount")),
        tax_rate=rate,
        tax_amount=None if tax_text.startswith("*") else parse_amount(tax_text),
        tax_exempt=exempt,
    )
    conf = min((c for _, c in cells.values()), default=1.0)
    return line, conf


def _items(b: _Builder, lines: list[Line], table: _Table) -> None:
    start = lines.index(table.header) + 1
    rows: list[tuple[dict[str, tuple[str, float]], bool]] = []
    for line in lines[start:]:
        if (
            _SUM.search(line.text)
            or _SUBTOTAL.match(line.text)
            or re.search(LABELS["total"], line.text)
        ):
            break
        cells = _row_cells(line, table)
        numeric = any(k in cells for k in NUMERIC)
        if rows and (not numeric or not rows[-1][1]):
            prev, prev_numeric = rows[-1]
            for key, (value, conf) in cells.items():
                old, old_conf = prev.get(key, ("", 1.0))
                joiner = "" if key == "name" or not old else " "
                prev[key] = (
                    old + joiner + value if old else value,
                    min(conf, old_conf),
                )
            rows[-1] = (prev, prev_numeric or numeric)
        else:
            rows.append((cells, numeric))
    items = [_parse_row(cells) for cells, _ in rows]
    items = [(ln, c) for ln, c in items if ln.amount is not None or ln.name]
    if items:
        b.set("lines", [ln for ln, _ in items], min(c for _, c in items))


# --- remarks ------------------------------------------------------------------

_RED_OF = (
    re.compile(r"被红冲蓝字数电发票号码[ ]*:?[ ]*(\d{20})"),
    re.compile(r"对应正数发票代码[ ]*:?[ ]*\d{10,12}[ ]*号码[ ]*:?[ ]*(\d{8})"),
)
_STOP_LABELS = re.compile(
    "|".join(LABELS[k] for k in ("drawer", "payee", "reviewer", "seal"))
)


def _is_total_row(line: Line) -> bool:
    return bool(re.search(LABELS["total"], line.text) or _SUM.search(line.text))


def _remarks(b: _Builder, lines: list[Line], anchors: list[Anchor]) -> None:
    anchor = next((a for a in anchors if a.kind == "remarks"), None)
    parts: list[str] = []
    confs: list[float] = []
    if anchor is None:
        for hit in find_hits(lines, "remarks"):
            if hit.value:
                parts.append(hit.value)
                confs.append(hit.conf)
            break
    else:
        h = anchor.x1 - anchor.x0
        mid = (anchor.y0 + anchor.y1) / 2
        # the block starts below the 价税合计 row (both layouts put 备注 after it)
        top = max(
            (ln.y1 for ln in lines if ln.y1 < mid and _is_total_row(ln)),
            default=anchor.y0 - 2 * h,
        )
        for line in lines:
            yc = (line.y0 + line.y1) / 2
            if yc < max(top, anchor.y0 - 3 * h) or line.y0 > anchor.y1 + 4 * h:
                continue
            if line.y0 > anchor.y1 - h and _STOP_LABELS.search(line.text):
                break
            right = [i for i, box in enumerate(line.boxes) if box.x0 > anchor.x1]
            if not right:
                continue
            spans = [s for s in line.spans if s[2] in right]
            start, end = spans[0][0], spans[-1][1]
            parts.append(line.raw[start:end].replace("\t", " "))
            confs.append(line.conf(start, end))
    text = fold_value("".join(parts))
    if text:
        b.set("remarks", text, min(confs))
        folded = fold(text)
        for pattern in _RED_OF:
            match = pattern.search(folded)
            if match:
                b.set("red_of_number", match.group(1), min(confs))


# --- capitals -----------------------------------------------------------------


def capitals_to_amount(text: str) -> Decimal | None:
    """价税合计 in capitals as a number (``common.capitals``), None when unreadable.

    A leading ⊗ is printed before the capitals of legacy prints: here it is not a
    sign by itself (only 负数 is), and ``consistency`` compares magnitudes.
    """
    s = (text or "").strip().lstrip("⊗").strip()
    try:
        return parse_capitals(s)
    except ValueError:
        return None


# --- entry point --------------------------------------------------------------


def read_fields(
    boxes: Iterable[TextBox], *, source: FieldSource
) -> tuple[ExtractedInvoice, list[Line]]:
    """Every field the boxes show; readings carry ``source`` and the box confidences."""
    anchors, rest = find_anchors(list(boxes))
    lines = group_lines(rest)
    b = _Builder(ExtractedInvoice(), source)
    _identity(b, lines)
    _parties(b, lines, anchors)
    table = _find_table(lines)
    if table:
        _items(b, lines, table)
    _totals(b, lines, table)
    _remarks(b, lines, anchors)
    inv = b.inv
    kind = detect_kind(lines, inv.code, inv.number)
    if kind is not InvoiceKind.OTHER:
        b.set(
            "kind",
            kind,
            min(inv.readings.get("number", FieldReading(source, 1)).confidence, 1.0),
        )
    if kind in NO_VAT_SUM_KINDS - {InvoiceKind.GENERAL_MACHINE}:
        # a ticket prints no seller block: a 名称 elsewhere on it is not one
        for name in ("seller_name", "seller_tax_id"):
            setattr(inv, name, "")
            inv.readings.pop(name, None)
    if kind in (InvoiceKind.RAIL_TICKET, InvoiceKind.AIR_ITINERARY):
        _ticket(b, lines, kind)
    elif kind is InvoiceKind.GENERAL_MACHINE:
        _general_machine(b, lines)
    # ⊗ also stands before the capitals of ordinary legacy prints: only 负数 is a sign
    red = (inv.total_amount is not None and inv.total_amount < 0) or bool(
        re.match(r"\(负数\)", fold(inv.total_in_words))
    )
    if red:
        b.set(
            "is_red",
            True,
            inv.readings.get("total_amount", FieldReading(source, 0.5)).confidence,
        )
    return inv, lines


# the last page that prints them gives these (totals, remarks, the issuer)
LAST_PAGE_FIELDS = (
    "amount",
    "tax_amount",
    "total_amount",
    "total_in_words",
    "remarks",
    "red_of_number",
    "is_red",
    "drawer",
)


def _same_number(a: str, b: str, source: FieldSource) -> bool:
    """The same invoice number; OCR may misread a digit or two."""
    if a == b:
        return True
    if source is not FieldSource.OCR or len(a) != len(b):
        return False
    return sum(x != y for x, y in zip(a, b, strict=True)) <= 2


def read_pages(
    pages: Sequence[Iterable[TextBox]], *, source: FieldSource
) -> ExtractedInvoice:
    """An invoice printed over several pages (共N页 第i页).

    Every page repeats the header and the parties; each page lists its own lines
    (a continued page may end in a 小计 row, which is not a line); the totals, the
    capitals and the remarks are printed on the last page. Each page is read on its
    own (no stacking), the lines are joined in page order, identity and parties come
    from the first page that has them and the totals from the last that has them.
    Only pages that print the invoice's number count.
    """
    read = [read_fields(list(boxes), source=source)[0] for boxes in pages]
    read = [inv for inv in read if inv.readings] or read[:1]
    inv = next((r for r in read if r.number), read[0])
    if inv.number:
        # pages of this invoice repeat its number; others (a trip list or a receipt
        # saved into the same file) give neither lines nor totals
        read = [r for r in read if _same_number(r.number, inv.number, source)]
    if len(read) == 1:
        return read[0]
    lines = [ln for r in read for ln in r.lines]
    confs = [r.readings["lines"].confidence for r in read if "lines" in r.readings]
    inv.lines = lines
    if confs:
        inv.readings["lines"] = FieldReading(source, min(confs))
    for name in LAST_PAGE_FIELDS:
        for page in reversed(read):
            if name in page.readings:
                setattr(inv, name, getattr(page, name))
                inv.readings[name] = page.readings[name]
                break
        else:
            inv.readings.pop(name, None)
            setattr(inv, name, ExtractedInvoice.__dataclass_fields__[name].default)
    for page in read:  # fields the chosen page lacks
        for name, reading in page.readings.items():
            if name not in inv.readings and name not in LAST_PAGE_FIELDS:
                setattr(inv, name, getattr(page, name))
                inv.readings[name] = reading
    return inv


# --- arithmetic cross-checks --------------------------------------------------


def _adjust(inv: ExtractedInvoice, names: Sequence[str], ok: bool) -> None:
    for name in names:
        reading = inv.readings.get(name)
        if reading is None or reading.source is FieldSource.QR:
            continue
        if ok and reading.confidence > 0.3:
            conf = max(reading.confidence, 0.99)
        elif ok:
            conf = reading.confidence
        else:
            conf = reading.confidence * 0.6
        inv.readings[name] = FieldReading(reading.source, round(conf, 4))


def consistency(inv: ExtractedInvoice) -> None:
    """Domain sections 4 and 6: Σ lines = 合计, 金额 + 税额 = 价税合计 = capitals.

    Relations that hold raise the confidence of their fields, broken ones lower it.
    One missing total among 金额/税额/价税合计 (or a missing 价税合计 when the
    capitals are legible) is derived, with a modest confidence.
    """
    r = inv.readings
    words = capitals_to_amount(inv.total_in_words) if inv.total_in_words else None
    source = next(iter(r.values())).source if r else FieldSource.OCR

    def conf(name: str) -> float:
        return r[name].confidence if name in r else 0.0

    if inv.total_amount is None and words is not None:
        inv.total_amount = words
        r["total_amount"] = FieldReading(source, 0.8 * conf("total_in_words"))
    a, t, total = inv.amount, inv.tax_amount, inv.total_amount
    # a ticket's 合计 includes fees that are neither amount nor tax (民航发展基金),
    # and a general machine-printed invoice has no tax: derive nothing for them
    derived = [a, t, total].count(None) == 1 and inv.kind not in NO_VAT_SUM_KINDS
    if derived:
        if a is None and t is not None and total is not None:
            inv.amount = total - t
            r["amount"] = FieldReading(
                source, 0.7 * min(conf("tax_amount"), conf("total_amount"))
            )
        elif t is None and a is not None and total is not None:
            inv.tax_amount = total - a
            r["tax_amount"] = FieldReading(
                source, 0.7 * min(conf("amount"), conf("total_amount"))
            )
        elif a is not None and t is not None:
            inv.total_amount = a + t
            r["total_amount"] = FieldReading(
                source, 0.7 * min(conf("amount"), conf("tax_amount"))
            )
    if inv.lines and inv.amount is not None:
        amounts = [ln.amount for ln in inv.lines]
        ok = None not in amounts and sum(a for a in amounts if a) == inv.amount
        _adjust(inv, ("lines", "amount"), ok)
    if inv.lines and inv.tax_amount is not None:
        taxes = sum((ln.tax_amount or Decimal(0)) for ln in inv.lines)
        _adjust(inv, ("lines", "tax_amount"), taxes == inv.tax_amount)
    if not derived and None not in (inv.amount, inv.tax_amount, inv.total_amount):
        ok = inv.amount + inv.tax_amount == inv.total_amount  # type: ignore[operator]
        _adjust(inv, ("amount", "tax_amount", "total_amount"), ok)
    if words is not None and inv.total_amount is not None:
        same = abs(words) == abs(inv.total_amount)  # the sign is the prefix's business
        _adjust(inv, ("total_in_words", "total_amount"), same)
    if inv.total_amount is not None and inv.total_amount < 0 and not inv.is_red:
        inv.is_red = True
        r["is_red"] = FieldReading(source, conf("total_amount"))


# --- passenger tickets and general machine-printed invoices -------------------
#
# domain/einvoice.md section 11. A ticket has no line table and no capitals; its page
# is read by label and position by ``ticket_text`` (shared with the OFD reader), fed
# here with the boxes of the PDF text layer or of OCR, so that every format gives the
# same fields and the same ``extras`` (key names of xbrl.py's docstring):
#   {"rail": {passenger, passenger_id, from_station, to_station, from_pinyin,
#             to_pinyin, train, departure_date, departure_time, seat, seat_class,
#             eticket, fare}}
#   {"air": {passenger, passenger_id, status, domestic, eticket, issuer, fare,
#            fuel_surcharge, vat_rate, vat_amount, caac_fund, other_taxes, total,
#            segments: [{from, to, carrier, flight, seat_class, date, time}]}}
# Rail: total_amount = 票价 (no tax printed). Air: total_amount = 合计, tax_amount =
# 增值税税额, amount not set (合计 also holds the 民航发展基金).

BODY_TEXT_MM = 3.2  # a 9 pt line: sets the scale of boxes in any unit (points, pixels)


_CURRENCY = frozenset({"CNY", "RMB", "¥"})


def _currency_joined(line: Line) -> list[TextBox]:
    """A line's boxes, a currency code joined to the amount after it: the PDF text
    layer splits "CNY 733.94" at the space where an OFD keeps one text object."""
    out: list[TextBox] = []
    for box in line.boxes:
        prev = out[-1] if out else None
        if (
            prev is not None
            and fold(prev.text).strip() in _CURRENCY
            and box.x0 - prev.x1 < TAB_GAP * min(box.h, prev.h)
        ):
            out[-1] = TextBox(
                f"{prev.text} {box.text}",
                prev.x0,
                min(prev.y0, box.y0),
                box.x1,
                max(prev.y1, box.y1),
                min(prev.conf, box.conf),
            )
        else:
            out.append(box)
    return out


def _ticket(b: _Builder, lines: list[Line], kind: InvoiceKind) -> None:
    from .ticket_text import Item, read_ticket_page

    boxes = [box for line in lines for box in _currency_joined(line)]
    if not boxes:
        return
    heights = sorted(box.h for box in boxes)
    mm = BODY_TEXT_MM / heights[len(heights) // 2]
    items = [Item(box.x0 * mm, box.y1 * mm, box.text) for box in boxes]
    conf = min(box.conf for box in boxes)
    got = read_ticket_page(items, kind, FieldReading(b.source, conf))
    for name in got.readings:
        if name != "kind":
            b.set(name, getattr(got, name), conf)


def _general_machine(b: _Builder, lines: list[Line]) -> None:
    """Not a VAT invoice: 合计 is the amount and the total; capitals after (大写)."""
    inv = b.inv
    if inv.total_amount is None and inv.amount is not None:
        b.set("total_amount", inv.amount, inv.readings["amount"].confidence)
    if (
        inv.tax_amount is not None
        and inv.tax_amount == 0
        and "tax_amount" in inv.readings
    ):
        inv.tax_amount = None
        del inv.readings["tax_amount"]
    if inv.total_in_words:
        return
    words = re.compile(LABELS["words"])
    figures = re.compile(LABELS["figures"])
    for line in lines:
        match = words.search(line.text)
        if not match:
            continue
        end = figures.search(line.text, match.end())
        stop = end.start() if end else len(line.text)
        raw = re.sub(
            r"[^零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆角分整正负数]",
            "",
            line.raw[match.end() : stop],
        )
        if raw:
            b.set("total_in_words", fold_value(raw), line.conf(match.end(), stop))
        break
