"""Probes for the load balancer and the orchestrator.

``/healthz``: the process answers (liveness; touches nothing). ``/readyz``: the
database and the task broker answer (readiness): 200 when both do, 503 with which one
failed otherwise. Uploads are still accepted while the broker is down (their screening
is queued again by the sweep), so a broker outage is reported, not hidden.

The background worker's heartbeat (``invoiceportal.common.heartbeat``) is reported as
``checks.worker`` (``ok``, ``age_seconds``, ``stale_after_seconds``, ``required``).
A stale worker makes the node unready only with ``READYZ_REQUIRE_WORKER`` (a web node
taken out of the load balancer does not bring the worker back, and uploads are still
accepted); otherwise it is listed under ``warnings`` too. With tasks run inline
(``Q_CLUSTER["sync"]``) no worker is needed: ``ok`` with ``"inline": true``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .heartbeat import heartbeat_age, worker_inline
from .task_queue import shared_broker

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker() -> None:
    """The django-q2 broker answers: Redis' PING, or the ORM broker's queue table
    (its own ``ping`` always says yes). Through the process's broker: a probe every
    few seconds from the load balancer must not open a connection each time."""
    from django_q.brokers.orm import ORM

    broker = shared_broker()
    if isinstance(broker, ORM):
        broker.queue_size()
    elif not broker.ping():
        raise ConnectionError("the broker did not answer PING")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "broker": _broker}
# Conditions worth an operator's attention that do not make the node unready (the
# next year's business calendar not loaded in December, ...): registered by higher
# layers at start-up; each returns a message or None.
WARNINGS: dict[str, Callable[[], str | None]] = {}


def register_readiness_warning(name: str, check: Callable[[], str | None]) -> None:
    WARNINGS[name] = check


def readiness_warnings() -> dict[str, str]:
    """The warnings that apply now; a check that fails is itself a warning."""
    found: dict[str, str] = {}
    for name, check in WARNINGS.items():
        try:
            message = check()
        except Exception as exc:
            logger.warning("Readiness warning %s could not be checked: %s", name, exc)
            message = f"not checked: {type(exc).__name__}"
        if message:
            found[name] = message
    return found


def readiness() -> dict[str, dict[str, object]]:
    """Each dependency's state: ``{"ok": bool, "ms": float, "error": str}``."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:
            logger.warning("Readiness: %s unavailable: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    if results["database"]["ok"]:
        results["worker"] = worker_check()
    else:
        connection.close()  # the next request opens a fresh connection
        results["worker"] = {
            "ok": False,
            "required": settings.READYZ_REQUIRE_WORKER,
            "error": "database unavailable",
        }
    return results


def worker_check() -> dict[str, object]:
    """The worker's heartbeat: fresh within ``WORKER_HEARTBEAT_STALE_SECONDS``."""
    stale_after = settings.WORKER_HEARTBEAT_STALE_SECONDS
    state: dict[str, object] = {
        "required": settings.READYZ_REQUIRE_WORKER,
        "stale_after_seconds": stale_after,
    }
    try:
        age = heartbeat_age()
    except Exception as exc:
        logger.warning("Readiness: worker heartbeat unreadable: %s", exc)
        return {"ok": False, **state, "error": type(exc).__name__}
    state["age_seconds"] = None if age is None else round(age, 1)
    if worker_inline():
        return {"ok": True, **state, "inline": True}
    return {"ok": age is not None and age <= stale_after, **state}


def _worker_warning(worker: dict[str, object]) -> str | None:
    if worker["ok"] or "age_seconds" not in worker:
        return None
    if worker["age_seconds"] is None:
        return "worker heartbeat never seen: automatic checks are not running"
    return (
        f"worker heartbeat stale: last seen {worker['age_seconds']} s ago "
        f"(limit {worker['stale_after_seconds']} s)"
    )


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ready = all(c["ok"] for c in checks.values() if c.get("required", True))
    warnings = readiness_warnings() if checks["database"]["ok"] else {}
    if worker_warning := _worker_warning(checks["worker"]):
        warnings["worker"] = worker_warning
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": checks,
            "warnings": warnings,
        },
        status=200 if ready else 503,
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})
