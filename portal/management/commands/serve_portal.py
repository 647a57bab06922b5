"""Run the web server and a django-q2 worker together; Ctrl-C stops both."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from invoiceportal.common.processes import start_worker, stop_process_group

from .seed_demo import DEMO_PASSWORD, DEMO_USERS

__all__ = ["Command", "start_worker", "stop_process_group"]


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
