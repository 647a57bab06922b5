"""A full database connection pool is a 503 with ``Retry-After``, never a 500.

With ``DB_POOL_MAX_SIZE`` set, each process holds at most that many PostgreSQL
connections (Django's psycopg pool). A request that waits ``DB_POOL_TIMEOUT`` seconds
for one fails with psycopg_pool's ``PoolTimeout`` wherever it first touches the
database: in a view, in DRF, or in a middleware (sessions, authentication). Django
answers every uncaught exception through ``handler500``; ``server_error`` (the
project's handler500) answers this one, and a lost connection, as 503: the usual
``{code, message, details}`` on API paths, a static bilingual page elsewhere (no
database needed to render either).
"""

from __future__ import annotations

import sys
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from invoiceportal.common.api import API_PREFIX, handler500, is_connection_lost
from invoiceportal.common.errors import error_body

RETRY_AFTER_SECONDS = 2

try:  # the pool is optional (psycopg[pool]); without it nothing can exhaust it
    from psycopg_pool import PoolTimeout
except ImportError:  # pragma: no cover
    PoolTimeout = None  # type: ignore[assignment,misc]


def is_pool_exhausted(exc: BaseException | None) -> bool:
    """``exc`` (or what it was raised from) is the pool's timeout."""
    seen = 0
    while exc is not None and seen < 5:
        if PoolTimeout is not None and isinstance(exc, PoolTimeout):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def database_busy_response(request: HttpRequest, *, lost: bool = False) -> HttpResponse:
    if lost:
        code = "database_unavailable"
        message = _("The database is briefly unavailable. Try again in a few seconds.")
    else:
        code = "database_busy"
        message = _(
            "The portal is busy: no database connection became free in time. "
            "Try again in a few seconds."
        )
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            error_body(code, message, {"retry_after_seconds": RETRY_AFTER_SECONDS}),
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """handler500: a full pool or a lost connection is a 503, the rest a 500."""
    exc = sys.exc_info()[1]
    if is_pool_exhausted(exc):
        return database_busy_response(request)
    if exc is not None and is_connection_lost(exc):
        for conn in connections.all(initialized_only=True):
            conn.close_at = 0  # reconnect on the next request
        return database_busy_response(request, lost=True)
    return handler500(request, *args, **kwargs)
