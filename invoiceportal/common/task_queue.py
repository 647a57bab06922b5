"""Queueing background tasks through one broker per process.

django-q2's ``async_task`` builds a new broker for every call unless it is given
one, and its Redis broker opens a new connection pool with it: every upload opened
(and later dropped) a TCP connection to Redis, with a PING, to queue one task. The
profile of a soak at 7 uploads a second put 7 % of the web processes' CPU there.
Here the broker is made once per process and reused (redis-py's pool is safe to share
between threads and starts afresh in a forked child).
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.Lock()
_BROKER: dict[str, Any] = {}


def shared_broker() -> Any:
    """The process's broker for the configured cluster (made on first use)."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    key = Conf.CLUSTER_NAME
    broker = _BROKER.get(key)
    if broker is None:
        with _LOCK:
            broker = _BROKER.get(key)
            if broker is None:
                broker = _BROKER[key] = get_broker(key)
    return broker


def forget_broker() -> None:
    """Drop the process's broker (the next task makes a new one)."""
    with _LOCK:
        _BROKER.clear()


def queue_task(func: str, *args: Any, **kwargs: Any) -> str:
    """``django_q.tasks.async_task`` through the process's broker; its task id."""
    from django_q.tasks import async_task

    return async_task(func, *args, broker=shared_broker(), **kwargs)
