"""DRF authenticates inside the view, after the middleware: apply the user's saved
language here, unless the request asks for one (Accept-Language)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from knox import auth as knox_auth
from rest_framework import authentication


def _activate_language(request: Any, result: Any) -> Any:
    if result is not None and not request.META.get("HTTP_ACCEPT_LANGUAGE"):
        language = getattr(result[0], "language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
    return result


class TokenAuthentication(knox_auth.TokenAuthentication):
    """``Authorization: Token <key>`` with expiring, per-client tokens (knox)."""

    keyword = "Token"  # the header prefix (knox's AUTH_HEADER_PREFIX), for the schema

    def authenticate(self, request: Any) -> Any:
        return _activate_language(request, super().authenticate(request))


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Any) -> Any:
        return _activate_language(request, super().authenticate(request))
