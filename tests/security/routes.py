"""Every route of the URL configuration, found by walking the resolver.

A route is keyed by its namespaced URL name (``invoices:detail``, ``api:invoice-list``);
DRF's format-suffix variants (``/api/v1/invoices.json``) share the key of the route
they suffix. Django-admin routes are keyed by the model they serve
(``admin:accounts.user:change``) or by their site-level name (``admin:index``); the
admin's unnamed routes get a key of their own (``admin:<model>:object_redirect``,
``admin:catch_all``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin import ModelAdmin
from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
ADMIN_NAMESPACE = "admin"


@dataclass(frozen=True)
class Route:
    key: str
    pattern: str  # the full pattern, prefixes included
    name: str | None  # namespaced URL name, for reverse()
    params: tuple[str, ...]
    format_suffix: bool
    model_label: str | None  # the Django-admin model it serves
    kind: str  # "page", "api" or "admin"


def _model_admin(callback: Any) -> ModelAdmin | None:
    found = getattr(callback, "model_admin", None)
    if isinstance(found, ModelAdmin):
        return found
    wrapped = getattr(callback, "__wrapped__", None)
    owner = getattr(wrapped, "__self__", None)
    return owner if isinstance(owner, ModelAdmin) else None


def _params(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None) or {}
    names = list(converters) or list(pattern.regex.groupindex)
    return tuple(names)


def _admin_key(full_pattern: str, name: str | None, callback: Any) -> tuple[str, Any]:
    model_admin = _model_admin(callback)
    if model_admin is not None:
        opts = model_admin.model._meta
        short = name.split(":", 1)[1] if name else ""
        if not short:
            kind = "object_redirect"  # ``<object_id>/`` redirects to the change page
        elif short == "auth_user_password_change":
            kind = "password"
        else:
            kind = short.rsplit("_", 1)[-1]
        return f"admin:{opts.label_lower}:{kind}", opts.label_lower
    if name:
        return name, None
    initkwargs = getattr(callback, "view_initkwargs", {}) or {}
    target = initkwargs.get("pattern_name", "")
    if target.endswith("_change"):
        # ``<object_id>/`` redirects to the change page of the same model.
        from django.contrib import admin as django_admin

        for model in django_admin.site._registry:
            opts = model._meta
            if target == f"admin:{opts.app_label}_{opts.model_name}_change":
                return f"admin:{opts.label_lower}:object_redirect", opts.label_lower
    if "(?P<url>" in full_pattern:
        return "admin:catch_all", None
    return full_pattern, None


def walk(
    patterns: Iterable[Any], prefix: str = "", namespace: str | None = None
) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            continue
        assert isinstance(entry, URLPattern)
        full = prefix + str(entry.pattern)
        name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
        params = _params(entry.pattern)
        suffix = "format" in params
        model_label = None
        if namespace == ADMIN_NAMESPACE:
            key, model_label = _admin_key(full, name, entry.callback)
            kind = "admin"
        else:
            key = name or full
            kind = "api" if full.startswith(API_PREFIX) else "page"
        yield Route(
            key=key,
            pattern=full,
            name=name,
            params=params,
            format_suffix=suffix,
            model_label=model_label,
            kind=kind,
        )


def all_routes(patterns: Iterable[Any] | None = None) -> list[Route]:
    """Each route once (the API root is included by three routers: one entry)."""
    seen: dict[str, Route] = {}
    source = get_resolver().url_patterns if patterns is None else patterns
    for route in walk(source):
        seen.setdefault(route.pattern, route)
    return list(seen.values())


def missing_entries(routes: Iterable[Route], table: dict[str, Any]) -> list[Route]:
    return [route for route in routes if route.key not in table]


def stale_entries(routes: Iterable[Route], table: dict[str, Any]) -> list[str]:
    keys = {route.key for route in routes}
    return sorted(key for key in table if key not in keys)
