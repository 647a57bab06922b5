from __future__ import annotations

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts.access import HasCapability
from accounts.models import Organization, User
from accounts.roles import Perm
from accounts.services import (
    organization_create,
    organization_update,
    user_create,
    user_update,
)
from accounts.views import LOCKED_MESSAGE
from invoiceportal.common.api import error_response

from .serializers import (
    OrganizationSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
)


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = authenticate(
                request=request._request,
                username=serializer.validated_data["username"],
                password=serializer.validated_data["password"],
            )
        except AxesBackendPermissionDenied:
            user = None
        if getattr(request._request, "axes_locked_out", False):
            return error_response(
                "login_locked", str(LOCKED_MESSAGE), status.HTTP_429_TOO_MANY_REQUESTS
            )
        if user is None:
            return error_response(
                "invalid_credentials",
                _("The username or password is wrong."),
                status.HTTP_400_BAD_REQUEST,
            )
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Organizations (admins only)."""

    serializer_class = OrganizationSerializer
    permission_classes = [HasCapability.of(Perm.ADMINISTER)]
    queryset = Organization.objects.order_by("id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["is_active", "tax_id"]

    def perform_create(self, serializer: OrganizationSerializer) -> None:
        serializer.instance = organization_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: OrganizationSerializer) -> None:
        serializer.instance = organization_update(
            actor=self.request.user,
            organization=serializer.instance,
            **serializer.validated_data,
        )


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Users (admins only). ``password`` is write-only."""

    serializer_class = UserSerializer
    permission_classes = [HasCapability.of(Perm.ADMINISTER)]
    queryset = User.objects.select_related("organization").order_by("id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["role", "organization", "is_active"]

    def perform_create(self, serializer: UserSerializer) -> None:
        serializer.instance = user_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: UserSerializer) -> None:
        serializer.instance = user_update(
            actor=self.request.user,
            user=serializer.instance,
            **serializer.validated_data,
        )
