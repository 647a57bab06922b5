"""The permission matrix: every route of the URL configuration, every method, every
actor (anonymous, each role, another organization's submitter, staff employed by the
submitting organization), against the answer the portal should give
(``matrix_expectations.EXPECTED``).

The routes come from walking the resolver, so a route added without an entry in the
table fails here by name. Cases where the portal does not yet answer as it should
are listed in ``matrix_expectations.KNOWN_GAPS`` with the answer measured: the route
is then an expected failure, and it fails again as soon as the answer changes (fixed:
remove the gap; changed otherwise: look).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.urls import include, path

from . import matrix_expectations as table
from .probe import API_METHODS, PAGE_METHODS, probe, rolled_back, signed_in
from .routes import Route, all_routes, missing_entries, stale_entries, walk
from .world import ACTORS, World, build_world

ROUTES = all_routes()

# Marked so that pytest-django sets the test database up; each test then runs in
# its own savepoint inside the module's transaction (see ``world``).
pytestmark = pytest.mark.django_db


def _methods(route: Route) -> tuple[str, ...]:
    if route.format_suffix:
        return ("GET",)
    if route.kind == "api":
        return API_METHODS
    if route.kind == "admin":
        return table.admin_methods(route)
    return PAGE_METHODS


@pytest.fixture(scope="module")
def world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[World]:
    """Built once for the module inside a transaction rolled back at its end (as
    ``TestCase.setUpTestData`` does); each request runs in its own savepoint."""
    media = tmp_path_factory.mktemp("matrix-media")
    with (
        override_settings(MEDIA_ROOT=media),
        django_db_blocker.unblock(),
        rolled_back(),
    ):
        built = build_world()
        for actor in ACTORS:
            signed_in(built, actor)  # sessions opened once, outside the tests
        yield built


def _route_id(route: Route) -> str:
    return route.key + (" (format suffix)" if route.format_suffix else "")


def test_every_route_has_an_entry() -> None:
    missing = missing_entries(ROUTES, table.EXPECTED)
    assert not missing, "routes without an entry in matrix_expectations.EXPECTED:\n" + (
        "\n".join(f"  {r.key!r}  (/{r.pattern})" for r in missing)
    )


def test_no_entry_names_a_route_that_is_gone() -> None:
    stale = stale_entries(ROUTES, table.EXPECTED)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    gone = sorted({key for key, _m, _a in table.KNOWN_GAPS} - table.EXPECTED.keys())
    assert not gone, f"known gaps on routes without an entry: {gone}"


def test_a_new_route_without_an_entry_fails_by_name() -> None:
    """The guard itself: add a route to a copy of the URL configuration."""

    def secret(request: Any) -> None:  # pragma: no cover - never called
        return None

    from django.urls import get_resolver

    secret_routes = [path("secret/", secret, name="secret")]
    extra = [path("invoices/", include((secret_routes, "x")))]
    before = {r.key for r in missing_entries(all_routes(), table.EXPECTED)}
    routes = [*all_routes(), *walk(extra)]
    missing = [
        r for r in missing_entries(routes, table.EXPECTED) if r.key not in before
    ]
    assert [(r.key, r.pattern) for r in missing] == [("x:secret", "invoices/secret/")]
    assert len(routes) == len(all_routes(get_resolver().url_patterns)) + 1


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_route_answers_each_actor_as_expected(route: Route, world: World) -> None:
    if route.key not in table.EXPECTED:
        pytest.fail(f"no entry for {route.key!r} (/{route.pattern})")
    mismatches, gaps_open, gaps_closed = [], [], []
    for method in _methods(route):
        expected_row = table.expected(route, method)
        label = f"{method}.json" if route.format_suffix else method
        for actor in table.actors_for(route):
            body = table.body(route, method, world)
            actual = probe(route, method, actor, world, body)
            expected = expected_row[actor]
            gap = table.KNOWN_GAPS.get((route.key, label, actor))
            line = f"{label:8} {actor:13} expected {expected:9} got {actual}"
            if gap is not None:
                if actual == expected:
                    gaps_closed.append(line)
                elif actual == gap[0]:
                    gaps_open.append(f"{line}  ({gap[1]})")
                else:
                    mismatches.append(f"{line}  (known gap recorded as {gap[0]})")
            elif actual != expected:
                mismatches.append(line)
    where = f"{route.key} /{route.pattern}"
    assert not mismatches, f"{where}:\n  " + "\n  ".join(mismatches)
    assert not gaps_closed, (
        f"{where}: fixed, remove from KNOWN_GAPS:\n  " + "\n  ".join(gaps_closed)
    )
    if gaps_open:
        pytest.xfail(f"{where}: known gaps:\n  " + "\n  ".join(gaps_open))


def test_actors_cover_every_role() -> None:
    from accounts.roles import Role

    roles = {role.value for role in Role}
    assert roles <= set(ACTORS), roles - set(ACTORS)
