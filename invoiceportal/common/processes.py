"""Starting and stopping the background worker's process group (django-q2).

Used by the ``run_worker`` command, the portal's ``serve_portal`` command and the tests'
real worker. Depends on nothing of the project.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any


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


def in_cluster_worker(proc_name: str) -> bool:
    """Whether django-q2's ``post_spawn`` came from a worker process of a cluster.

    django-q2 also runs a synchronous task (``sync``, the tests) through its worker
    function in the calling process and sends the same signal from there, under that
    process's name: what a worker does as it starts must not happen to a web process,
    a command or the test run."""
    return proc_name != "MainProcess"
