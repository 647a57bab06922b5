"""Prometheus metrics at ``/metrics`` (issue 13, section 3).

Two kinds of figures:

* **in-process**: request latency, observed by
  :class:`~invoiceportal.common.observability.RequestIdMiddleware` into
  :data:`REQUEST_LATENCY`. Under gunicorn each process has its own: set
  ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied at each start) and every
  process writes there and the scrape adds them up (prometheus-client's multiprocess
  mode);
* **read from the database on scrape**, so every process answers the same and the
  worker need not be scraped: the worker's heartbeat and the broker's queue here;
  the review queue, screening latency, breaches and delivery failures from the layers
  that own them, which register a *metric source* at start-up
  (:func:`register_metric_source`, like ``health.register_readiness_warning``).

Access: ``Authorization: Bearer <METRICS_TOKEN>`` or a client address in
``METRICS_ALLOWED_ADDRESSES`` (addresses or networks; the address is resolved behind
``PROXY_COUNT`` proxies like everywhere else). With neither configured the endpoint
is closed: 403 for everyone.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .heartbeat import heartbeat_age, worker_inline
from .middleware import client_address
from .task_queue import shared_broker

logger = logging.getLogger(__name__)

PREFIX = "invoiceportal"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status class.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)

# A source yields metric families read at scrape time; ``now`` is the scrape's clock.
MetricSource = Callable[[dt.datetime], Iterable[Metric]]
SOURCES: dict[str, MetricSource] = {}


def register_metric_source(name: str, source: MetricSource) -> None:
    """Higher layers add the figures they own (called from ``AppConfig.ready``)."""
    SOURCES[name] = source


def _worker_source(now: dt.datetime) -> Iterator[Metric]:
    age = heartbeat_age(now=now)
    yield GaugeMetricFamily(
        f"{PREFIX}_worker_heartbeat_age_seconds",
        "Seconds since the background worker last showed it was alive (+Inf: never).",
        value=math.inf if age is None else age,
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_worker_heartbeat_stale_after_seconds",
        "Heartbeat age after which checks count as delayed.",
        value=settings.WORKER_HEARTBEAT_STALE_SECONDS,
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_worker_inline",
        "1 when tasks run inline in the web process (no worker needed).",
        value=1 if worker_inline() else 0,
    )
    yield GaugeMetricFamily(
        f"{PREFIX}_worker_broker_queue_size",
        "Background tasks waiting in the broker.",
        value=shared_broker().queue_size() or 0,
    )


register_metric_source("worker", _worker_source)


class DatabaseCollector:
    """Runs every registered source at scrape time; a failing source is logged and
    counted in ``invoiceportal_metrics_source_up`` instead of failing the scrape."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        up = GaugeMetricFamily(
            f"{PREFIX}_metrics_source_up",
            "1 when the metric source answered in this scrape, 0 when it failed.",
            labels=["source"],
        )
        seconds = GaugeMetricFamily(
            f"{PREFIX}_metrics_source_duration_seconds",
            "Time the metric source took in this scrape.",
            labels=["source"],
        )
        for name, source in SOURCES.items():
            started = time.monotonic()
            try:
                families = list(source(now))
            except Exception:
                logger.exception("Metric source %s failed", name)
                up.add_metric([name], 0)
            else:
                up.add_metric([name], 1)
                yield from families
            seconds.add_metric([name], time.monotonic() - started)
        yield up
        yield seconds


class _ProcessCollector:
    """This process' own registry (request latency, process and GC figures)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_ProcessCollector())
    registry.register(DatabaseCollector())
    return registry


def _allowed_address(request: HttpRequest) -> bool:
    if not settings.METRICS_ALLOWED_ADDRESSES:
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(entry, strict=False)
        for entry in settings.METRICS_ALLOWED_ADDRESSES
    )


def _bearer_token(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    if not expected:
        return False
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return False
    return hmac.compare_digest(value.strip().encode(), expected.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    """The configured token, or a configured address; nothing else."""
    return _bearer_token(request) or _allowed_address(request)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse(
            "Forbidden\n", status=403, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(
        generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST
    )
