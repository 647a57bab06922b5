"""From the database to the plain data the checks read.

``extracted_from_invoice`` rebuilds the ``ExtractedInvoice`` from the stored invoice;
``build_check_context`` fills ``CheckContext`` with the organization, duplicates, the
registry, seller lists and the blue invoice of a red-letter one. Reads only.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from invoiceportal.invoices.extraction.types import (
    ExtractedInvoice,
    ExtractedLine,
    FieldReading,
    FieldSource,
    InvoiceKind,
)
from invoiceportal.invoices.extraction.values import red_reference
from invoiceportal.invoices.models import Document, Invoice
from invoiceportal.invoices.selectors import same_file_documents

from .checks import normalize
from .checks.base import (
    REGISTRY_NOT_FOUND,
    CheckContext,
    ExistingInvoice,
    RegistryLookup,
    RegistryStatus,
    SourceFormat,
)
from .checks.base import RegistryRecord as RegistryAnswer
from .checks.catalog import RuleConfig, get_rule
from .checks.redletter import red_signals
from .models import RegistryRecord, SellerList, SellerListEntry, registry_identity

# Document.format (extraction.sniff.DocumentFormat values, plus "manual") -> source.
SOURCE_FORMATS: dict[str, SourceFormat] = {
    "xml": SourceFormat.XML,
    "ofd": SourceFormat.OFD,
    "pdf": SourceFormat.PDF,
    "jpeg": SourceFormat.IMAGE,
    "jpg": SourceFormat.IMAGE,
    "png": SourceFormat.IMAGE,
    "image": SourceFormat.IMAGE,
    "manual": SourceFormat.MANUAL,
}
# Bounds on the near-duplicate query, whatever the rule's parameters say.
NEAR_LIMIT = 50
RELATED_LIMIT = 1000  # other invoices read for the duplicate checks, oldest first
_EXISTING_FIELDS = (
    "reference",
    "status",
    "identity",
    "seller_tax_id",
    "issue_date",
    "total_amount",
    "organization__tax_id",
)


def latest_document(invoice: Invoice) -> Document | None:
    """The file the invoice was last read from (a new file replaces the old one)."""
    return invoice.documents.order_by("-uploaded_at", "-id").first()


def _reading(value: Any) -> FieldReading:
    """One stored reading: ``{"source": "xml", "confidence": 1.0}``, a
    ``[source, confidence]`` pair or a bare confidence. What cannot be read counts as
    confidence 0: a reviewer looks rather than the portal guessing."""
    source, confidence = FieldSource.MANUAL, 0.0
    if isinstance(value, Mapping):
        source, confidence = value.get("source", source), value.get("confidence", 0)
    elif isinstance(value, list | tuple) and len(value) == 2:
        source, confidence = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        confidence = value
    try:
        source = FieldSource(source)
    except ValueError:
        source = FieldSource.MANUAL
    try:
        number = float(confidence)
    except (TypeError, ValueError):
        number = 0.0
    if not 0.0 <= number <= 1.0:  # NaN included
        number = 0.0
    return FieldReading(source, number)


def readings_from_document(document: Document | None) -> dict[str, FieldReading]:
    stored = document.field_readings if document is not None else {}
    if not isinstance(stored, Mapping):
        return {"_readings": FieldReading(FieldSource.MANUAL, 0.0)}
    return {str(name): _reading(value) for name, value in stored.items()}


def _rate(value: Decimal | None) -> Decimal | None:
    # 0.1300 from the database reads as 0.13 in messages; equal either way.
    return value.normalize() if value is not None else None


def extracted_from_invoice(
    invoice: Invoice, *, document: Document | None = None
) -> ExtractedInvoice:
    """The invoice's stored fields and lines as the checks' ``ExtractedInvoice``.

    Not stored on the invoice, so empty here: the drawer and the tax
    classification codes; the blue invoice of a red-letter one is read again from the
    remarks. An unknown ``kind`` raises ``ValueError``: a damaged row must not be
    screened as something else.
    """
    try:
        kind = InvoiceKind(invoice.kind)
    except ValueError:
        raise ValueError(
            f"Invoice {invoice.reference} has an unknown kind {invoice.kind!r}."
        ) from None
    if document is None:
        document = latest_document(invoice)
    return ExtractedInvoice(
        kind=kind,
        code=invoice.code,
        number=invoice.number,
        issue_date=invoice.issue_date,
        check_code=invoice.check_code,
        seller_name=invoice.seller_name,
        seller_tax_id=invoice.seller_tax_id,
        buyer_name=invoice.buyer_name,
        buyer_tax_id=invoice.buyer_tax_id,
        amount=invoice.amount,
        tax_amount=invoice.tax_amount,
        total_amount=invoice.total_amount,
        total_in_words=invoice.total_in_words,
        lines=[
            ExtractedLine(
                name=line.name,
                spec=line.spec,
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                tax_rate=_rate(line.tax_rate),
                tax_amount=line.tax_amount,
                tax_exempt=line.tax_exempt,
            )
            for line in invoice.lines.order_by("position")
        ],
        remarks=invoice.remarks,
        is_red=invoice.is_red,
        red_of_number=red_reference(invoice.remarks),
        qr_payload=invoice.qr_payload,
        extras=dict(invoice.extras or {}),
        readings=readings_from_document(document),
    )


def _existing(row: Mapping[str, Any]) -> ExistingInvoice:
    return ExistingInvoice(
        reference=row["reference"],
        status=str(row["status"]),
        identity=row["identity"],
        seller_tax_id=row["seller_tax_id"],
        issue_date=row["issue_date"],
        total_amount=row["total_amount"],
        organization_tax_id=row["organization__tax_id"],
    )


def invoice_identities(invoice: Invoice, extracted: ExtractedInvoice) -> set[str]:
    """The stored identity and the one the fields give (they agree unless intake
    stored none): a duplicate under either is a duplicate."""
    return {i for i in (invoice.identity, extracted.identity) if i}


def _tax_id_variants(value: str) -> set[str]:
    return {v for v in (value, value.strip(), normalize.tax_id(value)) if v}


def _near_params(rules: Mapping[str, RuleConfig] | None) -> tuple[Decimal, int]:
    """The near-duplicate rule's tolerance and window, to fetch enough candidates."""
    spec = get_rule("duplicates.near")
    config = (rules or {}).get("duplicates.near")
    params = config.params if config is not None else {}
    validation = spec.validate_params(params)
    cleaned = validation.cleaned if validation.ok else spec.validate_params({}).cleaned
    return (
        normalize.param_decimal(cleaned["amount_tolerance"]),
        int(cleaned["date_window_days"]),
    )


