"""Querysets compiled once per process, run many times with new values.

Turning a queryset into SQL costs about half a millisecond of Python, often more than
PostgreSQL takes to answer it. On the hottest paths (a reviewer's claim and decision,
run thousands of times an hour) the same query is built again and again with only a
value changed. ``CompiledQuery`` builds it once with marker values, remembers where
each marker landed among the parameters, and afterwards runs the ORM's own SQL with
the real values: the query stays written in the ORM (one definition, the model's
managers and filters), only its compilation is cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connections, models, transaction

# Marker values: integers no primary key or foreign key of ours ever takes.
_MARKER_BASE = -7_364_019_000


class CompiledQuery:
    """``build(**markers)`` must return a queryset whose parameters include each
    named value (integers: primary and foreign keys) exactly once (a filter on it);
    the structure of the query must not depend on the values.

        endpoints = CompiledQuery(
            lambda organization_id: Endpoint.objects.receiving().filter(
                organization_id=organization_id
            )
        )
        endpoints.objects(organization_id=7)   # model instances
        endpoints.rows(organization_id=7)      # tuples, for values_list querysets
    """

    def __init__(self, build: Callable[..., models.QuerySet], *names: str) -> None:
        self._build = build
        self._names = names
        self._compiled: dict[str, tuple[models.QuerySet, str, list[Any], list]] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str) -> tuple[models.QuerySet, str, list[Any], list]:
        found = self._compiled.get(alias)
        if found is not None:
            return found
        markers = {name: _MARKER_BASE - i for i, name in enumerate(self._names)}
        queryset = self._build(**markers).using(alias)
        with transaction.atomic(using=alias):
            # Django compiles FOR UPDATE only inside a transaction; nothing runs here.
            sql, params = queryset.query.sql_with_params()
        params = list(params)
        slots = []
        for name, marker in markers.items():
            at = [i for i, p in enumerate(params) if p == marker]
            if len(at) != 1:
                raise ValueError(
                    f"CompiledQuery: {name!r} appears {len(at)} times in the query's "
                    "parameters; it must appear exactly once."
                )
            slots.append((at[0], name))
        compiled = (queryset, sql, params, slots)
        with self._lock:
            self._compiled[alias] = compiled
        return compiled

    def _sql(
        self, alias: str, values: dict[str, Any]
    ) -> tuple[models.QuerySet, str, list]:
        if set(values) != set(self._names):
            raise TypeError(f"CompiledQuery takes {self._names}, got {sorted(values)}")
        for name, value in values.items():
            if type(value) is not int:
                raise TypeError(
                    f"CompiledQuery: {name!r} must be an int, not {value!r}"
                )
        queryset, sql, params, slots = self._compile(alias)
        params = list(params)
        for index, name in slots:
            params[index] = values[name]
        return queryset, sql, params

    def objects(
        self, *, using: str = "default", **values: Any
    ) -> Iterator[models.Model]:
        """The model instances the queryset would return (all its selected fields;
        ``select_related`` is not followed)."""
        queryset, sql, params = self._sql(using, values)
        return iter(queryset.model._default_manager.db_manager(using).raw(sql, params))

    def rows(self, *, using: str = "default", **values: Any) -> list[tuple]:
        """The rows as tuples (for ``values_list`` querysets)."""
        _queryset, sql, params = self._sql(using, values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
