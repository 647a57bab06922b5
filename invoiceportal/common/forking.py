"""Database connections across ``fork()`` (issue 15, found by bench/bench_soak.py).

django-q2's sentinel forks a new worker process whenever one is recycled (every 500
tasks by default) or dies. With Django's psycopg pool (``DB_POOL_MAX_SIZE``) the
sentinel has already opened connections, and the child inherited them: two processes
then talked over one socket ("the last operation didn't produce records", "can't
change 'autocommit' now") and every screening after the first recycle failed.

After a fork the child forgets the connections and pools it inherited, without closing
them (closing would speak on the parent's sockets); it opens its own on first use.
The inherited objects are kept referenced, so their finalisers never run in the child
(psycopg's would not close a connection of another process, but the pool's would try
to stop worker threads that do not exist here).
"""

from __future__ import annotations

import os
from typing import Any

_inherited: list[Any] = []
_registered = False


def forget_inherited_connections() -> None:
    """In a freshly forked child: drop the parent's database connections and pools."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        pools = getattr(type(conn), "_connection_pools", None)
        if pools:
            _inherited.append(dict(pools))
            pools.clear()
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None
            conn.in_atomic_block = False
            conn.savepoint_ids = []
            conn.needs_rollback = False
            conn.run_on_commit = []


def register_fork_safety() -> None:
    """Install :func:`forget_inherited_connections` for every ``os.fork()`` child."""
    global _registered
    if not _registered:
        os.register_at_fork(after_in_child=forget_inherited_connections)
        _registered = True
