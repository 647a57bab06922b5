"""django-q2 entry points of notifications (ids in, never model instances)."""

from __future__ import annotations

from typing import Any

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
    from django_q.models import Schedule

    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
