"""django-q2 entry points for invoices. They receive ids, never model instances."""

from __future__ import annotations


def process_invoice(invoice_id: str) -> None:
    """Read a document left for the worker (photos, scans), then screen the invoice.
    Both steps do nothing when already done, so a doubled task is harmless."""
    from reviews.screening import screen_invoice

    screen_invoice(invoice_id=invoice_id)


def requeue_unqueued_task() -> int:
    """Scheduled every minute: queue screening of the invoices whose queueing failed
    (broker down at upload time); how many."""
    from .intake import requeue_unqueued

    return len(requeue_unqueued())
