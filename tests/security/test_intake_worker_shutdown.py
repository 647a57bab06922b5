"""The screening worker stops within seconds on SIGTERM to its process group (issue
16): ``manage.py qcluster`` alone hangs there (its sentinel dies of the signal while
its main process waits for it forever); ``run_worker`` and ``serve_portal`` start it
in a group of its own and forward the signal."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.worker import ROOT, _database_url

pytestmark = pytest.mark.django_db(transaction=True)
BOUND_SECONDS = 8.0  # measured about 2 s here


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "invoiceportal.settings",
        "DATABASE_URL": _database_url(),
        "Q_WORKERS": "2",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            members.append(int(entry.name))
    return members


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc (Linux)")
def test_sigterm_to_the_workers_group_stops_every_process_within_seconds():
    runner = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--grace", "20"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        line = runner.stdout.readline()
        assert "qcluster pid" in line, line
        cluster = int(line.rsplit("pid", 1)[1].strip(" ).\n"))
        # main, sentinel, monitor, pusher and two workers
        assert _wait(lambda: len(_session(cluster)) >= 6, 60), _session(cluster)

        started = time.monotonic()
        os.killpg(runner.pid, signal.SIGTERM)  # what systemd and containers send
        runner.wait(timeout=60)
        assert _wait(lambda: not _session(cluster), 60)
        elapsed = time.monotonic() - started
        print(f"worker stopped in {elapsed:.2f} s")
        assert runner.returncode == 0
        assert elapsed < BOUND_SECONDS
    finally:
        _kill_everything(runner)


def _kill_everything(process: subprocess.Popen) -> None:
    """Leave nothing behind when a test fails halfway."""
    for pid in [*_children(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc (Linux)")
def test_sigterm_to_serve_portals_group_stops_the_server_and_the_worker():
    portal = subprocess.Popen(
        [sys.executable, "manage.py", "serve_portal", f"127.0.0.1:{_free_port()}"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert _wait(lambda: _children(portal.pid), 60)
        worker = _children(portal.pid)[0]
        sid = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[3])
        assert _wait(lambda: len(_session(sid)) >= 6, 60), _session(sid)
        cluster = [p for p in _session(sid) if p != portal.pid]

        started = time.monotonic()
        os.killpg(portal.pid, signal.SIGTERM)
        portal.wait(timeout=60)
        assert _wait(lambda: not _session(sid), 60)
        elapsed = time.monotonic() - started
        print(f"serve_portal and {len(cluster)} processes stopped in {elapsed:.2f} s")
        assert elapsed < BOUND_SECONDS
    finally:
        _kill_everything(portal)
