"""Keyset ("cursor") pages of the review-task API in the queue order.

``GET /api/v1/review-tasks/`` answers ``{count, next, previous, results}`` (DESIGN.md
section 7) without ``COUNT(*)``: ``count`` is null, ``next`` and ``previous`` are
links carrying an opaque cursor (the last or first row's position in
``reviews.models.QUEUE_ORDER``). One query per page: ``page_size + 1`` rows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections import OrderedDict
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from reviews.models import QUEUE_ORDER, after_in_queue_q, before_in_queue_q

REVERSED_ORDER = (
    QUEUE_ORDER[0].copy().reverse_ordering(),
    "priority",
    "-id",
)


def _encode(position: tuple[dt.datetime | None, int, int], direction: str) -> str:
    due, priority, pk = position
    raw = json.dumps([direction, due.isoformat() if due else None, priority, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, dt.datetime | None, int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, due, priority, pk = json.loads(base64.urlsafe_b64decode(padded))
        when = parse_datetime(due) if due is not None else None
        if direction not in ("n", "p") or (due is not None and when is None):
            raise ValueError
        return direction, when, int(priority), int(pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError(
            {"cursor": [_("This page link is not valid: start from the first page.")]},
            code="invalid_cursor",
        ) from exc


class QueueCursorPagination(BasePagination):
    """Keyset pagination over a queryset ordered by ``QUEUE_ORDER``."""

    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise ValidationError(
                {"page_size": [_("Give a whole number of rows per page.")]}
            ) from exc
        if size < 1:
            raise ValidationError({"page_size": [_("Ask for at least one row.")]})
        return min(size, self.max_page_size)

    def paginate_queryset(
        self, queryset: Any, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        size = self._page_size(request)
        cursor = request.query_params.get(self.cursor_query_param)
        direction = "n"
        if cursor:
            direction, due, priority, pk = _decode(cursor)
            if direction == "n":
                queryset = queryset.filter(after_in_queue_q(due, priority, pk))
            else:
                queryset = queryset.filter(before_in_queue_q(due, priority, pk))
        if direction == "p":
            rows = list(queryset.order_by(*REVERSED_ORDER)[: size + 1])
            more_before = len(rows) > size
            rows = rows[:size][::-1]
            self.has_previous, self.has_next = more_before, bool(rows)
        else:
            rows = list(queryset.order_by(*QUEUE_ORDER)[: size + 1])
            self.has_next = len(rows) > size
            rows = rows[:size]
            self.has_previous = bool(cursor) and bool(rows)
        self.rows = rows
        return rows

    def _link(self, row: Any, direction: str) -> str:
        url = self.request.build_absolute_uri()
        return replace_query_param(
            url,
            self.cursor_query_param,
            _encode((row.due_at, row.priority, row.pk), direction),
        )

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.rows):
            return None
        return self._link(self.rows[-1], "n")

    def get_previous_link(self) -> str | None:
        if not (self.has_previous and self.rows):
            return None
        return self._link(self.rows[0], "p")

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("count", None),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "nullable": True,
                    "description": "Always null: pages are keyset pages.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }
