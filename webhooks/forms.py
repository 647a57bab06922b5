"""Forms of the webhook pages. They parse; the services decide (their errors are put
on the named fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

from .models import EventType


class EndpointForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none()
    )
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("An https:// address of your system, reachable from the portal."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(
        label=_("Active (receives new events)"), required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = organizations

    def add_service_error(self, error: Exception) -> None:
        """A service's error on the fields it names, else on the form."""
        if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
            return
        details = getattr(error, "details", None) or {}
        placed = False
        for field, messages in details.items():
            if field in self.fields and isinstance(messages, list):
                self.add_error(field, [str(m) for m in messages])
                placed = True
        if not placed:
            message = getattr(error, "message", None)
            self.add_error(None, str(message) if message else "; ".join(error.messages))
