"""Explicit hooks: how the invoices layer lets higher layers react to its changes.

The invoices layer never imports the layers above it (reviews, webhooks, the pages).
Where one of them must act when an invoice changes (a withdrawn invoice closes its review
task, a decision goes to the enterprise's ERP), it registers a function here from its
``AppConfig.ready``; the invoices layer calls every registered function inside the same
transaction as the change, so a hook's writes commit or roll back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Invoice, TimelineEvent


@dataclass(frozen=True)
class InvoiceChange:
    """One status change, as the hooks see it (inside the change's transaction)."""

    invoice: Invoice
    event: TimelineEvent
    previous: str
    actor: Any


TransitionHook = Callable[[InvoiceChange], None]

_transition_hooks: list[TransitionHook] = []


def register_transition_hook(hook: TransitionHook) -> None:
    """Call ``hook`` after every invoice status change (idempotent per function)."""
    if hook not in _transition_hooks:
        _transition_hooks.append(hook)


def run_transition_hooks(change: InvoiceChange) -> None:
    for hook in list(_transition_hooks):
        hook(change)
