"""Background workers yield the CPU to people (issue 15, found by bench/bench_soak.py).

On one machine that runs the web processes and the django-q2 workers side by side,
a photo's OCR (seconds of CPU) competes with a reviewer's page for the same cores, and
the page waits. Each worker process lowers its own scheduling priority by
``Q_WORKER_NICE`` (``nice``; 0 leaves it) as it starts, so a request that needs a
core gets it first and screening takes what the requests leave. A worker host of its
own loses nothing: with nobody else runnable, a niced process runs at full speed.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.conf import settings

from .processes import in_cluster_worker

logger = logging.getLogger(__name__)


def lower_worker_priority(*, proc_name: str = "", **_: Any) -> int:
    """Lower this process's priority by ``Q_WORKER_NICE``; its niceness after. Only
    in a worker process of a cluster (``in_cluster_worker``)."""
    step = int(settings.Q_WORKER_NICE)
    if step <= 0 or not in_cluster_worker(proc_name):
        return os.nice(0)
    try:
        return os.nice(step)
    except OSError:  # a platform or container that refuses it: run as we are
        logger.warning("Could not lower the worker's priority by %s", step)
        return os.nice(0)


def connect_worker_priority() -> None:
    """Each django-q2 worker process lowers its priority as it starts."""
    from django_q.signals import post_spawn

    post_spawn.connect(lower_worker_priority, dispatch_uid="worker-priority")
