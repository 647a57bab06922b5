"""``GET /api/v1/rules/`` and ``PATCH /api/v1/rules/{code}/`` (admins only).

A rule: ``code, enabled, outcome_on_fail, params, version`` plus ``title``,
``description`` (in the user's language), ``changed_at``, ``changed_by`` and
``change_note``. ``params`` are the parameters in force (the stored ones over the
catalog defaults). A PATCH changes only what it names; ``params`` given are merged
over the stored ones; ``change_note`` is required. Every change is a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import HasCapability
from accounts.roles import Perm
from invoiceportal.common.errors import ApplicationError, NotFoundError
from reviews.models import Rule, RuleAction
from reviews.rules import rule_update

from .selectors import RuleRow, rule_row, rule_rows


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    enabled = serializers.BooleanField(read_only=True)
    outcome_on_fail = serializers.ChoiceField(
        choices=RuleAction.choices, read_only=True
    )
    params = serializers.JSONField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    changed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    changed_by = serializers.CharField(
        source="changed_by_name", read_only=True, allow_blank=True
    )
    change_note = serializers.CharField(read_only=True, allow_blank=True)


class RulePatchSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    outcome_on_fail = serializers.ChoiceField(
        choices=RuleAction.choices, required=False
    )
    params = serializers.JSONField(
        required=False,
        help_text="Parameters to change, merged over the stored ones.",
    )
    change_note = serializers.CharField(
        required=False, allow_blank=True, help_text="Why the rule changes (required)."
    )


CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="Rule code")


@extend_schema_view(
    retrieve=extend_schema(parameters=[CODE]),
    partial_update=extend_schema(
        parameters=[CODE], request=RulePatchSerializer, responses=RuleSerializer
    ),
)
class RuleViewSet(viewsets.GenericViewSet):
    """Screening rules and their parameters (admins only)."""

    serializer_class = RuleSerializer
    permission_classes = [HasCapability.of(Perm.ADMINISTER)]
    queryset = Rule.objects.none()  # rows come from the catalog and the database
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> RuleRow:
        try:
            return rule_row(self.kwargs["code"])
        except NotFoundError as exc:
            raise Http404 from exc

    # ``format`` comes from the router's suffix routes (``/rules.json``).
    def list(self, request: Request, format: str | None = None) -> Response:
        page = self.paginate_queryset(rule_rows())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(
        self, request: Request, code: str, format: str | None = None
    ) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(
        self, request: Request, code: str, format: str | None = None
    ) -> Response:
        row = self.get_object()
        patch = RulePatchSerializer(data=request.data)
        patch.is_valid(raise_exception=True)
        data: dict[str, Any] = patch.validated_data
        note = (data.get("change_note") or "").strip()
        if not note:
            message = _("Say why the rule changes: a change note is required.")
            raise ApplicationError(
                message,
                code="change_note_required",
                details={"change_note": [message]},
            )
        params = data.get("params")
        if isinstance(params, Mapping):
            params = {**row.stored_params, **params}
        rule_update(
            actor=request.user,
            code=row.code,
            enabled=data.get("enabled"),
            outcome_on_fail=data.get("outcome_on_fail"),
            params=params,
            change_note=note,
        )
        return Response(self.get_serializer(rule_row(row.code)).data)
