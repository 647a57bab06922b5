"""Explicit hooks: how the invoices layer lets higher layers react to its changes.

The invoices layer never imports the layers above it (reviews, webhooks, the pages).
Where one of them must act when an invoice changes (a withdrawn invoice closes its
review task, a decision goes to the enterprise's ERP), it registers a function here
from its ``AppConfig.ready``; the invoices layer calls every registered function inside
the same transaction as the change, so a hook's writes commit or roll back with it.

Three registries:

- **transition hooks** (``register_transition_hook``): every status change made by
  ``invoices.lifecycle.invoice_transition``, as an ``InvoiceChange``;
- **event hooks** (``register_event_hook``): changes that are not a status change, one
  typed event class each (``ExpediteApproved``, ``AnswerReceived``); a hook registers
  for one class and receives only its instances;
- **the screener** (``register_screener``): the one function that screens an invoice
  (the reviews layer's), called by the worker task ``invoices.tasks.process_invoice``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .models import Invoice, TimelineEvent

# ------------------------------------------------------------ status changes


@dataclass(frozen=True)
class InvoiceChange:
    """One status change, as the hooks see it (inside the change's transaction)."""

    invoice: Invoice
    event: TimelineEvent
    previous: str
    actor: Any
    # The caller closed the invoice's review task itself (a reviewer's decision): no
    # open task is left for a hook to look for.
    task_closed: bool = False


TransitionHook = Callable[[InvoiceChange], None]

_transition_hooks: list[TransitionHook] = []


def register_transition_hook(hook: TransitionHook) -> None:
    """Call ``hook`` after every invoice status change (idempotent per function)."""
    if hook not in _transition_hooks:
        _transition_hooks.append(hook)


def run_transition_hooks(change: InvoiceChange) -> None:
    for hook in list(_transition_hooks):
        hook(change)


# ------------------------------------------------------- non-status events


@dataclass(frozen=True)
class InvoiceEvent:
    """Base of the typed events below. Raised inside the transaction that holds the
    invoice's row lock; hooks run in it."""

    invoice: Invoice
    actor: Any


@dataclass(frozen=True)
class ExpediteApproved(InvoiceEvent):
    """Urgent handling was approved: the invoice now has ``priority``."""

    priority: int
    at: dt.datetime


@dataclass(frozen=True)
class AnswerReceived(InvoiceEvent):
    """The submitter answered the reviewer's question without a new file: the
    invoice is back in ``screening`` with nothing left to screen, so it returns to
    its reviewer's queue. (An answer with a corrected file is screened again
    instead, and screening's routing decides where it goes.)"""


E = TypeVar("E", bound=InvoiceEvent)
EventHook = Callable[[Any], None]

_event_hooks: dict[type[InvoiceEvent], list[EventHook]] = {}


def register_event_hook(event_type: type[E], hook: Callable[[E], None]) -> None:
    """Call ``hook`` with every raised event of ``event_type`` (idempotent)."""
    if not (isinstance(event_type, type) and issubclass(event_type, InvoiceEvent)):
        raise TypeError(f"{event_type!r} is not an InvoiceEvent class.")
    hooks = _event_hooks.setdefault(event_type, [])
    if hook not in hooks:
        hooks.append(hook)


def run_event_hooks(event: InvoiceEvent) -> None:
    """Run the hooks registered for the event's exact class, in registration order."""
    for hook in list(_event_hooks.get(type(event), ())):
        hook(event)


# ------------------------------------------------------------------ screener

Screener = Callable[[str], None]

_screener: list[Screener] = []


class NoScreenerError(RuntimeError):
    """No layer registered a screener: the reviews app is not installed."""


def register_screener(screener: Screener) -> None:
    """The function that screens one invoice by id (idempotent; the last wins)."""
    _screener[:] = [screener]


def screen(invoice_id: uuid.UUID | str) -> None:
    if not _screener:
        raise NoScreenerError("No screener registered (is the reviews app installed?)")
    _screener[0](str(invoice_id))
