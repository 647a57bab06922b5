"""Run the web server and a django-q2 worker together; Ctrl-C stops both."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS


def start_worker(**popen: Any) -> subprocess.Popen:
    """Start ``manage.py qcluster`` in a session (and process group) of its own.

    A SIGTERM sent to the caller's group must not reach the cluster's processes
    directly: its sentinel would die at once and its main process would then wait
    forever (issue 16). ``stop_process_group`` stops it: SIGTERM to its main process
    only, then SIGKILL to its group."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], start_new_session=True, **popen
    )


def stop_process_group(process: subprocess.Popen, timeout: float = 15) -> None:
    """Ask the process to stop (it stops its own children), then SIGKILL its whole
    group, so that nothing it started outlives it. The process must lead its own
    group (``start_new_session=True``) for the second step to reach its children."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Start the portal (runserver) and a background worker (qcluster)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        # Ctrl-C (SIGINT) or a plain kill (SIGTERM) stop both processes.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _raise_interrupt)
        worker = start_worker()
        logins = ", ".join(u[0] for u in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Invoice review portal: http://{addrport}/\n"
                f"  Demo logins: {logins} (password {DEMO_PASSWORD})\n"
                f"  API docs: http://{addrport}/api/v1/docs/\n"
                "  Ctrl-C stops the web server and the worker.\n"
            )
        )
        try:
            call_command("runserver", addrport, use_reloader=False)
        except KeyboardInterrupt:
            pass
        finally:
            stop_process_group(worker)
