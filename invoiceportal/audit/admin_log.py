"""Every change made in Django admin is audited: each admin action writes a LogEntry
(in the admin view's transaction), and the audit log records it with the actor, the
object and Django's change message. Users and organizations are also audited with
their fields by their admin classes (accounts.admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import transaction

from .services import audit_record

ACTIONS = {ADDITION: "admin.added", CHANGE: "admin.changed", DELETION: "admin.deleted"}


def audit_admin_log_entry(
    sender: Any, instance: LogEntry, created: bool, **kwargs: Any
) -> None:
    if not created or kwargs.get("raw"):
        return
    with transaction.atomic():  # a savepoint in the admin view's own transaction
        audit_record(
            actor=instance.user,
            action=ACTIONS.get(instance.action_flag, "admin.changed"),
            data={
                "model": instance.content_type.model_class()._meta.label_lower
                if instance.content_type and instance.content_type.model_class()
                else "",
                "object_id": str(instance.object_id or ""),
                "object": instance.object_repr,
                "change": instance.get_change_message(),
            },
        )
