"""A real django-q2 worker (``manage.py qcluster``) on the test database."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from invoiceportal.common.processes import start_worker, stop_process_group

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


@contextmanager
def running_worker(workers: int = 1) -> Iterator[subprocess.Popen]:
    """Start qcluster against the test database; stop it afterwards.

    The test must use ``transactional_db`` so that what it writes is committed, and
    must not run tasks inline (``django_q.conf.Conf.SYNC`` false).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DATABASE_URL": _database_url(),
        "Q_WORKERS": str(workers),
        "Q_POLL": "0.05",
        "MEDIA_ROOT": str(ROOT / "var" / "test-media"),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    process = start_worker(
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        stop_process_group(process, timeout=20)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def in_child(check: Callable[[], bool]) -> int:
    """Run ``check`` in a forked child (what it changes stays there); its exit code
    (0: passed, 2: returned false, 1: raised)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            code = 0 if check() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
