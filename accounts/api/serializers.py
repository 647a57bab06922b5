from django.conf import settings
from rest_framework import serializers

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.validators import validate_uscc


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "tax_id", "is_active"]
        # Uniqueness is checked by the service, under its transaction.
        extra_kwargs = {"tax_id": {"validators": [validate_uscc]}}


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.SUBMITTER)
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), allow_null=True, required=False
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "password",
            "role",
            "organization",
            "email",
            "language",
            "first_name",
            "last_name",
            "phone",
            "is_active",
            "is_superuser",
            "last_login",
        ]
        read_only_fields = ["is_superuser", "last_login"]
        extra_kwargs = {"username": {"validators": []}}

    def validate(self, attrs):
        # Who may give a password, and when, is the service's rule (accounts.services):
        # only a superuser, only when creating; otherwise the user gets a link.
        if not attrs.get("password"):
            attrs.pop("password", None)
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        style={"input_type": "password"}, trim_whitespace=False, max_length=4096
    )
    client = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A name for the client the token is for (audited).",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
