"""Registry records (what 查验 would answer) for generated invoices."""

from __future__ import annotations

from invoiceportal.invoices.extraction.types import ExtractedInvoice


def registry_row(inv: ExtractedInvoice, *, status: str = "normal") -> dict:
    return {
        "identity": inv.identity,
        "code": inv.code,
        "number": inv.number,
        "issue_date": inv.issue_date,
        "seller_tax_id": inv.seller_tax_id,
        "seller_name": inv.seller_name,
        "buyer_tax_id": inv.buyer_tax_id,
        "buyer_name": inv.buyer_name,
        "amount": inv.amount,
        "tax_amount": inv.tax_amount,
        "total_amount": inv.total_amount,
        "check_code": inv.check_code,
        "status": status,
    }


def clean_digital_invoice(
    seed: int, *, buyer_name: str, buyer_tax_id: str, days_ago: int = 3
) -> ExtractedInvoice:
    """A 数电专票 issued a few days ago to this buyer, under the review threshold: one
    that screening approves when the registry knows it."""
    import datetime as dt
    import random
    from decimal import Decimal

    from invoiceportal.invoices.extraction.types import InvoiceKind

    from .truth import _qr_payload, random_invoice

    rng = random.Random(seed)
    while True:
        inv = random_invoice(rng, kind=InvoiceKind.DIGITAL_SPECIAL)
        if not inv.is_red and (inv.total_amount or 0) < Decimal("100000"):
            break
    inv.issue_date = dt.date.today() - dt.timedelta(days=days_ago)
    inv.number = f"{inv.issue_date:%y}{inv.number[2:]}"
    inv.buyer_name, inv.buyer_tax_id = buyer_name, buyer_tax_id
    inv.qr_payload = _qr_payload(inv, rng)  # the QR carries the new number and date
    return inv
