"""Screening checks: pure functions over an ``ExtractedInvoice`` and a plain-data
``CheckContext``; the catalog of rules; running them and routing the invoice.

Part of the reviews layer, and pure (no ORM, no I/O). May import the extraction types
and value helpers of ``invoiceportal.invoices`` and ``invoiceportal.common``.
"""

from .base import (
    Action,
    CheckContext,
    CheckOutcome,
    ExistingInvoice,
    Outcome,
    RegistryRecord,
    RegistryStatus,
    Severity,
    SourceFormat,
)
from .catalog import RULES, RULES_BY_CODE, RuleConfig, RuleSpec, default_rules
from .runner import Decision, Reason, Routing, route, run_checks

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "Action",
    "CheckContext",
    "CheckOutcome",
    "Decision",
    "ExistingInvoice",
    "Outcome",
    "Reason",
    "RegistryRecord",
    "RegistryStatus",
    "Routing",
    "RuleConfig",
    "RuleSpec",
    "Severity",
    "SourceFormat",
    "default_rules",
    "route",
    "run_checks",
]
