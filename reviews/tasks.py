"""django-q2 entry points for screening: thin, ids in, one service call."""

from __future__ import annotations

from .screening import screen_invoice, screen_sweep


def screen_invoice_task(invoice_id: str) -> None:
    screen_invoice(invoice_id=invoice_id)


def screen_sweep_task() -> int:
    """Scheduled: re-queue the invoices stuck before a decision; how many."""
    return len(screen_sweep())
