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
