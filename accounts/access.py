"""Page access by capability: 403 for a signed-in user without it, login otherwise."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from .roles import Perm, user_can


def capability_required(perm: Perm) -> Callable[..., Any]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_can(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasCapability(BasePermission):
    """DRF permission: ``permission_classes = [HasCapability.of(Perm.ADMINISTER)]``."""

    perm: Perm = Perm.ADMINISTER

    @classmethod
    def of(cls, perm: Perm) -> type[HasCapability]:
        return type(f"Has{perm.name.title()}", (cls,), {"perm": perm})

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_can(request.user, self.perm)


class SchemaAccess(BasePermission):
    """The OpenAPI schema and docs: public when ``API_DOCS_PUBLIC`` (development),
    signed-in users only otherwise (production)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if settings.API_DOCS_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)


# Permissions kept for a minute per session for the status poll, so it does not read
# the permission tables every few seconds. The key carries the user's role and a
# generation that ``user_permissions_invalidate`` replaces on every role or group
# change: a changed role applies at the next request, on every node sharing the cache.
PERMISSION_CACHE_SECONDS = 60


def _generation_key(user_id: Any) -> str:
    return f"perms-gen:{user_id}"


def user_permissions_prime(request: HttpRequest) -> None:
    """Give ``request.user`` its permission set from the shared cache (read from the
    permission tables on a miss). Kept on our own ``User.primed_permissions`` for the
    rest of the request; Django's private backend caches are left alone."""
    session_hash = request.session.get(HASH_SESSION_KEY, "")[:16]
    user_permissions_prime_for(request.user, credential=f"s{session_hash}")


def user_permissions_prime_for(user: Any, *, credential: str) -> None:
    """``user_permissions_prime`` for a user signed in by ``credential`` (a session's
    hash, an API token's key prefix): each credential has its own entry."""
    if not user.is_authenticated or user.primed_permissions is not None:
        return
    generation = cache.get(_generation_key(user.pk), "0")
    key = (
        f"perms:{user.pk}:{user.role}:{int(user.is_superuser)}:{int(user.is_active)}:"
        f"{generation}:{credential}"
    )
    perms = cache.get(key)
    if perms is None:
        perms = frozenset(user.get_all_permissions())
        cache.set(key, perms, PERMISSION_CACHE_SECONDS)
    user.primed_permissions = frozenset(perms)


def user_permissions_invalidate(user_id: Any) -> None:
    """Forget the cached permissions of a user (call on commit of a role change).
    The generation outlives every entry made under the previous one."""
    cache.set(_generation_key(user_id), uuid4().hex, PERMISSION_CACHE_SECONDS * 2)
