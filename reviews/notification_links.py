"""Where staff land from a notification about an invoice: its review task page.

Registered with ``invoiceportal.invoices.notify.register_staff_link`` from
``ReviewsConfig.ready``: the invoices layer asks, reviews answers (no upward import).
"""

from __future__ import annotations

from django.urls import reverse

from invoiceportal.invoices.models import Invoice

from .models import ReviewTask


def review_task_link(invoice: Invoice) -> str:
    """The invoice's latest review task, else the queue (no task yet)."""
    task_id = (
        ReviewTask.objects.filter(invoice_id=invoice.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if task_id is None:
        return reverse("reviews:queue")
    return reverse("reviews:task", args=[task_id])
