"""``/api/v1/webhook-endpoints/``: an organization's endpoints, administrators only.

The signing secret is in the answer to the creation (and to ``rotate-secret``) and
never again. Another organization's endpoint answers 404, like a missing one. Errors
in the ``{code, message, details}`` shape; writes go through the audited services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import HasCapability
from accounts.models import Organization
from accounts.roles import Perm

from .models import EventType, WebhookEndpoint
from .services import (
    endpoints_visible_to,
    manageable_organizations,
    webhook_endpoint_create,
    webhook_endpoint_get_for_user,
    webhook_endpoint_resume,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class _ManagedOrganizationField(serializers.PrimaryKeyRelatedField):
    """An organization the requesting administrator manages (others: not found)."""

    def get_queryset(self) -> QuerySet[Organization]:
        request = self.context["request"]
        return manageable_organizations(request.user)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    organization = _ManagedOrganizationField()
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        allow_empty=False,
        help_text="Any of: " + ", ".join(v for v, _l in EventType.choices),
    )
    paused = serializers.BooleanField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "active",
            "organization",
            "description",
            "paused",
            "paused_at",
            "pause_reason",
            "created_at",
        ]
        read_only_fields = ["id", "paused", "paused_at", "pause_reason", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The HMAC-SHA256 signing key: shown in this answer only.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointUpdateSerializer(WebhookEndpointSerializer):
    """An endpoint stays with its organization."""

    organization = serializers.PrimaryKeyRelatedField(read_only=True)


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Administrators register their organizations' endpoints here."""

    permission_classes = [HasCapability.of(Perm.ADMINISTER)]
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return endpoints_visible_to(self.request.user).order_by("pk")

    def get_object(self) -> WebhookEndpoint:
        return webhook_endpoint_get_for_user(
            user=self.request.user, endpoint_id=self.kwargs["pk"]
        )

    @extend_schema(
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WebhookEndpointSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint, secret = webhook_endpoint_create(
            actor=request.user,
            organization=data["organization"],
            url=data["url"],
            events=data["events"],
            active=data.get("active", True),
            description=data.get("description", ""),
        )
        endpoint.secret = secret
        body = WebhookEndpointCreatedSerializer(
            endpoint, context=self.get_serializer_context()
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = WebhookEndpointUpdateSerializer(
            endpoint,
            data=request.data,
            partial=True,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        updated = webhook_endpoint_update(
            actor=request.user,
            endpoint=endpoint,
            url=data.get("url"),
            events=data.get("events"),
            active=data.get("active"),
            description=data.get("description"),
        )
        updated.organization = endpoint.organization
        return Response(
            WebhookEndpointSerializer(
                updated, context=self.get_serializer_context()
            ).data
        )

    @extend_schema(request=None, responses={200: WebhookEndpointSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: Any = None) -> Response:
        """Resume a paused endpoint: the events it collected are sent now."""
        endpoint = self.get_object()
        webhook_endpoint_resume(actor=request.user, endpoint=endpoint)
        return Response(
            WebhookEndpointSerializer(
                endpoint, context=self.get_serializer_context()
            ).data
        )

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "WebhookSecret", fields={"secret": serializers.CharField()}
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: Any = None) -> Response:
        """Replace the signing secret (effective at once); shown in this answer only."""
        endpoint = self.get_object()
        secret = webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
        return Response({"secret": secret})
