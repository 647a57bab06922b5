"""A forked process (django-q2's sentinel forking a recycled worker) never uses the
connections or the pool of its parent: before the fix, the child spoke over the
parent's pooled socket and both failed (bench/bench_soak.py, after 500 tasks)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.worker import in_child

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the pool and the fork-sharing of sockets are PostgreSQL's",
    ),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_forked_child_opens_its_own_connection():
    parent_backend = backend_pid()
    parent_socket = connection.connection

    def child() -> bool:
        fresh = connection.connection is None
        return fresh and backend_pid() != parent_backend

    assert in_child(child) == 0
    # The parent's connection was not touched by the child.
    assert connection.connection is parent_socket
    assert backend_pid() == parent_backend


@pytest.fixture
def pooled():
    """The default database through Django's psycopg pool, as DB_POOL_MAX_SIZE sets."""
    settings_dict = connection.settings_dict
    old_age = settings_dict["CONN_MAX_AGE"]
    connection.close()
    settings_dict["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 2, "timeout": 5}
    settings_dict["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        connection.close()
        connection.close_pool()
        del settings_dict["OPTIONS"]["pool"]
        settings_dict["CONN_MAX_AGE"] = old_age


def test_a_forked_child_makes_its_own_pool(pooled):
    parent_backend = backend_pid()
    parent_pool = connection.pool
    assert parent_pool is not None

    def child() -> bool:
        own_pool = connection.pool is not parent_pool
        pids = {backend_pid() for _ in range(3)}
        connection.close()  # returns the connection to the child's own pool
        return own_pool and parent_backend not in pids

    assert in_child(child) == 0
    assert in_child(child) == 0  # a second recycled worker, the same
    assert connection.pool is parent_pool
    assert backend_pid() == parent_backend  # still working, same backend
