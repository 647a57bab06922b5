"""Tell drf-spectacular that our authenticators are DRF's token and session schemes."""

from drf_spectacular.authentication import SessionScheme, TokenScheme


class PortalTokenScheme(TokenScheme):
    target_class = "accounts.api.authentication.TokenAuthentication"


class PortalSessionScheme(SessionScheme):
    target_class = "accounts.api.authentication.SessionAuthentication"
