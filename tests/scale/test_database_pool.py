"""Issue 15: bounded database connections. With a pool of one connection held by
another thread, a request waits DB_POOL_TIMEOUT and answers 503 with Retry-After
(the API in the usual error shape, pages a static page), never a 500."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from tests.conftest import api_as

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Django's connection pool is PostgreSQL's (set DATABASE_URL)",
    ),
]


@pytest.fixture
def pool_of_one():
    """The settings block's DB_POOL_MAX_SIZE=1, DB_POOL_TIMEOUT=0.5, applied to the
    running test database (connections read their settings when they open)."""
    settings_dict = connection.settings_dict
    saved = (dict(settings_dict["OPTIONS"]), settings_dict["CONN_MAX_AGE"])
    connections.close_all()
    settings_dict["OPTIONS"] = {
        **saved[0],
        "pool": {"min_size": 1, "max_size": 1, "timeout": 0.5},
    }
    settings_dict["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        connections.close_all()
        connection.close_pool()
        settings_dict["OPTIONS"], settings_dict["CONN_MAX_AGE"] = saved


@contextlib.contextmanager
def the_only_connection_held():
    """Another thread takes the pool's only connection and keeps it."""
    connections.close_all()  # this thread's connection back to the pool
    taken, release = threading.Event(), threading.Event()

    def hold():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            taken.set()
            release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(30)


def test_the_pool_serves_requests_when_a_connection_is_free(submitter, pool_of_one):
    response = api_as(submitter).get("/api/v1/invoices/")
    assert response.status_code == 200
    assert connection.pool is not None and connection.pool.max_size == 1


def test_an_exhausted_pool_is_a_503_in_the_api_error_shape(submitter, pool_of_one):
    client = api_as(submitter)
    client.raise_request_exception = False
    with the_only_connection_held():
        response = client.get("/api/v1/invoices/")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["code"] == "database_busy"
    assert body["message"] and body["details"] == {"retry_after_seconds": 2}
    # and once the connection is back, the same client is served again
    assert client.get("/api/v1/invoices/").status_code == 200


def test_an_exhausted_pool_is_a_503_page(submitter, pool_of_one):
    client = Client(raise_request_exception=False)
    client.force_login(submitter)
    with the_only_connection_held():
        response = client.get(reverse("invoices:list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "The portal is busy" in response.content.decode()
    assert client.get(reverse("invoices:list")).status_code == 200
