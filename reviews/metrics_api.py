from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasCapability
from accounts.roles import Perm

from .metrics import metrics_summary


class WindowSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=30)


class MetricsSummaryView(APIView):
    """The dashboard's figures: decision times, automatic share, queue state."""

    permission_classes = [HasCapability.of(Perm.SUPERVISE)]

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="window, 1-365 (30)")],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        window = WindowSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        return Response(metrics_summary(days=window.validated_data["days"]))
