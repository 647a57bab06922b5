"""Reads of the notification centre: one user's own rows, about subjects they may
still see (each subject prefix's scope, registered by the layer that owns it)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Channel, Notification
from .services import subject_scope_filter

UNREAD_BADGE_CAP = 99


def notifications_for_user(*, user: Any) -> QuerySet[Notification]:
    return Notification.objects.filter(user_id=user.pk, channel=Channel.IN_APP).filter(
        subject_scope_filter(user)
    )


def unread_count(*, user: Any, cap: int = UNREAD_BADGE_CAP) -> int:
    """Unread in-app notifications, counted up to ``cap + 1`` (a badge shows 99+)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    ids = (
        Notification.objects.unread()
        .filter(user_id=user.pk)
        .order_by()
        .values_list("pk", flat=True)[: cap + 1]
    )
    return len(ids)


def notification_page(
    *, user: Any, before: int | None = None, size: int = 30, unread_only: bool = False
) -> tuple[list[Notification], int | None]:
    """One page, newest first, keyset by id: (rows, the id to continue before)."""
    qs = notifications_for_user(user=user).order_by("-pk")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].pk if more and rows else None)
