"""What a background worker process does as it starts (django-q2's ``post_spawn``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from invoiceportal.common.processes import in_cluster_worker

from .extraction.image_reader import load_readers


def load_readers_at_spawn(*, proc_name: str = "", **_: Any) -> bool:
    """Load the QR decoder and the OCR models in a cluster's worker process as it
    starts, so the first photo it reads does not also pay for them (about 2 s of
    CPU; on a host shared with the web processes, the soak's first minute of queue
    pages was 2.5x slower while each worker loaded them). Only in a worker process
    of a cluster (``in_cluster_worker``). Whether it loaded them."""
    if not in_cluster_worker(proc_name) or not settings.Q_PRELOAD_READERS:
        return False
    load_readers(ocr_threads=settings.OCR_THREADS)
    return True


def connect_worker_start() -> None:
    from django_q.signals import post_spawn

    post_spawn.connect(load_readers_at_spawn, dispatch_uid="worker-readers")
