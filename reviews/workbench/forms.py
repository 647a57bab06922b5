"""Forms of the workbench: parse input only; the services validate the values."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import NOTE_MAX_LENGTH
from .services import FIELD_SPECS, REASON_MAX_LENGTH


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Field"), choices=[(name, name) for name in FIELD_SPECS]
    )
    value = forms.CharField(label=_("Correct value"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("Why (what the document shows)"), max_length=REASON_MAX_LENGTH
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"), max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )
