"""django-q2 entry points of the audit app (scheduled by reviews/schedules.py)."""

from __future__ import annotations

from .services import audit_checkpoint_write


def audit_checkpoint_task() -> int | None:
    """Sign the head of the audit chain (schedule "audit-checkpoint"). A chain that
    does not extend the last checkpoint raises: the task fails visibly."""
    checkpoint = audit_checkpoint_write()
    return None if checkpoint is None else checkpoint.seq
