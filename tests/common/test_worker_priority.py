"""Screening yields the CPU to people: each django-q2 worker process lowers its own
priority (``Q_WORKER_NICE``) as it starts. Found by bench/bench_soak.py: on one
machine running web and workers, a photo's OCR made the review queue page wait for a
core (page p95 over 100 ms at 7 invoices/s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.worker import in_child, running_worker, wait_for


def niceness(pid: int) -> int:
    # /proc/<pid>/stat: the 19th field is the nice value (after the "(comm)" field)
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture
def room_to_lower(settings):
    """The test process at a niceness from which a worker can still go lower (the
    cap is 19: a test run started niced would leave no room); restored after."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    if before + settings.Q_WORKER_NICE <= 19:
        yield
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        pytest.skip(f"started at niceness {before}, and not allowed to raise it")
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


@pytest.mark.django_db(transaction=True)
def test_a_real_clusters_worker_process_runs_at_lower_priority(settings, room_to_lower):
    with running_worker(workers=1) as cluster:
        base = niceness(cluster.pid)

        def lowered() -> list[int]:
            return [
                pid
                for pid in descendants(cluster.pid)
                if niceness_or_none(pid) == base + settings.Q_WORKER_NICE
            ]

        assert settings.Q_WORKER_NICE > 0
        assert wait_for(lambda: len(lowered()) == 1, timeout=60), (
            f"no worker process at nice {base + settings.Q_WORKER_NICE}: "
            f"{[(p, niceness_or_none(p)) for p in descendants(cluster.pid)]}"
        )
        # only the worker: the cluster's main process keeps its priority
        assert niceness(cluster.pid) == base


def niceness_or_none(pid: int) -> int | None:
    try:
        return niceness(pid)
    except (OSError, IndexError, ValueError):
        return None  # the process ended meanwhile


def test_the_setting_0_leaves_the_priority_alone(settings):
    from django_q.signals import post_spawn

    settings.Q_WORKER_NICE = 0
    before = os.nice(0)

    def unchanged() -> bool:
        post_spawn.send(sender="django_q", proc_name="Process-1")
        return os.nice(0) == before

    assert in_child(unchanged) == 0


def test_a_worker_lowers_its_priority_by_the_setting(settings):
    from django_q.signals import post_spawn

    settings.Q_WORKER_NICE = 5
    before = os.nice(0)

    def lowered() -> bool:
        post_spawn.send(sender="django_q", proc_name="Process-1")
        return os.nice(0) == min(before + 5, 19)

    assert in_child(lowered) == 0


def test_a_task_run_synchronously_leaves_the_calling_process_alone(settings):
    """django-q2 runs a synchronous task (``sync``, the tests) through its worker
    function in the calling process, which sends post_spawn from there with that
    process's name: found when the suite's own process ended at niceness 19."""
    from multiprocessing import current_process

    from django_q.signals import post_spawn

    settings.Q_WORKER_NICE = 5
    before = os.nice(0)

    def unchanged() -> bool:
        post_spawn.send(sender="django_q", proc_name=current_process().name)
        return os.nice(0) == before

    assert in_child(unchanged) == 0
