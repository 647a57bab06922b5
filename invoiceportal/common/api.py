"""API plumbing shared by every app: the error shape and pagination.

Every answer under ``/api/`` has the shape ``{code, message, details}``, whatever went
wrong: a rule (ApplicationError), a bad request (validation, unparsable or too deeply
nested JSON, a body over the limit), an unknown route, a database that went away
(503, and the connection is dropped so the next request reconnects), or a server
error (the 400/403/404/500 handlers below answer JSON on API paths).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from invoiceportal.common.errors import ApplicationError, error_body

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer):
    """The one error shape, for the OpenAPI schema."""

    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _code_of(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return "invalid"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error answers ``{code, message, details}``."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_body(), status=exc.status_code)
    if isinstance(exc, RecursionError):
        # json.loads of a body nested tens of thousands of levels deep
        return error_response(
            "invalid_json",
            _("The JSON body is nested too deeply."),
            status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            "request_too_large",
            _("The request body is larger than the portal accepts."),
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if is_connection_lost(exc):
        return database_unavailable_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "code": "invalid",
            "message": _("The request has invalid fields; see details."),
            "details": response.data,
        }
    elif isinstance(exc, exceptions.APIException):
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else ""
        )
        body = error_body(_code_of(exc), detail)
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["details"] = {"retry_after_seconds": int(exc.wait)}
    else:  # pragma: no cover - DRF only returns responses for APIException
        body = error_body("error", exc)
    response.data = body
    return response


def error_response(
    code: str, message: str, http_status: int, **details: Any
) -> Response:
    return Response(error_body(code, message, details), status=http_status)


def is_connection_lost(exc: BaseException) -> bool:
    """The database connection broke (server restarted, backend terminated,
    network): worth a retry, not a bug. Other database errors are bugs."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    # psycopg's class 08 (connection exception) and 57P01-03 (admin shutdown,
    # crash shutdown, cannot connect now); SQLite's locked database is not one.
    sqlstate = getattr(getattr(exc, "__cause__", None), "sqlstate", None) or ""
    text = str(exc).lower()
    return (
        sqlstate.startswith("08")
        or sqlstate in {"57P01", "57P02", "57P03"}
        or "terminating connection" in text
        or "server closed the connection" in text
        or "connection already closed" in text
        or "the connection is closed" in text
        or "could not connect" in text
        or "connection refused" in text
    )


def drop_broken_connections() -> None:
    """Close every connection that can no longer be used, so that the next query
    opens a new one (Django reconnects lazily)."""
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            # the atomic block's exit rolls back; mark the connection for closing
            conn.needs_rollback = True
            conn.close_at = 0
            continue
        try:
            conn.close()
        except DatabaseError:  # pragma: no cover - closing a dead socket
            conn.connection = None


def database_unavailable_response(exc: BaseException) -> Response:
    logger.warning("Database connection lost: %s", exc)
    drop_broken_connections()
    response = error_response(
        "database_unavailable",
        _("The database is briefly unavailable. Try again in a few seconds."),
        status.HTTP_503_SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = "5"
    return response


# --- Django's error handlers: JSON on API paths, the usual pages elsewhere -----------


def _api_json(
    request: HttpRequest, code: str, message: str, http_status: int
) -> JsonResponse | None:
    if not request.path.startswith(API_PREFIX):
        return None
    return JsonResponse(error_body(code, message), status=http_status)


def _json_or(
    page: Callable[..., HttpResponse], code: str, message: Callable[[], str], http: int
) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        answer = _api_json(request, code, message(), http)
        return answer if answer is not None else page(request, *args, **kwargs)

    handler.__name__ = page.__name__
    return handler


handler400 = _json_or(
    defaults.bad_request,
    "bad_request",
    lambda: _("The request could not be understood."),
    400,
)
handler403 = _json_or(
    defaults.permission_denied,
    "permission_denied",
    lambda: _("You do not have permission to perform this action."),
    403,
)
handler404 = _json_or(
    defaults.page_not_found,
    "not_found",
    lambda: _(
        "There is nothing at this address. The API is described at /api/v1/docs/."
    ),
    404,
)
handler500 = _json_or(
    defaults.server_error,
    "server_error",
    lambda: _(
        "Something went wrong on our side. Try again; if it keeps "
        "happening, contact the administrator."
    ),
    500,
)


__all__ = [
    "ErrorSerializer",
    "Pagination",
    "error_response",
    "exception_handler",
    "handler400",
    "handler403",
    "handler404",
    "handler500",
    "status",
]


# The error answers any API operation may give, all in the one shape; 422 only where
# something is written.
ERROR_STATUSES = {
    "400": "The request is malformed or a value is not acceptable.",
    "401": "No valid credentials.",
    "403": "The signed-in user may not do this.",
    "404": "Not found, or not visible to this user.",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state (e.g. not decided yet).",
    "406": "No acceptable representation.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
    "429": "Too many requests.",
}
WRITE_ERROR_STATUSES = {
    "422": "Understood but refused (an unreadable file, a reused key...).",
}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: document ``{code, message, details}`` for
    every error status an operation may answer (DESIGN.md section 7)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message", "details"],
        },
    )
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(ERROR_STATUSES)
            if method in ("post", "put", "patch", "delete"):
                statuses |= WRITE_ERROR_STATUSES
            for code, description in statuses.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": ref}
                )
    return result
