"""Rail tickets and air itineraries read from page text, by label and position.

Used when a ticket carries no XBRL attachment (see ``xbrl``). The input is the text
objects of the first page (and its template) with their positions, in any order;
the output uses the same ``extras`` keys as ``xbrl``, so either source gives the
same result. Layout facts: domain/einvoice.md section 11; what is confirmed and
what assumed: docs/domain-notes.md.

- rail: ``发票号码:``, ``开票日期:``, the station row ``<from> <train> <to>``
  (a trailing 站 is dropped) with the pinyin row below it,
  ``YYYY年MM月DD日 HH:MM开``, ``NN车NNX号``, the seat class, ``票价:￥``,
  the masked ID followed by the passenger's name, ``电子客票号:``,
  ``购买方名称:``, ``统一社会信用代码:``. No tax is printed.
- air: ``label:value`` pairs (发票号码, 开票状态, 国内国际标识, 旅客姓名,
  有效身份证件号码, 电子客票号码, 验证码, 填开单位, 销售网点代号, 填开日期,
  保险费, 购买方名称, 统一社会信用代码), a segment table (header 自 至 承运人
  航班号 座位等级 日期 时间 客票级别/客票类别, one row per flight) and an
  amount table (header 票价 燃油附加费 增值税税率 增值税税额 民航发展基金
  其他税费 合计, the values in the row below).
A value is the text after the label's colon, or the next text to its right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from .types import ExtractedInvoice, FieldReading, InvoiceKind
from .values import parse_amount, parse_date, parse_rate

ROW_TOLERANCE = 2.0  # mm: text objects whose baselines differ less share a row
COLUMN_TOLERANCE = 25.0  # mm: how far a table value may sit from its header

_COLON = re.compile(r"^\s*[:：]\s*")
_DIGITS20 = re.compile(r"\d{20}")
_USCC = re.compile(r"[0-9A-Z]{18}")
_DEPARTURE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(\d{1,2}):(\d{2})\s*开"
)
_SEAT = re.compile(r"(\d{1,2})\s*车\s*(\d{1,3}[A-Z]?)\s*号")
_SEAT_CLASSES = (
    "商务座", "特等座", "一等座", "二等座", "高级软卧", "一等卧", "二等卧", "动卧",
    "软卧", "硬卧", "软座", "硬座", "无座",
)  # fmt: skip
_TRAIN = re.compile(r"^[GDCZTKLYS]\d{1,4}$|^\d{3,4}$")
_MASKED_ID = re.compile(r"^[0-9A-Z]{2,10}\*{2,}[0-9]{0,6}[0-9Xx]$")
_PINYIN = re.compile(r"^[A-Za-z][A-Za-z' -]*$")
_FLIGHT = re.compile(r"^[A-Z0-9]{2}\d{2,4}[A-Z]?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})")

_AIR_LABELS = {
    "status": "开票状态",
    "domestic": "国内国际标识",
    "passenger": "旅客姓名",
    "passenger_id": "有效身份证件号码",
    "eticket": "电子客票号码",
    "verification_code": "验证码",
    "issuer": "填开单位",
    "agent_code": "销售网点代号",
}
_AIR_AMOUNTS = {
    "票价": "fare",
    "燃油附加费": "fuel_surcharge",
    "增值税税率": "vat_rate",
    "增值税税额": "vat_amount",
    "民航发展基金": "caac_fund",
    "其他税费": "other_taxes",
    "合计": "total",
}
_SEGMENT_COLUMNS = {
    "自": "from",
    "至": "to",
    "承运人": "carrier",
    "航班号": "flight",
    "座位等级": "seat_class",
    "日期": "date",
    "时间": "time",
    "客票级别/客票类别": "fare_basis",
}


@dataclass(frozen=True)
class Item:
    """Page text at (x, y), y growing downwards (OFD, and PDF from the top)."""

    x: float
    y: float
    text: str


Row = list[Item]


def rows_of(items: Iterable[Item]) -> list[Row]:
    """Items grouped into rows (top to bottom), each row left to right; texts NFKC."""
    cleaned = [
        Item(i.x, i.y, unicodedata.normalize("NFKC", i.text).strip())
        for i in items
        if i.text and i.text.strip()
    ]
    rows: list[Row] = []
    for item in sorted(cleaned, key=lambda i: (i.y, i.x)):
        if rows and abs(rows[-1][0].y - item.y) <= ROW_TOLERANCE:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [sorted(row, key=lambda i: i.x) for row in rows]


def labelled(rows: list[Row], label: str) -> str:
    """The value printed after ``label`` ('' when the label is not on the page)."""
    for row in rows:
        for index, item in enumerate(row):
            text = item.text.replace(" ", "")
            if not text.startswith(label):
                continue
            rest = _COLON.sub("", text[len(label) :])
            if rest:
                return rest
            if index + 1 < len(row):
                return row[index + 1].text.strip()
            return ""
    return ""


def read_ticket_page(
    items: Iterable[Item], kind: InvoiceKind, reading: FieldReading
) -> ExtractedInvoice:
    """The fields a rail ticket's or air itinerary's page shows, read ``reading``."""
    rows = rows_of(items)
    inv = ExtractedInvoice(kind=kind)
    number = _DIGITS20.search(labelled(rows, "发票号码").replace(" ", ""))
    inv.number = number.group(0) if number else ""
    inv.buyer_name = labelled(rows, "购买方名称")
    uscc = _USCC.search(labelled(rows, "统一社会信用代码").upper())
    inv.buyer_tax_id = uscc.group(0) if uscc else ""
    if kind is InvoiceKind.RAIL_TICKET:
        inv.issue_date = parse_date(labelled(rows, "开票日期"))
        _rail(rows, inv)
    elif kind is InvoiceKind.AIR_ITINERARY:
        inv.issue_date = parse_date(
            labelled(rows, "填开日期") or labelled(rows, "开票日期")
        )
        _air(rows, inv)
    inv.mark_read(
        (
            "kind",
            "number",
            "issue_date",
            "buyer_name",
            "buyer_tax_id",
            "amount",
            "tax_amount",
            "total_amount",
        ),
        reading,
    )
    return inv


def _money(text: str) -> str:
    value = parse_amount(re.sub(r"[A-Za-z]", "", text))
    return "" if value is None else f"{value:.2f}"


def _rail(rows: list[Row], inv: ExtractedInvoice) -> None:
    rail: dict[str, object] = {}
    fare = _money(labelled(rows, "票价"))
    if fare:
        rail["fare"] = fare
        inv.total_amount = parse_amount(fare)
    eticket = labelled(rows, "电子客票号")
    if eticket:
        rail["eticket"] = eticket
    page = "\n".join(" ".join(i.text for i in row) for row in rows)
    departure = _DEPARTURE.search(page)
    if departure:
        y, m, d, hh, mm = (int(g) for g in departure.groups())
        rail["departure_date"] = f"{y:04d}-{m:02d}-{d:02d}"
        rail["departure_time"] = f"{hh:02d}:{mm:02d}"
    seat = _SEAT.search(page)
    if seat:
        rail["seat"] = f"{seat.group(1)}车{seat.group(2)}号"
    for name in _SEAT_CLASSES:
        if re.search(rf"(?<![\u4e00-\u9fff]){name}", page):
            rail["seat_class"] = name
            break
    _stations(rows, rail)
    _passenger(rows, rail)
    if rail:
        inv.extras = {"rail": rail}


def _stations(rows: list[Row], rail: dict[str, object]) -> None:
    """The row ``<from> <train> <to>``: stations by position around the train number."""
    for index, row in enumerate(rows):
        for pos, item in enumerate(row):
            if not _TRAIN.match(item.text) or pos == 0 or pos + 1 >= len(row):
                continue
            left, right = row[pos - 1], row[pos + 1]
            if not (_is_station(left.text) and _is_station(right.text)):
                continue
            rail["train"] = item.text
            rail["from_station"] = left.text.removesuffix("站")
            rail["to_station"] = right.text.removesuffix("站")
            if index + 1 < len(rows):
                below = [i for i in rows[index + 1] if _PINYIN.match(i.text)]
                if len(below) >= 2:
                    rail["from_pinyin"] = _nearest(below, left.x).text
                    rail["to_pinyin"] = _nearest(below, right.x).text
            return


def _is_station(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _nearest(items: list[Item], x: float) -> Item:
    return min(items, key=lambda i: abs(i.x - x))


def _passenger(rows: list[Row], rail: dict[str, object]) -> None:
    for row in rows:
        for pos, item in enumerate(row):
            head, _, tail = item.text.partition(" ")
            if not _MASKED_ID.match(head):
                continue
            rail["passenger_id"] = head
            name = tail.strip() or (row[pos + 1].text if pos + 1 < len(row) else "")
            if name:
                rail["passenger"] = name
            return


def _air(rows: list[Row], inv: ExtractedInvoice) -> None:
    air: dict[str, object] = {}
    for key, label in _AIR_LABELS.items():
        value = labelled(rows, label)
        if value:
            air[key] = value
    insurance = _money(labelled(rows, "保险费"))
    if insurance:
        air["insurance"] = insurance
    for key, value in _table_row(rows, _AIR_AMOUNTS).items():
        if key == "vat_rate":
            rate, _exempt = parse_rate(value)
            if rate is not None:
                air[key] = str(rate)
        else:
            money = _money(value)
            if money:
                air[key] = money
    segments = _segments(rows)
    if segments:
        air["segments"] = segments
    inv.total_amount = parse_amount(str(air.get("total", "")))
    inv.tax_amount = parse_amount(str(air.get("vat_amount", "")))
    if air:
        inv.extras = {"air": air}


def _header(rows: list[Row], columns: dict[str, str]) -> tuple[int, dict[str, float]]:
    """The row holding most column labels and where each label sits."""
    best, best_at = -1, {}
    for index, row in enumerate(rows):
        at = {columns[i.text]: i.x for i in row if i.text in columns}
        if len(at) >= 3 and len(at) > len(best_at):
            best, best_at = index, at
    return best, best_at


def _by_column(row: Row, at: dict[str, float]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in row:
        key, x = min(at.items(), key=lambda kv: abs(kv[1] - item.x))
        if abs(x - item.x) <= COLUMN_TOLERANCE and key not in values:
            values[key] = item.text
    return values


def _table_row(rows: list[Row], columns: dict[str, str]) -> dict[str, str]:
    index, at = _header(rows, columns)
    if index < 0 or index + 1 >= len(rows):
        return {}
    return _by_column(rows[index + 1], at)


def _segments(rows: list[Row]) -> list[dict[str, str]]:
    index, at = _header(rows, _SEGMENT_COLUMNS)
    if index < 0:
        return []
    segments = []
    for row in rows[index + 1 : index + 9]:
        values = _by_column(row, at)
        if not _FLIGHT.match(values.get("flight", "")):
            break
        segment = {k: v for k, v in values.items() if k not in ("date", "time")}
        day = parse_date(values.get("date"))
        if day:
            segment["date"] = day.isoformat()
        clock = _CLOCK.match(values.get("time", ""))
        if clock:
            segment["time"] = f"{int(clock.group(1)):02d}:{clock.group(2)}"
        segments.append(segment)
    return segments
