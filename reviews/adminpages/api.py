"""Admin API: ``/api/v1/sla-policies/``, ``/api/v1/calendar/days/`` (``year`` filter,
CSV import, package load), ``/api/v1/rejection-reasons/``, ``/api/v1/canned-replies/``.

Administrators only; errors in the ``{code, message, details}`` shape. Writes go
through the same audited services as the pages.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import HasCapability
from accounts.roles import Perm
from invoiceportal.common.errors import ApplicationError
from invoiceportal.invoices.status import Priority
from reviews.models import CannedReply, RejectionReason, SLAPolicy

from . import calendar_admin as cal
from .forms import CANNED_REPLY_FIELDS, REJECTION_REASON_FIELDS
from .services import (
    canned_reply_create,
    canned_reply_update,
    rejection_reason_create,
    rejection_reason_update,
    sla_policy_update,
)

ADMIN_ONLY = [HasCapability.of(Perm.ADMINISTER)]


def _invalid(serializer: serializers.Serializer) -> None:
    """Serializer errors in the usual shape (the project's exception handler)."""
    serializer.is_valid(raise_exception=True)


# ------------------------------------------------------------------ SLA policies


class SLAPolicySerializer(serializers.ModelSerializer):
    priority_label = serializers.CharField(
        source="get_priority_display", read_only=True
    )
    changed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = SLAPolicy
        fields = [
            "priority",
            "priority_label",
            "name",
            "target_business_minutes",
            "warn_at_percent",
            "min_amount",
            "effective_from",
            "changed_by",
        ]
        read_only_fields = fields


class SLAPolicyPatchSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=100)
    target_business_minutes = serializers.IntegerField(
        required=False, help_text="Business minutes; more than zero."
    )
    warn_at_percent = serializers.IntegerField(required=False)
    min_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )


PRIORITY = OpenApiParameter(
    "priority",
    int,
    OpenApiParameter.PATH,
    enum=Priority.values,
    description="0 normal, 1 high, 2 urgent",
)


@extend_schema_view(
    retrieve=extend_schema(parameters=[PRIORITY]),
    partial_update=extend_schema(
        parameters=[PRIORITY],
        request=SLAPolicyPatchSerializer,
        responses=SLAPolicySerializer,
    ),
)
class SLAPolicyViewSet(viewsets.GenericViewSet):
    """SLA targets per priority. A change applies to tasks opened from its
    ``effective_from``; open tasks keep their target."""

    serializer_class = SLAPolicySerializer
    permission_classes = ADMIN_ONLY
    queryset = SLAPolicy.objects.select_related("changed_by").order_by("-priority")
    lookup_field = "priority"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def list(self, request: Request, format: str | None = None) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(
        self, request: Request, priority: str, format: str | None = None
    ) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(
        self, request: Request, priority: str, format: str | None = None
    ) -> Response:
        policy = self.get_object()
        patch = SLAPolicyPatchSerializer(data=request.data)
        _invalid(patch)
        data: dict[str, Any] = patch.validated_data
        policy = sla_policy_update(
            actor=request.user,
            priority=policy.priority,
            name=data.get("name"),
            target_business_minutes=data.get("target_business_minutes"),
            warn_at_percent=data.get("warn_at_percent"),
            min_amount=data.get("min_amount"),
            clear_min_amount="min_amount" in data and data["min_amount"] is None,
        )
        policy.refresh_from_db()
        return Response(self.get_serializer(policy).data)


# -------------------------------------------------------------------- calendar


@extend_schema_field(
    {
        # A pattern, not an enum: another component already names an enum "kind".
        "type": "string",
        "pattern": "^(holiday|workday)$",
        "description": "holiday: a public holiday; workday: a make-up workday (调休)",
    }
)
class DayKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=cal.DayKind.choices, **kwargs)


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    kind = DayKindField()
    name = serializers.CharField()


class CalendarImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        required=False, help_text="CSV: date, kind (holiday | workday), name."
    )
    csv = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text="The CSV text, instead of file.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Preview only: nothing is stored."
    )


class CalendarLoadSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    dry_run = serializers.BooleanField(required=False, default=False)


class CalendarImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    years = serializers.ListField(child=serializers.IntegerField())
    holidays = serializers.IntegerField()
    workdays = serializers.IntegerField()
    added = CalendarDaySerializer(many=True)
    removed = CalendarDaySerializer(many=True)
    tasks_moved = serializers.IntegerField(allow_null=True)


YEAR = OpenApiParameter(
    "year", int, OpenApiParameter.QUERY, description="Only the days of this year"
)


def _result(
    plan: cal.CalendarPlan, imported: cal.CalendarImportResult | None
) -> dict[str, Any]:
    return {
        "dry_run": imported is None,
        "years": plan.years,
        "holidays": plan.holidays,
        "workdays": plan.workdays,
        "added": CalendarDaySerializer(plan.added, many=True).data,
        "removed": CalendarDaySerializer(plan.removed, many=True).data,
        "tasks_moved": imported.tasks_moved if imported else None,
    }


