"""django-q2 entry points for invoices. They receive ids, never model instances."""

from __future__ import annotations

from .hooks import screen
from .intake import requeue_unqueued


def process_invoice(invoice_id: str) -> None:
    """Read a document left for the worker (photos, scans), then screen the invoice.
    Both steps do nothing when already done, so a doubled task is harmless.

    The dotted name stays (tasks already queued use it); the screening itself is the
    screener the reviews layer registers (``invoices.hooks.register_screener``)."""
    screen(invoice_id)


def requeue_unqueued_task() -> int:
    """Scheduled every minute: queue screening of the invoices whose queueing failed
    (broker down at upload time); how many."""
    return len(requeue_unqueued())
