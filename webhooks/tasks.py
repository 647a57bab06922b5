"""django-q2 entry points of webhooks (ids in, never model instances)."""

from __future__ import annotations

from typing import Any

from invoiceportal.common.schedules import ensure_schedules_from

from .services import webhook_delivery_attempt, webhooks_dispatch

SCHEDULES = {
    # name: (function, minutes between runs): retries, lost tasks, resumed endpoints
    "webhooks-dispatch": ("webhooks.tasks.dispatch_task", 1),
}


def deliver_task(delivery_id: int) -> str:
    """Send one delivery. A failure is recorded and retried by the dispatcher, not
    by django-q2 (the task itself does not fail)."""
    return webhook_delivery_attempt(delivery_id=delivery_id)


def dispatch_task() -> int:
    return webhooks_dispatch()


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedules_from(SCHEDULES)
