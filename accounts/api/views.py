from __future__ import annotations

from typing import Any

from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
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
    user_send_password_link,
    user_sign_out_everywhere,
    user_unlock,
    user_update,
)
from accounts.tokens import api_token_issue
from accounts.views import lockout_response
from invoiceportal.common.api import error_response
from invoiceportal.common.middleware import client_address

from .serializers import (
    OrganizationSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
    UserSerializer,
)


class TokenThrottle(AnonRateThrottle):
    """Counted per client address, resolved behind the trusted proxies."""

    scope = "token"

    def get_ident(self, request: Request) -> str:
        return client_address(request._request) or super().get_ident(request)


class ObtainTokenView(APIView):
    """Exchange a username and password for an API token of this client. Each call
    issues a new token (one per client), valid until ``expires_at``; a password
    change or reset, deactivation and "sign out everywhere" revoke it."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request: Request, **kwargs: Any) -> Response:
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
            return lockout_response(request._request)
        if user is None:
            return error_response(
                "invalid_credentials",
                _("The username or password is wrong."),
                status.HTTP_400_BAD_REQUEST,
            )
        issued = api_token_issue(
            user=user,
            address=client_address(request._request),
            client=serializer.validated_data.get("client", ""),
        )
        return Response({"token": issued.key, "expires_at": issued.expires_at})


class SignOutEverywhereView(APIView):
    """Revoke every API token of the caller (this one included) and end every
    session of the account."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, **kwargs: Any) -> Response:
        user_sign_out_everywhere(
            user=request.user, address=client_address(request._request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Records administrators list, read, create and change (``PATCH``); none is
    deleted through the API (deactivate instead). Writes go through the services:
    ``create_service(actor=..., **fields)`` and ``update_service(actor=...,
    <instance_name>=record, **fields)``."""

    permission_classes = [HasCapability.of(Perm.ADMINISTER)]
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_service: Any = None
    update_service: Any = None
    instance_name = ""

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = type(self).create_service(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = type(self).update_service(
            actor=self.request.user,
            **{self.instance_name: serializer.instance},
            **serializer.validated_data,
        )


class OrganizationViewSet(AdminRecordViewSet):
    """Organizations (admins only)."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.order_by("id")
    filterset_fields = ["is_active", "tax_id"]

    create_service = staticmethod(organization_create)
    update_service = staticmethod(organization_update)
    instance_name = "organization"


class UserViewSet(AdminRecordViewSet):
    """Users (admins only). ``password`` is write-only."""

    serializer_class = UserSerializer
    queryset = User.objects.select_related("organization").order_by("id")
    filterset_fields = ["role", "organization", "is_active"]
    filter_backends = [DjangoFilterBackend, SearchFilter]
    # ``?search=`` matches username, names or email, as the users page does.
    search_fields = ["username", "first_name", "last_name", "email"]

    create_service = staticmethod(user_create)
    update_service = staticmethod(user_update)
    instance_name = "user"

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"], url_path="send-password-link")
    def send_password_link(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        """Email the user a one-time link to choose a new password (administrators
        never set someone else's password)."""
        user_send_password_link(actor=request.user, user=self.get_object())
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="unlock")
    def unlock(
        self, request: Request, pk: str | None = None, **kwargs: Any
    ) -> Response:
        """Lift the sign-in locks (repeated failed sign-ins) of the user's username."""
        user_unlock(actor=request.user, user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
