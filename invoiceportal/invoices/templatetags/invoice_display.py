"""Template tags shared by the submitter's invoice page and the reviewer's task page.

``{% special_business invoice checks %}`` shows the invoice's special-business data
(toll passages, rail trip, air itinerary) and, for a passenger ticket, the deductible
input VAT that screening computed (rule ``tickets.deductible_vat``). ``checks`` is the
page's latest screening round: ``CheckResult`` rows or the submitter page's dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from invoiceportal.invoices.extraction.types import TICKET_KINDS
from invoiceportal.invoices.special_business import (
    DEDUCTION_RULE,
    deductible_tax_in,
    special_business_sections,
)

register = template.Library()


def _deduction_row(checks: Iterable[Any]) -> Any:
    for check in checks:
        code = check.get("rule") if isinstance(check, Mapping) else check.rule_code
        if code == DEDUCTION_RULE:
            return check
    return None


def _message(check: Any) -> str:
    if check is None:
        return ""
    if isinstance(check, Mapping):
        return str(check.get("message") or "")
    return str(getattr(check, "message", "") or check.message_zh or "")


@register.inclusion_tag("invoices/_special_business.html")
def special_business(invoice: Any, checks: Iterable[Any] | None = None) -> dict:
    checks = list(checks or [])
    row = _deduction_row(checks)
    return {
        "sections": special_business_sections(invoice.extras),
        "is_ticket": invoice.kind in {str(k) for k in TICKET_KINDS},
        "deductible_tax": deductible_tax_in(checks),
        "deduction_message": _message(row),
        "screened": bool(checks),
    }
