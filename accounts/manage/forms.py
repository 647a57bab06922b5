from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..models import Organization, User
from ..roles import Role


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.order_by("name"),
        required=False,
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=[("", _("Any role")), *Role.choices], required=False
    )
    active = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any")), ("1", _("Active")), ("0", _("Deactivated"))],
        required=False,
    )


class UserEditForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.filter(is_active=True).order_by("name"),
        required=False,
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.initial.get("organization")
        if current is not None:
            # A user of a deactivated organization keeps it selectable.
            self.fields["organization"].queryset = Organization.objects.filter(
                Q(is_active=True) | Q(pk=current)
            ).order_by("name")


class UserCreateForm(UserEditForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("The user receives a one-time link here to choose a password."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "organization",
        "role",
        "language",
    ]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        return username


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    tax_id = forms.CharField(
        label=_("Taxpayer ID"),
        max_length=18,
        help_text=_("18-character Unified Social Credit Code."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
