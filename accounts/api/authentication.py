"""DRF authenticates inside the view, after the middleware: apply the user's saved
language here, unless the request asks for one (Accept-Language)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from knox import auth as knox_auth
from rest_framework import authentication

from accounts.access import user_permissions_prime_for


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
        result = super().authenticate(request)
        if result is not None:
            # The permission tables are read once a minute per token, not on every
            # call (an upload's permission check was two queries); a role change
            # applies at the next call (accounts.access).
            user_permissions_prime_for(result[0], credential=f"t{result[1].token_key}")
        return _activate_language(request, result)


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Any) -> Any:
        return _activate_language(request, super().authenticate(request))
