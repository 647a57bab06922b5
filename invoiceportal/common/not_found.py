"""The portal's own "not found" page in every mode.

With ``DEBUG = True`` Django answers an unknown address with its technical page, which
lists every URL pattern of the portal. Development servers get shown to colleagues and
screenshotted into tickets, so that page is replaced by the portal's own (JSON on API
paths, as in production).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .api import handler404

_TECHNICAL_MARKER = b"DEBUG = True"


class PortalNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "streaming", False)
            and _TECHNICAL_MARKER in response.content
        ):
            return handler404(request, None)
        return response
