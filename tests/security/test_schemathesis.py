"""Property-based API tests with schemathesis against the portal's own OpenAPI schema
(``/api/v1/schema/``), called through the WSGI application, authenticated as each
API role, with valid and with invalid (negative) inputs, path parameters pointing at
real objects, on whatever database the suite runs on (SQLite by default, PostgreSQL
in CI). Every generated request must answer without a server error, with a status
code the schema documents (or a standard 4xx in the error shape) and a body that
conforms to the schema.

Bounded: ``MAX_EXAMPLES`` per operation and role (environment
``SCHEMATHESIS_MAX_EXAMPLES``), derandomized so a failure repeats.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import api_token_issue

from .probe import rolled_back
from .world import ADMIN, REVIEWER, SUBMITTER, SUPERUSER, SUPERVISOR, build_world

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))
SCHEMA_PATH = "/api/v1/schema/"
# The schema documents every error status in the one error shape
# (invoiceportal.common.api.add_error_responses), so the standard checks apply as is.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Not generated against: signing in and out (a generated sign-out would revoke the
# very token the run uses; both are covered by tests/accounts), and the schema and
# docs themselves.
SKIPPED_PATHS = ("/api/v1/auth/", "/api/v1/schema/", "/api/v1/docs/")

pytestmark = pytest.mark.django_db

# Failures found and not fixed yet (the owners' to-do list): operation -> a text
# the failure report contains, and why. A role whose only failures are these is an
# expected failure. Some depend on the database (PostgreSQL only): remove an entry
# once its fix has landed, not because one run did not meet it.
KNOWN_FAILURES: dict[str, tuple[str, str]] = {
    # None open (a UTC offset beyond ±15:59 in submitted_after/before answered 500 on
    # PostgreSQL; the filter now compares in UTC).
}


@contextmanager
def connection_kept() -> Iterator[None]:
    """Calling the WSGI application directly sends request_started/finished, whose
    ``close_old_connections`` would close the test's own connection (and its
    transaction) on PostgreSQL; Django's test client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _failure_summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    keep = [line for line in text if line.strip()][:12]
    return "\n      ".join(keep)


@pytest.mark.parametrize("role", [SUBMITTER, REVIEWER, SUPERVISOR, ADMIN, SUPERUSER])
def test_api_answers_every_generated_request_within_its_schema(
    role: str, settings_media: Any
) -> None:
    world = build_world()
    user = world.user(role)
    token = api_token_issue(user=user, address="127.0.0.1", client="schemathesis").key
    headers = {"Authorization": f"Token {token}"}
    app = get_wsgi_application()
    failures: list[str] = []
    operations = 0
    with connection_kept():
        schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, app)
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path.startswith(SKIPPED_PATHS):
                continue
            operations += 1

            @given(
                case=operation.as_strategy(GenerationMode.POSITIVE)
                | operation.as_strategy(GenerationMode.NEGATIVE)
            )
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                cache.clear()  # throttles count in the cache
                use_real_objects(case, world)
                # Each request in its own savepoint: every example meets the same
                # world, and a database error in one does not abort the others.
                with rolled_back():
                    response = case.call(headers=headers)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # every operation reported
                failures.append((label(operation), _failure_summary(exc)))
    assert operations > 10, f"only {operations} operations found in the schema"
    unknown = [
        f"{name}:\n      {text}"
        for name, text in failures
        if name not in KNOWN_FAILURES or KNOWN_FAILURES[name][0] not in text
    ]
    assert not unknown, f"as {role}, {len(unknown)} operations failed:\n  " + (
        "\n  ".join(unknown)
    )
    if failures:
        pytest.xfail(
            f"as {role}, known failures: "
            + "; ".join(f"{name} ({KNOWN_FAILURES[name][1]})" for name, _t in failures)
        )


def use_real_objects(case: Any, world: Any) -> None:
    """Random ids would only ever meet 404: point the path at the world's objects
    (query strings and bodies stay generated)."""
    params = case.path_parameters or {}
    path = case.operation.path
    real = {
        "/api/v1/invoices/": world.invoice.pk,
        "/api/v1/review-tasks/": world.task.pk,
        "/api/v1/users/": world.users["submitter"].pk,
        "/api/v1/organizations/": world.org_b.pk,
        "/api/v1/rules/": world.rule_code,
    }
    for prefix, value in real.items():
        if path.startswith(prefix):
            for name in params:
                params[name] = str(value)
    case.path_parameters = params


def label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.fixture
def settings_media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("value", "same_instant_in_utc"),
    [
        ("2026-01-01T00:00:00+16:00", "2025-12-31T08:00:00Z"),
        ("1079-04-16T23:20:08-17:50", "1079-04-17T17:10:08Z"),
    ],
)
def test_a_datetime_filter_with_a_large_offset_means_the_same_instant(
    value: str, same_instant_in_utc: str, settings_media: Any
) -> None:
    """Found by schemathesis on PostgreSQL (500: PostgreSQL refuses offsets beyond
    ±15:59); pinned here because bounded generation does not meet it on every run.
    ISO 8601 allows the offset: the filter compares the instant in UTC."""
    from django.test import Client

    world = build_world()
    client = Client(raise_request_exception=False)
    client.force_login(world.user(SUBMITTER))
    with rolled_back():
        response = client.get("/api/v1/invoices/", {"submitted_before": value})
        in_utc = client.get(
            "/api/v1/invoices/", {"submitted_before": same_instant_in_utc}
        )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["results"] == in_utc.json()["results"]
