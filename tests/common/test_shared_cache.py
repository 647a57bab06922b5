"""The shared cache (issue 14): Redis when ``REDIS_URL`` is set, so API throttles and
cached values count across processes; local memory otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from uuid import uuid4

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.api.views import TokenThrottle

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_TEST_URL, reason="REDIS_TEST_URL is not set (CI sets it)"
)


def _settings_in_fresh_process(env: dict[str, str], code: str) -> str:
    """Run ``code`` in a new Python process with the portal's real settings."""
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    base.update(DJANGO_SETTINGS_MODULE="invoiceportal.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_redis_url_the_cache_is_local_memory() -> None:
    backend = _settings_in_fresh_process(
        {},
        "from invoiceportal import settings as s; "
        "print(s.CACHES['default']['BACKEND'])",
    )
    assert backend == "django.core.cache.backends.locmem.LocMemCache"


def _client(prefix: str) -> RedisCache:
    """A cache client of its own, as another web process would have."""
    return RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": prefix})


@needs_redis
def test_a_value_set_by_another_process_is_seen_through_redis() -> None:
    prefix = f"test-{uuid4().hex}"
    key = "shared-value"
    out = _settings_in_fresh_process(
        {"REDIS_URL": REDIS_TEST_URL, "CACHE_KEY_PREFIX": prefix},
        "import django, json; django.setup(); "
        "from django.conf import settings; from django.core.cache import cache; "
        f"cache.set({key!r}, {{'from': 'worker'}}, 60); "
        "print(json.dumps(settings.CACHES['default']['BACKEND']))",
    )
    assert json.loads(out) == "django.core.cache.backends.redis.RedisCache"

    ours = _client(prefix)
    try:
        assert ours.get(key) == {"from": "worker"}
    finally:
        ours.delete(key)


def _throttle_on(client: RedisCache) -> TokenThrottle:
    throttle_class = type(
        "SharedTokenThrottle", (TokenThrottle,), {"cache": client, "rate": "2/min"}
    )
    return throttle_class()


@needs_redis
def test_the_token_throttle_counts_across_two_cache_clients() -> None:
    prefix = f"test-{uuid4().hex}"
    first_process, second_process = _client(prefix), _client(prefix)
    factory = APIRequestFactory()

    def request() -> Request:
        return Request(factory.post("/api/v1/auth/token/", REMOTE_ADDR="203.0.113.9"))

    try:
        assert _throttle_on(first_process).allow_request(request(), None)
        assert _throttle_on(second_process).allow_request(request(), None)
        # The third attempt from the same address, on the first process again, and
        # on the second: both refused, since they count the same history.
        assert not _throttle_on(first_process).allow_request(request(), None)
        assert not _throttle_on(second_process).allow_request(request(), None)
        # Another address still passes.
        other = Request(factory.post("/", REMOTE_ADDR="203.0.113.10"))
        assert _throttle_on(second_process).allow_request(other, None)
    finally:
        first_process.delete_many(
            ["throttle_token_203.0.113.9", "throttle_token_203.0.113.10"]
        )
