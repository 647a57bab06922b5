from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "invoiceportal.common"
    label = "common"

    def ready(self) -> None:
        # Observability (issue 13, H5): the request id travels with django-q2 tasks;
        # the worker's heartbeat is scheduled after migrate.
        from .forking import register_fork_safety
        from .heartbeat import ensure_schedules
        from .observability import connect_task_signals
        from .worker_priority import connect_worker_priority

        register_fork_safety()  # a forked worker never uses its parent's connections
        connect_task_signals()
        connect_worker_priority()  # screening yields the CPU to requests
        post_migrate.connect(ensure_schedules, sender=self)
