"""django-q2 entry points for invoices. They receive ids, never model instances."""

from __future__ import annotations


def process_invoice(invoice_id: str) -> None:
    """Screen a received invoice (extraction already happened at upload)."""
    from reviews.screening import screen_invoice

    screen_invoice(invoice_id=invoice_id)
