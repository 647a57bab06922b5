"""Template tags shared by the submitter's invoice page and the reviewer's task page.

``{% special_business invoice checks %}`` shows the invoice's special-business data
(toll passages, rail trip, air itinerary) and, for a passenger ticket, the deductible
input VAT that screening computed (rule ``tickets.deductible_vat``). ``checks`` is the
page's latest screening round: ``CheckResult`` rows or the submitter page's dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from invoiceportal.invoices.extraction.types import TICKET_KINDS
from invoiceportal.invoices.selectors import status_version
from invoiceportal.invoices.special_business import (
    DEDUCTION_RULE,
    deductible_tax_in,
    special_business_sections,
)
from invoiceportal.invoices.status import TERMINAL

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


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def live_state(invoice: Any) -> dict[str, Any]:
    """What a live status snippet polls with: the invoice's status version and
    whether it can still change (polling stops at a terminal status)."""
    return {
        "version": status_version(invoice.status, invoice.updated_at),
        "is_terminal": invoice.status in TERMINAL,
    }


@register.filter
def seconds_text(value: Any) -> str:
    """A number of seconds, rounded, with the right plural ("1 second")."""
    number = _decimal(value)
    if number is None:
        return ""
    n = int(number.quantize(Decimal(1)))
    return ngettext("%(n)s second", "%(n)s seconds", n) % {"n": n}


@register.filter
def working_hours_text(value: Any) -> str:
    """Working hours to one decimal, with the right plural ("1 working hour",
    "1.5 working hours")."""
    number = _decimal(value)
    if number is None:
        return ""
    hours = number.quantize(Decimal("0.1"))
    text = f"{hours.normalize():f}"
    count = 1 if hours == 1 else 2
    return ngettext("%(h)s working hour", "%(h)s working hours", count) % {"h": text}


@register.filter
def money(value: Any) -> str:
    """An amount as people read it: thousands separators, two places
    (``Decimal("12345.6")`` -> ``"12,345.60"``). Empty for no amount."""
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{amount:,.2f}"


@register.filter
def rate_percent(value: Any) -> str:
    """A tax rate stored as a fraction, written as a percentage (``0.13`` -> ``"13 %"``,
    ``0.015`` -> ``"1.5 %"``)."""
    rate = _decimal(value)
    if rate is None:
        return ""
    percent = (rate * 100).normalize()
    text = f"{percent:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


@register.filter
def plain_number(value: Any) -> str:
    """A quantity or unit price without padding zeros (``3.00000000`` -> ``"3"``,
    ``1280.50000000`` -> ``"1,280.5"``), with thousands separators."""
    number = _decimal(value)
    if number is None:
        return ""
    text = f"{number.normalize():,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_HAN = "\u3400-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(rf"\*?[{_HAN}][{_HAN}*（）]*")


@register.filter(needs_autoescape=True)
def chinese_terms(value: Any, autoescape: bool = True) -> str:
    """Mark the Chinese terms quoted inside an interface text (数电票, *餐饮服务*, the
    title printed on a document) as Chinese, not as text to translate:
    ``lang="zh-Hans" translate="no"``, so screen readers switch voice and the English
    page check knows them for names."""
    text = conditional_escape(value) if autoescape else str(value)
    return mark_safe(  # noqa: S308 - the text was escaped above; only spans are added
        _CJK_RUN.sub(
            lambda m: f'<span lang="zh-Hans" translate="no">{m.group(0)}</span>',
            str(text),
        )
    )


_BADGE_CLASSES = {
    "approved": "text-bg-success",
    "rejected": "text-bg-danger",
    "needs_info": "text-bg-warning",
    "withdrawn": "text-bg-secondary",
    "in_review": "text-bg-info",
}


@register.simple_tag
def status_badge(invoice: Any) -> str:
    """The invoice's status as a coloured badge (lists render fifty or a hundred a
    page: a Python tag, not an included template)."""
    status = str(invoice.status)
    return format_html(
        '<span class="badge status-badge {}" data-status="{}">{}</span>',
        _BADGE_CLASSES.get(status, "text-bg-primary"),
        status,
        invoice.get_status_display(),
    )
