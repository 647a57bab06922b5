"""``GET /api/v1/metrics/forecast/``: the breach forecast (supervisors, admins)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasCapability
from accounts.roles import Perm

from .forecast import Forecast, breach_forecast
from .messages import forecast_message
from .models import ForecastAlert


class FlaggedTaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    due_at = serializers.DateTimeField()
    expected_at = serializers.DateTimeField()
    preventable = serializers.BooleanField()


class ForecastSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(source="now")
    horizon_end = serializers.DateTimeField()
    reviewers_on_shift = serializers.IntegerField()
    per_reviewer_per_hour = serializers.FloatField()
    handle_minutes = serializers.FloatField()
    open_tasks = serializers.IntegerField()
    breaching_count = serializers.IntegerField(source="count")
    breach_by = serializers.DateTimeField(allow_null=True)
    unpreventable = serializers.IntegerField()
    extra_reviewers = serializers.IntegerField()
    reviewer_hours = serializers.FloatField()
    tasks = FlaggedTaskSerializer(many=True, source="breaching")


def forecast_payload(forecast: Forecast) -> dict[str, Any]:
    data = dict(ForecastSerializer(forecast).data)
    data["threshold"] = settings.INSIGHT_FORECAST_ALERT_THRESHOLD
    data["alert_open"] = ForecastAlert.objects.filter(is_open=True).exists()
    data["message"] = forecast_message(forecast)
    return data


class ForecastView(APIView):
    """Which open tasks will breach within the next business day at the current
    pace, and how many more reviewers would prevent it."""

    permission_classes = [HasCapability.of(Perm.SUPERVISE)]

    @extend_schema(responses={200: ForecastSerializer})
    def get(self, request: Request) -> Response:
        return Response(forecast_payload(breach_forecast()))
