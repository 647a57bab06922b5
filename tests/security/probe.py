"""Send one request as one actor and name the answer's class.

Each request runs inside a savepoint that is rolled back afterwards, so every actor
meets the same world (a withdrawal by one actor does not change what the next one
sees). The savepoint is marked the way ``django.test.TestCase`` marks its own, so
the services' ``atomic(durable=True)`` blocks still run inside it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from .routes import Route
from .world import World

# Answer classes.
OK = "ok"  # 2xx
LOGIN = "login"  # redirect to a sign-in page
REDIRECT = "redirect"  # any other redirect, no error message queued
REFUSED = "refused"  # a redirect that carries an error message (a page refusal)
INVALID = "invalid"  # 400, 409, 422: authorised, the request itself refused
UNAUTHENTICATED = "401"
FORBIDDEN = "403"
NOT_FOUND = "404"
NOT_ALLOWED = "405"
THROTTLED = "429"
SERVER_ERROR = "5xx"

PAGE_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def login_paths() -> set[str]:
    return {reverse("accounts:login"), reverse("admin:login")}


def classify(response: Any) -> str:
    code = response.status_code
    if 200 <= code < 300:
        return OK
    if code in (301, 302, 303, 307, 308):
        location = urlsplit(response.get("Location", "")).path
        if location in login_paths():
            return LOGIN
        request = getattr(response, "wsgi_request", None)
        if request is not None and any(
            m.level >= messages.ERROR for m in get_messages(request)
        ):
            return REFUSED
        return REDIRECT
    if code in (400, 409, 422):
        return INVALID
    if code >= 500:
        return SERVER_ERROR
    return str(code)


@contextmanager
def rolled_back() -> Iterator[None]:
    atomic = transaction.atomic()
    # As django.test.TestCase does for its own blocks: durable blocks may nest here.
    atomic._from_testcase = True
    atomic.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def url_kwargs(route: Route, world: World) -> dict[str, Any]:
    """URL parameters from the world's objects, by parameter and route."""
    users = world.users
    by_pk = {
        "api:organization-detail": world.org_a.pk,
        # The superuser: the admin role must not be able to take it over.
        "api:user-detail": users["superuser"].pk,
        "api:rule-detail": world.rule_code,
        "api:webhook-endpoint-detail": world.extra["webhook_endpoint"].pk,
        "api:webhook-endpoint-resume": world.extra["webhook_endpoint"].pk,
        "api:webhook-endpoint-rotate-secret": world.extra["webhook_endpoint"].pk,
    }
    values: dict[str, Any] = {
        "invoice_id": world.invoice.pk,
        "task_id": world.task.pk,
        "request_id": world.expedite.pk,
        "notification_id": world.notification.pk,
        "entry_id": world.seller_entry.pk,
        "code": world.rule_code,
        "uidb64": world.extra["reset_uid"],
        "token": world.extra["reset_token"],
        "format": "json",
        "app_label": "accounts",
        "id": users["superuser"].pk,
        "user_id": users["superuser"].pk,
        "organization_id": world.org_a.pk,
        "priority": 2,  # an SLA policy
        "reason_code": "other",  # a seeded rejection reason
        "reply_code": "contract",  # a seeded canned reply
        "endpoint_id": world.extra["webhook_endpoint"].pk,
        "delivery_id": world.extra["webhook_delivery"].pk,
        "attachment_id": world.extra["answer_attachment"].pk,
    }
    kwargs: dict[str, Any] = {}
    for param in route.params:
        if param == "pk":
            if route.key.startswith("api:invoice-"):
                kwargs[param] = world.invoice.pk
            elif route.key.startswith("api:review-task-"):
                kwargs[param] = world.task.pk
            elif route.key.startswith("api:user-"):
                kwargs[param] = users["superuser"].pk
            else:
                kwargs[param] = by_pk[route.key]
        elif param == "object_id" and route.model_label:
            kwargs[param] = admin_object_pk(route, world)
        elif param in ("content_type_id", "object_id", "url"):
            continue
        else:
            kwargs[param] = values[param]
    return kwargs


def admin_object_pk(route: Route, world: World) -> Any:
    from django.apps import apps

    model = apps.get_model(route.model_label)
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, (
        f"no {route.model_label} row to open {route.key} on: add one to the world"
    )
    return obj.pk


def build_url(route: Route, world: World) -> str:
    kwargs = url_kwargs(route, world)
    if route.key == "admin:catch_all":
        return reverse("admin:index") + "no-such-page/"
    if route.key == "admin:view_on_site":
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(world.users["submitter"])
        return reverse("admin:view_on_site", args=[ct.pk, world.users["submitter"].pk])
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    path = "/" + route.pattern
    for param, value in kwargs.items():
        path = path.replace(f"<path:{param}>", str(value))
    return path


def send(
    client: Client, route: Route, method: str, url: str, body: dict[str, Any] | None
) -> Any:
    call = getattr(client, method.lower())
    if route.kind == "api":
        if method in ("GET", "DELETE"):
            return call(url)
        return call(url, json.dumps(body or {}), content_type="application/json")
    if method == "GET":
        return call(url)
    return call(url, body or {})


def signed_in(world: World, actor: str) -> Client:
    """A client with the actor's session. The session is opened once per world; a
    request that ends it (sign-out) is rolled back with everything else, and each
    request starts from a copy of the original cookies."""
    client = Client(raise_request_exception=False)
    user = world.user(actor)
    if user is None:
        return client
    sessions = world.extra.setdefault("sessions", {})
    if actor not in sessions:
        client.force_login(user)
        sessions[actor] = copy.deepcopy(client.cookies)
    client.cookies = copy.deepcopy(sessions[actor])
    return client


def probe(
    route: Route, method: str, actor: str, world: World, body: dict[str, Any] | None
) -> str:
    cache.clear()  # throttles and the permission cache start from zero
    url = build_url(route, world)
    client = signed_in(world, actor)
    with rolled_back():
        response = send(client, route, method, url, body)
        return classify(response)
