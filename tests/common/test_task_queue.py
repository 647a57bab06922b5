"""Background tasks are queued through one broker per process: with Redis, queueing
a task must not open a new connection each time (it did: one TCP connection and a
PING per upload)."""

from __future__ import annotations

import os
from uuid import uuid4

import pytest
import redis
from django_q.conf import Conf
from django_q.signing import SignedPackage

from invoiceportal.common.task_queue import forget_broker, queue_task, shared_broker
from reviews.screening import SCREEN_TASK, screening_enqueue

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_TEST_URL, reason="REDIS_TEST_URL is not set (CI sets it)"
)


@pytest.fixture
def redis_broker(monkeypatch: pytest.MonkeyPatch):
    """django-q2 configured for Redis, on a cluster name of this test's own."""
    name = f"test-queue-{uuid4().hex[:8]}"
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_TEST_URL)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "SYNC", False)
    forget_broker()
    server = redis.from_url(REDIS_TEST_URL)
    yield server, f"django_q:{name}:q"
    server.delete(f"django_q:{name}:q")
    forget_broker()


def _connections_received(server: redis.Redis) -> int:
    return int(server.info("stats")["total_connections_received"])


@needs_redis
def test_many_tasks_are_queued_over_one_connection(redis_broker) -> None:
    server, key = redis_broker
    queue_task("math.floor", 1.5)  # the process's first task opens the connection
    before = _connections_received(server)
    for i in range(20):
        screening_enqueue(invoice_id=uuid4())
        queue_task("math.floor", float(i))
    opened = _connections_received(server) - before
    assert server.llen(key) == 41
    # another client of the same Redis may connect meanwhile; 40 tasks opened 40
    # connections before
    assert opened <= 2, opened
    task = SignedPackage.loads(server.lindex(key, 1))
    assert task["func"] == SCREEN_TASK
    assert task["group"] == "screening"


@needs_redis
@pytest.mark.django_db
def test_readiness_probes_reuse_the_connection(redis_broker, client) -> None:
    """The load balancer probes /readyz every few seconds on every web process;
    the broker check opened a new Redis connection each time."""
    server, _key = redis_broker
    assert client.get("/readyz").json()["checks"]["broker"]["ok"] is True
    before = _connections_received(server)
    for _ in range(10):
        assert client.get("/readyz").json()["checks"]["broker"]["ok"] is True
    assert _connections_received(server) - before <= 2


@needs_redis
def test_a_broker_that_went_away_is_reconnected(redis_broker) -> None:
    server, key = redis_broker
    queue_task("math.floor", 1.5)
    broker = shared_broker()
    # Redis drops the process's connection (a restart, an idle timeout)
    killed = 0
    for client in server.client_list():
        if client.get("cmd") in ("rpush",) and client["id"] != server.client_id():
            killed += server.client_kill_filter(_id=client["id"])
    assert killed  # the process's connection was dropped
    queue_task("math.floor", 2.5)
    assert shared_broker() is broker
    assert server.llen(key) == 2


@pytest.mark.django_db
def test_the_process_keeps_one_broker() -> None:
    forget_broker()
    first = shared_broker()
    assert shared_broker() is first
    forget_broker()
    assert shared_broker() is not first
