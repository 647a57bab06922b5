"""Django admin for users and organizations: read-only except for superusers, and
every superuser change audited in the transaction of the change. Nothing is deleted
here (deactivate instead: invoices and the audit trail point at these rows)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ApplicationError
from invoiceportal.common.middleware import client_address

from .models import Organization, User
from .services import user_change_allowed, user_sync_groups
from .tokens import api_tokens_revoke

AUDITED_FIELDS = {
    "user": (
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "organization",
        "language",
        "phone",
        "is_active",
        "is_staff",
        "is_superuser",
    ),
    "organization": ("name", "tax_id", "is_active"),
}


def _snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname)
    return values


class SuperuserWriteAdmin(admin.ModelAdmin):
    """Staff who are not superusers may at most look; superusers change through
    audited saves; nobody deletes."""

    audit_kind = ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        fields = AUDITED_FIELDS[self.audit_kind]
        with transaction.atomic():
            before = None
            if change:
                stored = type(obj).objects.select_for_update().get(pk=obj.pk)
                before = _snapshot(stored, fields)
            super().save_model(request, obj, form, change)
            after = _snapshot(obj, fields)
            self.after_save(obj, before, after)
            audit_record(
                actor=request.user,
                action=f"{self.audit_kind}.{'update' if change else 'create'}",
                obj=obj,
                data={
                    "via": "django_admin",
                    "address": client_address(request),
                    "changed": sorted(form.changed_data),
                    "before": (
                        {k: v for k, v in before.items() if v != after[k]}
                        if before
                        else None
                    ),
                    "after": (
                        {k: v for k, v in after.items() if not before or v != before[k]}
                    ),
                },
            )

    def after_save(
        self, obj: Any, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        """Side effects of a change, inside its transaction."""


@admin.register(Organization)
class OrganizationAdmin(SuperuserWriteAdmin):
    audit_kind = "organization"
    list_display = ("name", "tax_id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "tax_id")


class PortalUserChangeForm(BaseUserAdmin.form):
    """Django admin's user form with the portal's rules: nobody deactivates
    themself or gives up their own administrator role, and the last active
    administrator stays (accounts.services, as on the pages and in the API)."""

    actor: Any = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk and "role" in cleaned and "is_active" in cleaned:
            stored = User.objects.get(pk=self.instance.pk)
            try:
                user_change_allowed(
                    actor=self.actor,
                    user=stored,
                    role=cleaned["role"],
                    is_active=cleaned["is_active"],
                )
            except ApplicationError as exc:
                raise ValidationError(str(exc.message), code=exc.code) from None
        return cleaned


@admin.register(User)
class UserAdmin(SuperuserWriteAdmin, BaseUserAdmin):
    audit_kind = "user"
    list_display = ("username", "email", "role", "organization", "is_active")
    list_filter = ("role", "is_active", "organization")
    list_select_related = ("organization",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Portal"), {"fields": ("role", "organization", "language", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Portal"), {"fields": ("role", "organization", "language")}),
    )

    form = PortalUserChangeForm

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, PortalUserChangeForm):
            form = type(form.__name__, (form,), {"actor": request.user})
        return form

    def after_save(
        self, obj: Any, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        if before and before["is_active"] and not after["is_active"]:
            # As user_update: tokens deleted, every session ended at once.
            api_tokens_revoke(user=obj)
            User.objects.filter(pk=obj.pk).update(auth_epoch=F("auth_epoch") + 1)
            obj.refresh_from_db(fields=["auth_epoch"])

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_sync_groups(form.instance)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """A superuser setting a password here: audited with the change, and the
        user's API tokens revoked."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.select_for_update().get(pk=unquote(id))
                revoked = api_tokens_revoke(user=user)
                audit_record(
                    actor=request.user,
                    action="user.password_set",
                    obj=user,
                    data={
                        "via": "django_admin",
                        "address": client_address(request),
                        "tokens_revoked": revoked,
                    },
                )
        return response


# Roles are groups defined in code and synced after every migration
# (accounts.roles): editing their permissions in Django admin would be an unaudited
# way to grant capabilities, so the group admin is not offered.
with contextlib.suppress(admin.sites.NotRegistered):
    admin.site.unregister(Group)
