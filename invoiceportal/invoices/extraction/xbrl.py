"""The XBRL attachment of a 数电 rail ticket or air itinerary to ``ExtractedInvoice``.

电子发票（铁路电子客票） and 电子发票（航空运输电子客票行程单） OFDs and PDFs
carry an XBRL instance (``rai_issuer_*.xml`` for rail, namespace
``http://xbrl.mof.gov.cn/taxonomy/2021-11-30/rai``; ``…/2021-11-30/atr`` for air). It is
structured data, read before the page (domain/einvoice.md section 11; element names and
what is confirmed or assumed: docs/domain-notes.md). Names are matched defensively
(``xmltools``): any namespace or prefix, case and '-'/'_' ignored.

``extras`` shapes (JSON-safe; a key is present only when the document gives a value;
dates ``YYYY-MM-DD``, times ``HH:MM``, money as ``"123.45"``)::

    {"rail": {"passenger": "张三", "passenger_id": "3301*******1234",
              "from_station": "杭州东", "to_station": "上海虹桥",
              "from_pinyin": "Hangzhoudong", "to_pinyin": "Shanghaihongqiao",
              "train": "G7512", "departure_date": "2024-12-01",
              "departure_time": "08:15",
              "seat_class": "二等座", "seat": "05车12A号", "eticket": "E123…",
              "fare": "73.00", "tax_rate": "0.09", "business": "退", "refund": "10.00",
              "original_number": "<20 digits>"}}
    {"air": {"passenger": "张三", "passenger_id": "3301*******1234",
             "status": "正常", "domestic": "国内", "eticket": "7812345678901",
             "issuer": "填开单位", "agent_code": "…", "verification_code": "…",
             "fare": "1000.00", "fuel_surcharge": "60.00", "vat_rate": "0.09",
             "vat_amount": "87.52", "caac_fund": "50.00", "other_taxes": "0.00",
             "insurance": "0.00", "total": "1110.00",
             "segments": [{"from": "杭州萧山", "to": "北京首都", "carrier": "国航",
                           "flight": "CA1701", "seat_class": "Y", "date": "2024-12-01",
                           "time": "08:15", "fare_basis": "Y"}]}}

``read_ticket_xbrl`` returns None for anything that is not such a document, including an
attachment that is not well formed (the caller falls back to the page text); an
attachment with a DTD or entities is refused as ``unsafe_xml`` like any other XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .errors import ExtractionError
from .safety import safe_parse_xml
from .types import ExtractedInvoice, FieldReading, FieldSource, InvoiceKind
from .values import parse_amount, parse_date, parse_rate
from .xmltools import find, find_all, find_text, names, norm

__all__ = [
    "AIR_NS",
    "MAX_XBRL_BYTES",
    "RAIL_NS",
    "is_ticket_xbrl_name",
    "read_ticket_xbrl",
]

RAIL_NS = "http://xbrl.mof.gov.cn/taxonomy/2021-11-30/rai"
AIR_NS = "http://xbrl.mof.gov.cn/taxonomy/2021-11-30/atr"
_TAXONOMY = "xbrl.mof.gov.cn/taxonomy/"
# A real attachment is a few kilobytes; anything much larger is not one.
MAX_XBRL_BYTES = 512 * 1024
MAX_SEGMENTS = 8  # an itinerary prints at most four rows

RAIL_NUMBER = names("ElectronicInvoiceRailwayETicketNumber")
AIR_NUMBER = names(
    "ElectronicInvoiceAirTransportReceiptNumber",
    "ElectronicInvoiceAirTransportETicketNumber",
    "NumberOfAirTransportElectronicTicketItinerary",
)
SEGMENT = names("DetailInformationOfAirTicketTuple", "DetailInformationOfAirTicket")
_NO_SEGMENT = (norm("DetailInformationOfAirTicketTuple"),)
BUYER_NAME = names("NameOfPurchaser", "PurchaserName")
BUYER_ID = names(
    "UnifiedSocialCreditCodeOfPurchaser", "TaxpayerIdentificationNumberOfPurchaser"
)
SELLER_NAME = names("NameOfSeller", "SellerName")
SELLER_ID = names("UnifiedSocialCreditCodeOfSeller")

# extras key -> element names, in preference order
_RAIL_TEXT = {
    "passenger": ("Name", "PassengerName", "NameOfPassenger"),
    "passenger_id": ("IdNumber", "IDNumber", "ValidIdNumber"),
    "from_station": ("DepartureStation",),
    "to_station": ("DestinationStation", "ArrivalStation"),
    "from_pinyin": ("PhonicsOfDepartureStation",),
    "to_pinyin": ("PhonicsOfDestinationStation",),
    "train": ("TrainNumber", "TrainNo"),
    "seat_class": ("SeatLevel", "SeatClass", "SeatType"),
    "eticket": ("ElectronicTicketNum", "ElectronicTicketNumber", "ETicketNumber"),
    "business": ("TypeOfBusiness",),
    "original_number": ("NumberOfOriginalInvoice",),
}
_RAIL_MONEY = {"fare": ("Fare",), "refund": ("AmountRefunded",)}
_AIR_TEXT = {
    "passenger": ("PassengerName", "NameOfPassenger"),
    "passenger_id": ("ValidIdNumber", "IdNumber"),
    "status": ("IssuingStatus", "InvoiceStatus"),
    "domestic": ("MarkingOfDomesticOrInternational", "DomesticOrInternational"),
    "eticket": ("ElectronicTicketNum", "ETicketNumber", "ElectronicTicketNumber"),
    "issuer": ("IssueParty", "IssuingUnit"),
    "agent_code": ("AgentCode",),
    "verification_code": ("VerificationCode",),
}
_AIR_MONEY = {
    "fare": ("Fare",),
    "fuel_surcharge": ("FuelSurcharge",),
    "vat_amount": ("VatTaxAmount", "VATTaxAmount", "TaxAmount"),
    "caac_fund": ("CivilAviationDevelopmentFund",),
    "other_taxes": ("OtherTaxes",),
    "insurance": ("Insurance",),
    "total": ("TotalAmount",),
}
_SEGMENT_TEXT = {
    "from": ("DepartureStation",),
    "to": ("DestinationStation",),
    "carrier": ("Carrier",),
    "flight": ("Flight", "FlightNumber"),
    "seat_class": ("SeatClass",),
    "time": ("DepartureTime",),
    "fare_basis": ("FareBasis",),
}


def is_ticket_xbrl_name(name: str) -> bool:
    """A package member or PDF attachment named like a ticket XBRL instance."""
    base = name.rsplit("/", 1)[-1].lower()
    return base.endswith(".xml") and (
        base.startswith(("rai_", "atr_")) or "xbrl" in base
    )


def read_ticket_xbrl(
    data: bytes, *, source: FieldSource = FieldSource.XML
) -> ExtractedInvoice | None:
    """Read a rail or air XBRL instance; None when ``data`` is not one."""
    if not data or len(data) > MAX_XBRL_BYTES:
        return None
    try:
        root = safe_parse_xml(data)
    except ExtractionError as exc:
        if exc.code == "unsafe_xml":
            raise
        return None
    kind = _ticket_kind(root)
    if kind is InvoiceKind.RAIL_TICKET:
        inv = _rail(root)
    elif kind is InvoiceKind.AIR_ITINERARY:
        inv = _air(root)
    else:
        return None
    if not inv.number and inv.total_amount is None:
        return None
    reading = FieldReading(source, 1.0)
    inv.mark_read(
        (
            "kind",
            "number",
            "issue_date",
            "buyer_name",
            "buyer_tax_id",
            "seller_name",
            "seller_tax_id",
            "amount",
            "tax_amount",
            "total_amount",
            "remarks",
        ),
        reading,
    )
    return inv


def _ticket_kind(root: ET.Element) -> InvoiceKind:
    """Rail or air from the taxonomy namespace, else from the number element."""
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.startswith("{") and _TAXONOMY in tag:
            ns = tag[1:].split("}", 1)[0].rstrip("/")
            if ns.endswith("/rai"):
                return InvoiceKind.RAIL_TICKET
            if ns.endswith("/atr"):
                return InvoiceKind.AIR_ITINERARY
    if find(root, RAIL_NUMBER) is not None:
        return InvoiceKind.RAIL_TICKET
    if find(root, AIR_NUMBER) is not None:
        return InvoiceKind.AIR_ITINERARY
    return InvoiceKind.OTHER


def _get(
    scope: ET.Element, variants: tuple[str, ...], skip: tuple[str, ...] = ()
) -> str:
    return find_text(scope, names(*variants), skip)


def _money(text: str) -> str:
    value = parse_amount(text)
    return "" if value is None else f"{value:.2f}"


def _rate(text: str) -> str:
    rate, _exempt = parse_rate(text)
    return "" if rate is None else str(rate)


def _header(root: ET.Element, inv: ExtractedInvoice, number: frozenset[str]) -> None:
    inv.number = find_text(root, number, _NO_SEGMENT).replace(" ", "")
    inv.issue_date = parse_date(_get(root, ("DateOfIssue", "IssueDate"), _NO_SEGMENT))
    inv.buyer_name = find_text(root, BUYER_NAME)
    inv.buyer_tax_id = find_text(root, BUYER_ID).replace(" ", "").upper()
    inv.seller_name = find_text(root, SELLER_NAME)
    inv.seller_tax_id = find_text(root, SELLER_ID).replace(" ", "").upper()
    inv.remarks = _get(root, ("Remarks", "Remark", "Note"), _NO_SEGMENT)


def _fill(
    out: dict[str, object],
    root: ET.Element,
    text_keys: dict[str, tuple[str, ...]],
    money_keys: dict[str, tuple[str, ...]],
) -> None:
    for key, variants in text_keys.items():
        value = _get(root, variants, _NO_SEGMENT)
        if value:
            out[key] = value
    for key, variants in money_keys.items():
        value = _money(_get(root, variants, _NO_SEGMENT))
        if value:
            out[key] = value


def _rail(root: ET.Element) -> ExtractedInvoice:
    inv = ExtractedInvoice(kind=InvoiceKind.RAIL_TICKET)
    _header(root, inv, RAIL_NUMBER)
    rail: dict[str, object] = {}
    _fill(rail, root, _RAIL_TEXT, _RAIL_MONEY)
    travel = parse_date(_get(root, ("TravelDate", "DateOfDeparture")))
    if travel:
        rail["departure_date"] = travel.isoformat()
    time = _clock(_get(root, ("DepartureTime",)))
    if time:
        rail["departure_time"] = time
    seat = _rail_seat(_get(root, ("Carriage",)), _get(root, ("Seat", "SeatNumber")))
    if seat:
        rail["seat"] = seat
    rate = _rate(_get(root, ("TaxRate",)))
    if rate:
        rail["tax_rate"] = rate
    inv.total_amount = parse_amount(_get(root, ("Fare",)))
    inv.amount = parse_amount(_get(root, ("TotalAmountExcludingTax",)))
    inv.tax_amount = parse_amount(_get(root, ("TaxAmount",)))
    inv.is_red = bool(inv.total_amount is not None and inv.total_amount < 0)
    if rail:
        inv.extras = {"rail": rail}
    return inv


def _air(root: ET.Element) -> ExtractedInvoice:
    inv = ExtractedInvoice(kind=InvoiceKind.AIR_ITINERARY)
    _header(root, inv, AIR_NUMBER)
    air: dict[str, object] = {}
    _fill(air, root, _AIR_TEXT, _AIR_MONEY)
    rate = _rate(_get(root, ("VatRate", "VATRate", "TaxRate"), _NO_SEGMENT))
    if rate:
        air["vat_rate"] = rate
    segments = []
    for tuple_el in find_all(root, SEGMENT)[:MAX_SEGMENTS]:
        segment: dict[str, str] = {}
        for key, variants in _SEGMENT_TEXT.items():
            value = _get(tuple_el, variants)
            if key == "time":
                value = _clock(value)
            if value:
                segment[key] = value
        day = parse_date(_get(tuple_el, ("CarrierDate", "FlightDate", "Date")))
        if day:
            segment["date"] = day.isoformat()
        if segment:
            segments.append(segment)
    if segments:
        air["segments"] = segments
    inv.total_amount = parse_amount(str(air.get("total", "")))
    inv.tax_amount = parse_amount(str(air.get("vat_amount", "")))
    inv.is_red = bool(inv.total_amount is not None and inv.total_amount < 0)
    if air:
        inv.extras = {"air": air}
    return inv


def _clock(text: str) -> str:
    """'08:15', '8:15', '0815', '08:15:00' -> '08:15' ('' when not a time)."""
    digits = "".join(ch for ch in text if ch.isdigit() or ch == ":")
    parts = digits.split(":") if ":" in digits else [digits[:-2], digits[-2:]]
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return ""
    hour, minute = int(parts[0]), int(parts[1])
    if hour > 23 or minute > 59:
        return ""
    return f"{hour:02d}:{minute:02d}"


def _rail_seat(carriage: str, seat: str) -> str:
    """The printed form 'NN车NNX号' from the Carriage and Seat elements."""
    if not seat and not carriage:
        return ""
    if carriage and not carriage.endswith("车"):
        carriage += "车"
    if seat and seat[-1] not in "号铺":
        seat += "号"
    return f"{carriage}{seat}"
