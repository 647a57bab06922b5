"""Refuse request bodies larger than the portal accepts before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .errors import error_body


class RequestSizeLimitMiddleware:
    """413 for a declared body over ``MAX_REQUEST_MB``; an upload's own file limit
    (``MAX_UPLOAD_MB``) is checked per file by intake."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_MB * 1024 * 1024
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            message = _(
                "The request is larger than %(limit)s MB. Upload fewer or smaller "
                "files at a time."
            ) % {"limit": settings.MAX_REQUEST_MB}
            if request.path.startswith("/api/"):
                return JsonResponse(
                    error_body("request_too_large", message), status=413
                )
            return HttpResponse(message, status=413, content_type="text/plain")
        return self.get_response(request)
