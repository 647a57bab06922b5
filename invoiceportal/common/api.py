"""API plumbing shared by every app: the error shape and pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from invoiceportal.common.errors import ApplicationError, error_body


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


__all__ = ["Pagination", "error_response", "exception_handler", "status"]
