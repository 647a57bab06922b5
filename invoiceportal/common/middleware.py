"""Refuse request bodies larger than the portal accepts before anything reads them;
resolve the client's address behind the configured reverse proxies."""

from __future__ import annotations

import ipaddress
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


def client_address(request: HttpRequest) -> str:
    """The client's address, for throttling, login lockout and audit alike.

    With ``PROXY_COUNT`` = n trusted reverse proxies, each appends the address it
    received the request from to ``X-Forwarded-For`` and the last one is
    ``REMOTE_ADDR``: the client is the n-th entry from the right. Entries further left
    were written by the client itself and are never trusted. Without proxies, or with a
    missing or malformed header, the answer is ``REMOTE_ADDR``.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    entries = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not entries:
        return remote
    candidate = entries[-min(count, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
