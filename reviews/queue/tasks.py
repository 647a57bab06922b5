"""django-q2 entry points of the review queue: thin, one service call."""

from __future__ import annotations

from .services import review_sla_sweep, review_task_expire_leases


def sla_sweep_task() -> dict[str, int]:
    """Scheduled: warnings, breaches, escalation, closing orphaned tasks."""
    report = review_sla_sweep()
    return {
        "expired": len(report.expired),
        "warned": len(report.warned),
        "breached": len(report.breached),
        "closed": len(report.closed),
    }


def lease_expiry_task() -> int:
    """Scheduled: claims left untouched return to the queue; how many."""
    return len(review_task_expire_leases())
