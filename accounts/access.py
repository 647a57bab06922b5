"""Page access by capability: 403 for a signed-in user without it, login otherwise."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
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
