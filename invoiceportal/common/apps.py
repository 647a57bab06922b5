from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "invoiceportal.common"
    label = "common"

    def ready(self) -> None:
        # Observability (issue 13, H5): the request id travels with django-q2 tasks;
        # the worker's heartbeat is scheduled after migrate.
        from .heartbeat import ensure_schedules
        from .observability import connect_task_signals

        connect_task_signals()
        post_migrate.connect(ensure_schedules, sender=self)
