"""The vocabulary of screening checks: outcomes, actions and the plain-data context.

Checks are pure functions ``check(inv, ctx, params) -> CheckOutcome``: no ORM, no
settings, no translation machinery. The database layer fills :class:`CheckContext`
with plain records before screening (DESIGN.md section 5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from invoiceportal.invoices.extraction.types import ExtractedInvoice


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    SKIPPED = "skipped"


class Action(StrEnum):
    """What a failed rule does to the invoice (``Rule.outcome_on_fail``)."""

    REJECT = "reject"
    REVIEW = "review"
    INFO = "info"


class Severity(StrEnum):
    """The consequence a stored result had: the action of a failure, else none."""

    NONE = "none"
    INFO = "info"
    REVIEW = "review"
    REJECT = "reject"


_ACTION_RANK = {Action.INFO: 0, Action.REVIEW: 1, Action.REJECT: 2}


def milder(a: Action, b: Action | None) -> Action:
    """The milder of two actions; ``None`` means no limit."""
    if b is None:
        return a
    return a if _ACTION_RANK[a] <= _ACTION_RANK[b] else b


class SourceFormat(StrEnum):
    """How the invoice reached us: the file that won the trust order, or by hand."""

    XML = "xml"
    OFD = "ofd"
    PDF = "pdf"
    IMAGE = "image"
    MANUAL = "manual"


STRUCTURED_FORMATS = frozenset({SourceFormat.XML, SourceFormat.OFD})

# Invoice statuses (DESIGN.md section 4) that hold an identity: accepted or in flight.
BLOCKING_STATUSES = ("received", "screening", "in_review", "needs_info", "approved")
# Every invoice status, in the lifecycle's order (the choices of status parameters).
INVOICE_STATUSES = (*BLOCKING_STATUSES, "rejected", "withdrawn")


@dataclass(frozen=True)
class ExistingInvoice:
    """An invoice already in the system, as plain data."""

    reference: str
    status: str
    identity: str = ""
    seller_tax_id: str = ""
    issue_date: dt.date | None = None
    total_amount: Decimal | None = None
    organization_tax_id: str = ""


class RegistryStatus(StrEnum):
    NORMAL = "normal"
    VOID = "void"
    RED_FLUSHED = "red_flushed"


@dataclass(frozen=True)
class RegistryRecord:
    """What the verifier (查验) returned for the invoice's identity."""

    status: RegistryStatus
    code: str = ""
    number: str = ""
    issue_date: dt.date | None = None
    seller_tax_id: str = ""
    seller_name: str = ""
    buyer_tax_id: str = ""
    buyer_name: str = ""
    amount: Decimal | None = None
    tax_amount: Decimal | None = None
    total_amount: Decimal | None = None
    check_code: str = ""
    # For a partial red flush (红冲 of part of the amount): how much was flushed.
    red_flushed_amount: Decimal | None = None


RegistryLookup = Literal["not_found", "unavailable"]
REGISTRY_NOT_FOUND: RegistryLookup = "not_found"
REGISTRY_UNAVAILABLE: RegistryLookup = "unavailable"


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may know besides the extracted invoice: plain data only.

    ``same_identity_invoices`` and ``same_file_invoices`` exclude the invoice being
    screened. ``near_duplicate_candidates`` may be broader than the rule (for example
    every invoice of the same seller in a date window): the check applies its own
    parameters. ``registry`` is None when verification has not run yet.
    """

    organization_tax_id: str
    today: dt.date
    source_format: SourceFormat
    organization_name: str = ""
    same_identity_invoices: tuple[ExistingInvoice, ...] = ()
    near_duplicate_candidates: tuple[ExistingInvoice, ...] = ()
    file_sha256: str = ""
    same_file_invoices: tuple[ExistingInvoice, ...] = ()
    registry: RegistryRecord | RegistryLookup | None = None
    watchlist_seller_tax_ids: frozenset[str] = frozenset()
    blocklist_seller_tax_ids: frozenset[str] = frozenset()
    blue_invoice: ExistingInvoice | None = None
    extraction_min_confidence: float | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """One rule's verdict. ``max_action`` lets a check cap its rule's action (an
    unavailable verifier never rejects; arithmetic read from a photo is reviewed, not
    rejected); ``severity`` is filled by :func:`reviews.checks.runner.run_checks`."""

    outcome: Outcome
    message_zh: str = ""
    message_en: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.NONE
    max_action: Action | None = None

    @property
    def failed(self) -> bool:
        return self.outcome == Outcome.FAIL


Params = Mapping[str, Any]
Check = Callable[[ExtractedInvoice, CheckContext, Params], CheckOutcome]


def jsonable(value: Any) -> Any:
    """Details go to a JSON column: Decimals and dates become strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def passed(**details: Any) -> CheckOutcome:
    return CheckOutcome(Outcome.PASS, details=jsonable(details))


def skipped(why_zh: str, why_en: str, **details: Any) -> CheckOutcome:
    return CheckOutcome(Outcome.SKIPPED, why_zh, why_en, jsonable(details))


def failed(
    *,
    problem_zh: str,
    fix_zh: str,
    problem_en: str,
    fix_en: str,
    max_action: Action | None = None,
    **details: Any,
) -> CheckOutcome:
    """A failure: what is wrong, then what to do, in both languages."""
    return CheckOutcome(
        Outcome.FAIL,
        message_zh=f"{problem_zh}{fix_zh}",
        message_en=f"{problem_en} {fix_en}",
        details=jsonable(details),
        max_action=max_action,
    )


def cap_for_format(ctx: CheckContext, params: Params) -> Action | None:
    """Arithmetic read from a PDF, an image or typed by hand may be a reading error:
    never reject it; structured files (``params["reject_formats"]``) may be."""
    formats = params.get("reject_formats", [f.value for f in STRUCTURED_FORMATS])
    return None if str(ctx.source_format) in formats else Action.REVIEW
