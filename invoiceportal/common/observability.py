"""Request ids, request metrics and access logs; the request id carried into worker
tasks; the "checks are delayed" status for pages (issue 13, section 3).

* :class:`RequestIdMiddleware` (first in ``MIDDLEWARE``): keeps a sane incoming
  ``X-Request-ID`` or makes one, binds it for the logs
  (:mod:`invoiceportal.common.logs`), returns it in the response's ``X-Request-ID``,
  observes the request's latency by route name and method
  (:data:`invoiceportal.common.prometheus.REQUEST_LATENCY`) and writes one access log
  line.
* django-q2 signals (connected in ``CommonConfig.ready``, no call site changes):
  ``pre_enqueue`` copies the current request id into the task package (its dict is
  pickled with the task), ``pre_execute`` binds it (and the task's id and name) in the
  worker around the task, ``post_execute_in_worker`` unbinds it. ``pre_execute`` also
  lets the worker beat (:func:`invoiceportal.common.heartbeat.beat_before_task`).
* :func:`ops_status`: a context processor giving templates ``ops.checks_delayed``
  (lazy: read only by a page that shows it), used by ``templates/_ops_banner.html``.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

from .heartbeat import beat_before_task, checks_delayed, heartbeat_age
from .logs import (
    bind_request_id,
    bind_task,
    current_request_id,
    new_request_id,
    sane_request_id,
    unbind_request_id,
    unbind_task,
)
from .prometheus import REQUEST_LATENCY

__all__ = ["RequestIdMiddleware", "checks_delayed", "ops_status"]

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("invoiceportal.access")

REQUEST_ID_HEADER = "X-Request-ID"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes: counted, but logged at DEBUG (they come every few seconds).
QUIET_ROUTES = frozenset({"healthz", "readyz", "metrics"})


def route_label(request: HttpRequest) -> str:
    """The route's name ("api:invoice-detail"), its pattern when unnamed, and
    "unmatched" for paths no route took: never the raw path (unbounded labels)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = (
            sane_request_id(request.META.get("HTTP_X_REQUEST_ID")) or new_request_id()
        )
        request.request_id = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            response.headers[REQUEST_ID_HEADER] = request_id
            route = route_label(request)
            method = request.method if request.method in METHODS else "other"
            REQUEST_LATENCY.labels(
                route, method, f"{response.status_code // 100}xx"
            ).observe(elapsed)
            user = getattr(request, "user", None)
            access_logger.log(
                logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                elapsed * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                    "user_id": user.pk
                    if user is not None and user.is_authenticated
                    else None,
                },
            )
            return response
        finally:
            unbind_request_id(token)


# ------------------------------------------------------------------ django-q2 signals
_bound: dict[str, tuple[contextvars.Token[str], Any]] = {}


def on_pre_enqueue(sender: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """Queued while handling a request (or a task that carries one): the task
    carries the request id."""
    request_id = current_request_id()
    if request_id and not task.get("request_id"):
        task["request_id"] = request_id


def on_pre_execute(sender: Any, func: Any, task: dict[str, Any], **kwargs: Any) -> None:
    try:
        request_id = sane_request_id(task.get("request_id")) or ""
        key = str(task.get("id", ""))
        _bound[key] = (
            bind_request_id(request_id),
            bind_task(key, str(task.get("name", ""))),
        )
    except Exception:  # a signal handler must never stop the worker
        logger.exception("Could not bind the task's request id")
    beat_before_task(task)


def on_post_execute_in_worker(
    sender: Any, func: Any, task: dict[str, Any], **kwargs: Any
) -> None:
    tokens = _bound.pop(str(task.get("id", "")), None)
    if tokens is None:
        return
    try:
        unbind_task(tokens[1])
        unbind_request_id(tokens[0])
    except ValueError:  # bound in another context: nothing to restore here
        pass


def connect_task_signals() -> None:
    pre_enqueue.connect(on_pre_enqueue, dispatch_uid="observability-pre-enqueue")
    pre_execute.connect(on_pre_execute, dispatch_uid="observability-pre-execute")
    post_execute_in_worker.connect(
        on_post_execute_in_worker, dispatch_uid="observability-post-execute"
    )


# ------------------------------------------------------------------ page status
class OpsStatus:
    """Read lazily, once per page, and only by pages that show it."""

    @cached_property
    def checks_delayed(self) -> bool:
        return checks_delayed()

    @cached_property
    def heartbeat_minutes(self) -> int | None:
        """Whole minutes since the worker's last beat (``None``: never)."""
        age = heartbeat_age()
        return None if age is None else int(age // 60)


def ops_status(request: HttpRequest) -> dict[str, Any]:
    return {"ops": OpsStatus()}
