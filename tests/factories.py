"""factory_boy factories for the models the tests build."""

from __future__ import annotations

import hashlib
import itertools
import random
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import Organization
from accounts.roles import Role
from accounts.services import user_sync_groups
from invoiceportal.common.taxid import USCC_ALPHABET, uscc_check_char
from invoiceportal.invoices.intake import CONTENT_TYPES
from invoiceportal.invoices.lifecycle import invoice_transition
from invoiceportal.invoices.models import Document, Invoice, InvoiceLine
from invoiceportal.invoices.status import DecisionSource, InvoiceStatus
from reviews.models import ReviewTask
from reviews.queue.services import review_task_open

PASSWORD = "correct-horse-battery-2026"


def make_uscc(seed: int) -> str:
    rng = random.Random(seed)
    body = "91" + "110108" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    tax_id = factory.Sequence(lambda n: make_uscc(n))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SUBMITTER
    organization = factory.SubFactory(OrganizationFactory)
    language = "zh-hans"

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            user_sync_groups(self)


# --- invoices, documents and review tasks (issue 14) ---------------------------------
# One set for every test: an invoice enters as intake stores it (received, its lines,
# its document), then reaches the state a test asks for through
# the real lifecycle (``invoice_transition``: the table, timeline, notifications, audit
# and hooks), and its review task through ``review_task_open``. The entry row itself is
# written directly: tests need identities intake would refuse as duplicates, invoices
# of another organization than the submitter's, and fixed references and dates.

_invoice_numbers = itertools.count(1)

# How each status is reached from "received", with the timeline code of each step.
_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    InvoiceStatus.RECEIVED: (),
    InvoiceStatus.SCREENING: ((InvoiceStatus.SCREENING, "screening_started"),),
    InvoiceStatus.IN_REVIEW: (
        (InvoiceStatus.SCREENING, "screening_started"),
        (InvoiceStatus.IN_REVIEW, "sent_to_review"),
    ),
    InvoiceStatus.NEEDS_INFO: (
        (InvoiceStatus.SCREENING, "screening_started"),
        (InvoiceStatus.IN_REVIEW, "sent_to_review"),
        (InvoiceStatus.NEEDS_INFO, "info_requested"),
    ),
    InvoiceStatus.APPROVED: (
        (InvoiceStatus.SCREENING, "screening_started"),
        (InvoiceStatus.APPROVED, "auto_approved"),
    ),
    InvoiceStatus.REJECTED: (
        (InvoiceStatus.SCREENING, "screening_started"),
        (InvoiceStatus.REJECTED, "auto_rejected"),
    ),
    InvoiceStatus.WITHDRAWN: ((InvoiceStatus.WITHDRAWN, "withdrawn"),),
}
# Set by the decision itself: given by a test, they are written with the last step.
_DECISION_FIELDS = ("decided_at", "decision_source", "decision_reason")
_AUTOMATIC = {InvoiceStatus.APPROVED, InvoiceStatus.REJECTED}


def make_document(
    invoice: Invoice,
    *,
    content: bytes | None = None,
    file_format: str = "xml",
    extractor: str = "",
    field_readings: dict[str, Any] | None = None,
) -> Document:
    """The uploaded file of ``invoice``, stored like intake stores it."""
    data = (
        content if content is not None else f"<发票>{invoice.reference}</发票>".encode()
    )
    document = Document(
        invoice=invoice,
        original_name=f"invoice.{file_format}",
        content_type=CONTENT_TYPES.get(file_format, "application/octet-stream"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=file_format,
        extractor=extractor or file_format,
        field_readings=field_readings or {},
    )
    document.file.save(f"{invoice.id}.{file_format}", ContentFile(data), save=False)
    document.save()
    return document


def invoice_move_to(invoice: Invoice, status: str, **decision: Any) -> Invoice:
    """Move a received ``invoice`` to ``status`` through the lifecycle, step by step
    (automatic decisions for approved and rejected)."""
    steps = _PATHS[InvoiceStatus(status)]
    if not steps:
        return invoice
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        for index, (to, code) in enumerate(steps):
            extra: dict[str, Any] = {}
            if index == len(steps) - 1:
                if to in _AUTOMATIC:
                    extra["decision_source"] = DecisionSource.AUTOMATIC
                extra |= decision
            invoice_transition(
                invoice=locked, to=to, actor=None, code=code, extra_fields=extra
            )
    invoice.refresh_from_db()
    return invoice


def make_invoice(
    organization: Any,
    submitter: Any,
    *,
    status: str = InvoiceStatus.RECEIVED,
    document: bool = True,
    file_content: bytes | None = None,
    file_format: str = "xml",
    extractor: str = "",
    field_readings: dict[str, Any] | None = None,
    **fields: Any,
) -> Invoice:
    """A clean 数电专票 to ``organization`` (4197.17 + 251.83 = 4449.00, one line),
    submitted by ``submitter``, in ``status``; ``fields`` override model fields."""
    n = next(_invoice_numbers)
    values: dict[str, Any] = {
        "reference": f"INV-2026-{800000 + n:06d}",
        "kind": "digital_special",
        "number": f"2611300000{n:010d}",
        "seller_name": "北京某软件有限公司",
        "seller_tax_id": "91110108690017781B",
        "buyer_name": organization.name,
        "buyer_tax_id": organization.tax_id,
        "amount": Decimal("4197.17"),
        "tax_amount": Decimal("251.83"),
        "total_amount": Decimal("4449.00"),
        "total_in_words": "肆仟肆佰肆拾玖圆整",
    } | fields
    values.setdefault("identity", values["number"])
    decision = {k: values.pop(k) for k in _DECISION_FIELDS if k in values}
    with transaction.atomic():
        invoice = Invoice.objects.create(
            organization=organization,
            submitted_by=submitter,
            status=InvoiceStatus.RECEIVED,
            **values,
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            position=1,
            name="*信息技术服务*软件服务费",
            unit="项",
            quantity=Decimal(1),
            unit_price=values["amount"],
            amount=values["amount"],
            tax_rate=Decimal("0.06"),
            tax_amount=values["tax_amount"],
        )
        if document:
            make_document(
                invoice,
                content=file_content,
                file_format=file_format,
                extractor=extractor,
                field_readings=field_readings,
            )
    return invoice_move_to(invoice, status, **decision)


def make_review_task(organization: Any, submitter: Any, **fields: Any) -> ReviewTask:
    """An invoice routed to review, as screening leaves it: its task queued."""
    invoice = make_invoice(
        organization, submitter, status=InvoiceStatus.IN_REVIEW, **fields
    )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        return review_task_open(invoice=locked)