def registry_lookup(identities: set[str]) -> RegistryAnswer | RegistryLookup:
    """The local registry's answer (the default verifier backend)."""
    identities = {i for i in identities if i}
    if not identities:
        return REGISTRY_NOT_FOUND
    row = RegistryRecord.objects.filter(identity__in=identities).first()
    if row is None:
        return REGISTRY_NOT_FOUND
    return RegistryAnswer(
        status=RegistryStatus(row.status),
        code=row.code,
        number=row.number,
        issue_date=row.issue_date,
        seller_tax_id=row.seller_tax_id,
        seller_name=row.seller_name,
        buyer_tax_id=row.buyer_tax_id,
        buyer_name=row.buyer_name,
        amount=row.amount,
        tax_amount=row.tax_amount,
        total_amount=row.total_amount,
        check_code=row.check_code,
        red_flushed_amount=row.red_flushed_amount,
    )


def _blue_invoice(
    invoice: Invoice, extracted: ExtractedInvoice
) -> ExistingInvoice | None:
    """The invoice a red-letter one reverses, by number: the organization's own
    first, then anyone's."""
    number = extracted.red_of_number.strip()
    if not number or not red_signals(extracted):
        return None
    rows = (
        Invoice.objects.filter(number=number)
        .exclude(pk=invoice.pk)
        .values(*_EXISTING_FIELDS, "organization_id")
    )
    ranked = sorted(rows, key=lambda r: r["organization_id"] != invoice.organization_id)
    return _existing(ranked[0]) if ranked else None


