"""django-q2 entry points of the audit app (scheduled by reviews/schedules.py)."""

from __future__ import annotations

from .services import audit_checkpoint_write, audit_seal


def audit_checkpoint_task() -> int | None:
    """Sign the head of the audit chain (schedule "audit-checkpoint"). A chain that
    does not extend the last checkpoint raises: the task fails visibly."""
    checkpoint = audit_checkpoint_write()
    return None if checkpoint is None else checkpoint.seq


def audit_seal_task() -> int:
    """Seal committed entries left unsealed (schedule "audit-seal"; normally each
    commit seals its own entries right away)."""
    return audit_seal()
