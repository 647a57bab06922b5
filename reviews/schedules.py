"""Periodic work the django-q2 cluster runs; created (or corrected) after migrate."""

from __future__ import annotations

from typing import Any

from invoiceportal.common.schedules import ensure_schedules_from

SCHEDULES = {
    # name: (function, minutes between runs)
    "screening-sweep": ("reviews.tasks.screen_sweep_task", 2),
    # uploads whose screening could not be queued (broker down): within a minute
    "screening-requeue": ("invoiceportal.invoices.tasks.requeue_unqueued_task", 1),
    "registry-retry": ("reviews.reverify.registry_retry_sweep", 15),
    "review-sla-sweep": ("reviews.queue.tasks.sla_sweep_task", 1),
    "review-lease-expiry": ("reviews.queue.tasks.lease_expiry_task", 1),
    # Signed checkpoints of the audit chain's head (file + log line), issue 16.
    "audit-checkpoint": ("invoiceportal.audit.tasks.audit_checkpoint_task", 5),
    # Catch-up sealing of audit entries whose on_commit sealer did not run (issue 15).
    "audit-seal": ("invoiceportal.audit.tasks.audit_seal_task", 1),
}


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedules_from(SCHEDULES)
