"""django-q2 schedules every app declares the same way and creates (or corrects)
after ``migrate``.

An app keeps ``{name: (dotted function, minutes between runs)}`` and connects a
``post_migrate`` receiver that calls :func:`ensure_schedules_from`.
"""

from __future__ import annotations

from collections.abc import Mapping


def ensure_schedule(name: str, func: str, *, minutes: int) -> None:
    """Create the schedule ``name`` (or correct it) to run ``func`` every
    ``minutes`` minutes, forever. Idempotent."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )


def ensure_schedules_from(schedules: Mapping[str, tuple[str, int]]) -> None:
    """:func:`ensure_schedule` for each ``name: (func, minutes)``."""
    for name, (func, minutes) in schedules.items():
        ensure_schedule(name, func, minutes=minutes)
