"""How the reviews layer reacts to invoice changes (``invoiceportal.invoices.hooks``).

Registered from ``ReviewsConfig.ready``; each hook runs inside the transaction of the
change, with the invoice's row lock held, and calls the queue's services:

- an invoice reaching a terminal status (approved, rejected, withdrawn) by any path
  (a reviewer, screening of a corrected file, a withdrawal, the registry retry) has
  its open review task closed at once (``review_task_close_for_invoice``; a task the
  deciding reviewer already closed is left alone);
- an answer without a new file returns the waiting task to the queue
  (``review_task_resume``);
- approved urgent handling raises the open task's priority
  (``review_task_reprioritize``);
- the worker's ``invoices.tasks.process_invoice`` screens through ``screen_invoice``.
"""

from __future__ import annotations

from invoiceportal.invoices.hooks import (
    AnswerReceived,
    ExpediteApproved,
    InvoiceChange,
    register_event_hook,
    register_screener,
    register_transition_hook,
)
from invoiceportal.invoices.status import TERMINAL, InvoiceStatus

from .queue.services import (
    review_task_close_for_invoice,
    review_task_reprioritize,
    review_task_resume,
)
from .screening import screen_invoice


def close_task_of_decided_invoice(change: InvoiceChange) -> None:
    """A decided or withdrawn invoice keeps no open review task."""
    if not change.task_closed and InvoiceStatus(change.invoice.status) in TERMINAL:
        review_task_close_for_invoice(invoice=change.invoice, actor=change.actor)


def resume_answered_task(event: AnswerReceived) -> None:
    review_task_resume(invoice=event.invoice, actor=event.actor)


def raise_expedited_task(event: ExpediteApproved) -> None:
    review_task_reprioritize(
        invoice=event.invoice, priority=event.priority, now=event.at
    )


def screen(invoice_id: str) -> None:
    screen_invoice(invoice_id=invoice_id)


def register_invoice_hooks() -> None:
    """Plug the hooks above into the invoices layer (idempotent)."""
    register_transition_hook(close_task_of_decided_invoice)
    register_event_hook(AnswerReceived, resume_answered_task)
    register_event_hook(ExpediteApproved, raise_expedited_task)
    register_screener(screen)
