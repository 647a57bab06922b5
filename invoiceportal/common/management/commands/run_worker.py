"""Run the django-q2 cluster so that SIGTERM stops it within seconds.

``manage.py qcluster`` hangs when SIGTERM reaches its whole process group (what
systemd, container runtimes and ``kill -TERM -PGID`` do): the cluster's sentinel dies
of the signal at once while the main process, handling the same signal, waits forever
for it to acknowledge the stop event. Sent to the main process alone, the same
SIGTERM stops the cluster cleanly in about two seconds.

This command starts ``qcluster`` in a session of its own, so that a group signal
reaches only this process, forwards SIGTERM and SIGINT to the cluster's main process
alone, and SIGKILLs the cluster's whole group if it has not stopped after ``--grace``
seconds. Use it wherever workers are started (the portal's ``serve_portal`` does the
same).
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand

from invoiceportal.common.processes import start_worker, stop_process_group


class Command(BaseCommand):
    help = "Run the background worker (qcluster); SIGTERM stops it within seconds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=10.0,
            help="Seconds the cluster may take to stop before it is killed (10).",
        )

    def handle(self, *args: Any, grace: float, **options: Any) -> None:
        stopping = threading.Event()

        def request_stop(signum: int, frame: Any) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        worker = start_worker()
        self.stdout.write(f"Worker started (qcluster pid {worker.pid}).")
        self.stdout.flush()
        while worker.poll() is None and not stopping.wait(0.2):
            pass
        if worker.poll() is None:
            stop_process_group(worker, timeout=grace)
        else:
            # the cluster ended by itself: leave nothing of it behind
            stop_process_group(worker, timeout=0)
        code = worker.returncode or 0
        self.stdout.write(f"Worker stopped (exit code {code}).")
        if not stopping.is_set():  # the cluster died on its own: say so
            sys.exit(code if code > 0 else 1)
