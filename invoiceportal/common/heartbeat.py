"""The background worker's heartbeat, readable from any process.

The worker writes a :class:`~invoiceportal.common.models.WorkerHeartbeat` row (one
per host and cluster) in two ways:

* the ``worker-heartbeat`` schedule runs :func:`heartbeat_task` every minute. It goes
  through the broker and the same queue as screening, so a fresh beat means the
  scheduler, the broker and a worker all work *and* the queue is not stuck behind a
  backlog: exactly what "automatic checks run in minutes" needs;
* a worker about to run any task beats too (at most every
  :data:`TASK_BEAT_INTERVAL` seconds per process), so a busy worker is fresh at once.

The row lives in the database, which the web processes and the worker share with the
ORM broker on SQLite (``make run``) as with Redis in production; the last value read is
kept in the cache for :data:`READ_CACHE_SECONDS`. ``WORKER_HEARTBEAT_STALE_SECONDS``
says when a beat is too old. When tasks run inline (``Q_CLUSTER["sync"]``, the
tests' settings) no worker is needed and checks are never delayed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone
from django_q.conf import Conf

from .models import WorkerHeartbeat
from .schedules import ensure_schedules_from

logger = logging.getLogger(__name__)

SCHEDULES = {
    # name: (function, minutes between runs)
    "worker-heartbeat": ("invoiceportal.common.heartbeat.heartbeat_task", 1),
}
TASK_BEAT_INTERVAL = 15.0  # seconds between beats written before tasks, per process
READ_CACHE_SECONDS = 10  # a reader looks at the database at most this often
PRUNE_AFTER = dt.timedelta(days=7)  # rows of clusters gone for this long are removed
_CACHE_KEY = "ops:worker-heartbeat"
_NEVER = "never"
_last_task_beat = 0.0


def heartbeat_name() -> str:
    return f"{socket.gethostname()}:{Conf.PREFIX}"[:200]


def record_heartbeat(source: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """Write this cluster's beat (and publish it in the cache)."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name=heartbeat_name(),
        defaults={"beat_at": now, "source": source, "pid": os.getpid()},
    )
    cache.set(_CACHE_KEY, now.isoformat(), READ_CACHE_SECONDS)
    return now


def heartbeat_task() -> str:
    """Scheduled every minute: beat, and forget clusters silent for a week."""
    now = record_heartbeat("schedule")
    WorkerHeartbeat.objects.filter(beat_at__lt=now - PRUNE_AFTER).delete()
    return now.isoformat()


def beat_before_task(task: dict[str, Any]) -> None:
    """Before a task runs in a worker (not inline): beat, at most every
    :data:`TASK_BEAT_INTERVAL` seconds per process. Never fails the task."""
    global _last_task_beat
    if task.get("sync"):
        return
    started = time.monotonic()
    if _last_task_beat and started - _last_task_beat < TASK_BEAT_INTERVAL:
        return
    _last_task_beat = started
    try:
        record_heartbeat("task")
    except Exception as exc:  # the task matters more than its heartbeat
        logger.warning("Worker heartbeat not written: %s", exc)


def last_heartbeat() -> dt.datetime | None:
    """The most recent beat of any cluster, ``None`` when there never was one."""
    cached = cache.get(_CACHE_KEY)
    if cached is not None:
        return None if cached == _NEVER else dt.datetime.fromisoformat(cached)
    latest = WorkerHeartbeat.objects.aggregate(latest=Max("beat_at"))["latest"]
    cache.set(
        _CACHE_KEY, _NEVER if latest is None else latest.isoformat(), READ_CACHE_SECONDS
    )
    return latest


def heartbeat_age(*, now: dt.datetime | None = None) -> float | None:
    """Seconds since the last beat (``None``: never)."""
    latest = last_heartbeat()
    if latest is None:
        return None
    return max(0.0, ((now or timezone.now()) - latest).total_seconds())


def worker_inline() -> bool:
    """Tasks run in the caller's process (``Q_CLUSTER["sync"]``): no worker needed."""
    return bool(Conf.SYNC)


def heartbeat_stale(*, now: dt.datetime | None = None) -> bool:
    """No beat within ``WORKER_HEARTBEAT_STALE_SECONDS`` (or never)."""
    age = heartbeat_age(now=now)
    return age is None or age > settings.WORKER_HEARTBEAT_STALE_SECONDS


def checks_delayed(*, now: dt.datetime | None = None) -> bool:
    """Automatic checks cannot be promised "within minutes": the worker's heartbeat
    is stale. Submitter pages show "automatic checks are delayed" instead of an
    ETA; admins and supervisors get a banner."""
    if worker_inline():
        return False
    return heartbeat_stale(now=now)


def ensure_schedules(**kwargs: Any) -> None:
    ensure_schedules_from(SCHEDULES)