def _related_invoices(
    invoice: Invoice,
    extracted: ExtractedInvoice,
    identities: set[str],
    seller_ids: set[str],
    sha256: str,
    rules: Mapping[str, RuleConfig] | None,
) -> tuple[tuple[ExistingInvoice, ...], ...]:
    """Other invoices with the same identity, near duplicates (same seller, total
    within the tolerance, issue date within the window) and other invoices of the
    organization with the same file: one query over the invoices (after one for the
    ids of the same file), every condition on an index, sorted out here."""
    conditions: dict[str, Q] = {}
    if identities:
        conditions["same"] = Q(identity__in=identities)
    if seller_ids and extracted.total_amount is not None and extracted.issue_date:
        tolerance, window = _near_params(rules)
        days = dt.timedelta(days=window)
        conditions["near"] = Q(
            seller_tax_id__in=seller_ids,
            total_amount__gte=extracted.total_amount - tolerance,
            total_amount__lte=extracted.total_amount + tolerance,
            issue_date__gte=extracted.issue_date - days,
            issue_date__lte=extracted.issue_date + days,
        )
    others = Invoice.objects.exclude(pk=invoice.pk)
    if sha256:
        # The ids first, by the document's sha256 index: a correlated EXISTS inside
        # the OR below made PostgreSQL read every invoice (the soak's seq scans grew
        # with the table); a list of ids keeps every arm of the OR on an index.
        same_file_ids = [
            document.invoice_id
            for document in same_file_documents(sha256, invoice.organization_id)
            if document.invoice_id != invoice.pk
        ][:RELATED_LIMIT]
        if same_file_ids:
            conditions["file"] = Q(
                organization_id=invoice.organization_id, pk__in=same_file_ids
            )
    if not conditions:
        return (), (), ()
    flags = {
        f"is_{name}": Case(
            When(condition, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for name, condition in conditions.items()
    }
    rows = list(
        others.filter(reduce(operator.or_, conditions.values()))
        .annotate(**flags)
        .order_by("submitted_at", "pk")
        .values(*_EXISTING_FIELDS, *flags)[:RELATED_LIMIT]
    )
    same = tuple(_existing(r) for r in rows if r.get("is_same"))
    near = tuple(_existing(r) for r in reversed(rows) if r.get("is_near"))
    same_file = tuple(_existing(r) for r in rows if r.get("is_file"))
    return same, near[:NEAR_LIMIT], same_file


def build_check_context(
    invoice: Invoice,
    extracted: ExtractedInvoice,
    *,
    rules: Mapping[str, RuleConfig] | None = None,
    document: Document | None = None,
    today: dt.date | None = None,
    registry: RegistryAnswer | RegistryLookup | None = None,
) -> CheckContext:
    """Everything the checks may know about ``invoice`` besides its own fields.

    ``rules`` (as from ``rules_active``) widens the near-duplicate query to the rule's
    tolerance and window; without it the defaults apply. ``registry`` is a verifier's
    answer obtained beforehand (a remote 查验 call belongs outside the row lock); when
    None, the local registry (``RegistryRecord``) is read.
    """
    organization = invoice.organization
    if document is None:
        document = latest_document(invoice)
    if document is None:
        source = SourceFormat.MANUAL
    else:
        # A file of a format we do not know is trusted least: read like a photo.
        source = SOURCE_FORMATS.get(document.format.strip().lower(), SourceFormat.IMAGE)
    identities = invoice_identities(invoice, extracted)
    seller_ids = _tax_id_variants(extracted.seller_tax_id)
    sha256 = document.sha256 if document is not None else ""
    same_identity, near, same_file = _related_invoices(
        invoice, extracted, identities, seller_ids, sha256, rules
    )

    listed = SellerListEntry.objects.filter(seller_tax_id__in=seller_ids or {""})
    lists: dict[str, set[str]] = {SellerList.WATCH: set(), SellerList.BLOCK: set()}
    for entry in listed:
        lists[entry.list].add(entry.seller_tax_id)

    readings = readings_from_document(document)
    registry_keys = identities | {
        registry_identity(code=extracted.code, number=extracted.number)
    }
    return CheckContext(
        organization_tax_id=organization.tax_id,
        organization_name=organization.name,
        today=today or timezone.localdate(),
        source_format=source,
        same_identity_invoices=same_identity,
        near_duplicate_candidates=near,
        file_sha256=sha256,
        same_file_invoices=same_file,
        registry=registry if registry is not None else registry_lookup(registry_keys),
        watchlist_seller_tax_ids=frozenset(lists[SellerList.WATCH]),
        blocklist_seller_tax_ids=frozenset(lists[SellerList.BLOCK]),
        blue_invoice=_blue_invoice(invoice, extracted),
        extraction_min_confidence=(
            min(r.confidence for r in readings.values()) if readings else None
        ),
    )
