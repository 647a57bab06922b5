"""django-q2 entry points of notifications (ids in, never model instances)."""

from __future__ import annotations

from typing import Any

from ..common.schedules import ensure_schedules_from

SCHEDULES = {
    # name: (function, minutes between runs)
    "notifications-catch-up": ("invoiceportal.notifications.tasks.catch_up_task", 1),
    "notifications-retry": ("invoiceportal.notifications.tasks.retry_task", 5),
}


def deliver_notification(notification_id: int) -> bool:
    from .services import notification_deliver

    return notification_deliver(notification_id=notification_id)


def catch_up_task() -> int:
    from .services import notifications_catch_up

    return notifications_catch_up()


def retry_task() -> int:
    from .services import notifications_retry_undelivered

    return len(notifications_retry_undelivered())


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedules_from(SCHEDULES)
