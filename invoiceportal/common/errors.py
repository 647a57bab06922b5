"""One error family for business rules, shown to users as is (already translated)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def error_body(code: str, message: Any, details: Any = None) -> dict[str, Any]:
    """The one error shape of the API: ``{code, message, details}``."""
    return {"code": code, "message": str(message), "details": details or {}}


class ApplicationError(Exception):
    """A rule said no. ``message`` says what was wrong and what to do next."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self, message: Any, *, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.details = details if details is not None else {}

    def as_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class NotFoundError(ApplicationError):
    status_code = 404
    default_code = "not_found"

    def __init__(self, message: Any = None, **kwargs: Any) -> None:
        super().__init__(message or _("Not found."), **kwargs)


class PermissionDeniedError(ApplicationError):
    status_code = 403
    default_code = "permission_denied"


class ConflictError(ApplicationError):
    """The object changed state since the user looked at it."""

    status_code = 409
    default_code = "conflict"