@extend_schema_view(list=extend_schema(parameters=[YEAR]))
class CalendarDayViewSet(viewsets.GenericViewSet):
    """Public holidays and make-up workdays (调休) of the business calendar."""

    serializer_class = CalendarDaySerializer
    permission_classes = ADMIN_ONLY
    queryset = SLAPolicy.objects.none()  # rows come from two tables
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "head", "options"]
    pagination_class = None

    def list(self, request: Request, format: str | None = None) -> Response:
        raw = request.query_params.get("year")
        years = None
        if raw not in (None, ""):
            try:
                years = [int(raw)]
            except ValueError:
                raise serializers.ValidationError(
                    {"year": [_("Enter a year such as 2027.")]}
                ) from None
        days = cal.stored_days(years)
        return Response(self.get_serializer(days, many=True).data)

    @extend_schema(
        request={
            "multipart/form-data": CalendarImportSerializer,
            "application/json": CalendarImportSerializer,
        },
        responses={200: CalendarImportResultSerializer},
        description=(
            "Import holidays and make-up workdays from a CSV file (date, kind, name). "
            "The years the file covers are replaced. A bad file is refused as a whole "
            "with its problems by line in details.lines; dry_run previews."
        ),
    )
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_csv(self, request: Request, format: str | None = None) -> Response:
        body = CalendarImportSerializer(data=request.data)
        _invalid(body)
        data = body.validated_data
        if data.get("file") is not None:
            raw: bytes | str = data["file"].read()
        elif data.get("csv"):
            raw = data["csv"]
        else:
            message = _("Send the CSV as a file or as csv text.")
            raise ApplicationError(
                message, code="csv_required", details={"file": [message]}
            )
        days = cal.parse_calendar_csv(raw)
        return self._apply(request, days, "csv", dry_run=data["dry_run"])

    @extend_schema(
        request=CalendarLoadSerializer,
        responses={200: CalendarImportResultSerializer},
        description=(
            "Load a year from the chinesecalendar package; a year the package does "
            "not have is refused (code year_not_in_package)."
        ),
    )
    @action(detail=False, methods=["post"], url_path="load", url_name="load")
    def load_package(self, request: Request, format: str | None = None) -> Response:
        body = CalendarLoadSerializer(data=request.data)
        _invalid(body)
        days = cal.package_days(body.validated_data["year"])
        return self._apply(
            request, days, cal.PACKAGE, dry_run=body.validated_data["dry_run"]
        )

    def _apply(
        self,
        request: Request,
        days: list[cal.CalendarDay],
        source: str,
        *,
        dry_run: bool,
    ) -> Response:
        plan = cal.calendar_plan(days=days, source=source)
        imported = None
        if not dry_run:
            imported = cal.calendar_import(actor=request.user, days=days, source=source)
        return Response(_result(plan, imported), status=status.HTTP_200_OK)


# ------------------------------------------------------------ reasons, replies


class RejectionReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = RejectionReason
        fields = list(REJECTION_REASON_FIELDS)
        # The services validate (uniqueness included): the serializer only parses.
        extra_kwargs = {"code": {"validators": []}}


class CannedReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedReply
        fields = list(CANNED_REPLY_FIELDS)
        extra_kwargs = {"code": {"validators": []}}


REASON_CODE = OpenApiParameter(
    "reason_code", str, OpenApiParameter.PATH, description="The reason's code"
)
REPLY_CODE = OpenApiParameter(
    "reply_code", str, OpenApiParameter.PATH, description="The reply's code"
)


class _CodedViewSet(viewsets.GenericViewSet):
    permission_classes = ADMIN_ONLY
    lookup_field = "code"
    lookup_url_kwarg = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_service: Any = None
    update_service: Any = None

    def get_object(self) -> Any:
        obj = (
            self.get_queryset().filter(code=self.kwargs[self.lookup_url_kwarg]).first()
        )
        if obj is None:
            raise Http404
        return obj

    def list(self, request: Request, format: str | None = None) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(
        self, request: Request, format: str | None = None, **_kw: str
    ) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request, format: str | None = None) -> Response:
        body = self.get_serializer(data=request.data)
        _invalid(body)
        obj = type(self).create_service(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(
        self, request: Request, format: str | None = None, **_kw: str
    ) -> Response:
        obj = self.get_object()
        body = self.get_serializer(obj, data=request.data, partial=True)
        _invalid(body)
        changes = {k: v for k, v in body.validated_data.items() if k != "code"}
        if "code" in body.validated_data and body.validated_data["code"] != obj.code:
            message = _("The code cannot change.")
            raise ApplicationError(
                message, code="read_only_field", details={"code": [message]}
            )
        obj = type(self).update_service(actor=request.user, code=obj.code, **changes)
        return Response(self.get_serializer(obj).data)


@extend_schema_view(
    retrieve=extend_schema(parameters=[REASON_CODE]),
    partial_update=extend_schema(parameters=[REASON_CODE]),
)
class RejectionReasonViewSet(_CodedViewSet):
    """Reason codes reviewers pick when rejecting; retire with ``is_active: false``."""

    lookup_url_kwarg = "reason_code"
    serializer_class = RejectionReasonSerializer
    queryset = RejectionReason.objects.all()
    create_service = staticmethod(rejection_reason_create)
    update_service = staticmethod(rejection_reason_update)


@extend_schema_view(
    retrieve=extend_schema(parameters=[REPLY_CODE]),
    partial_update=extend_schema(parameters=[REPLY_CODE]),
)
class CannedReplyViewSet(_CodedViewSet):
    """Ready-made requests for information, in both languages."""

    lookup_url_kwarg = "reply_code"
    serializer_class = CannedReplySerializer
    queryset = CannedReply.objects.all()
    create_service = staticmethod(canned_reply_create)
    update_service = staticmethod(canned_reply_update)


__all__ = [
    "CalendarDayViewSet",
    "CannedReplyViewSet",
    "RejectionReasonViewSet",
    "SLAPolicyViewSet",
]
