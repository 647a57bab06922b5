"""Forms of the admin pages. They parse; the services decide (their errors are put on
the named fields)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reviews.models import SLAPolicy


class ServiceErrorMixin:
    def add_service_error(self, error: Any) -> None:
        """An ``ApplicationError``: on the fields its details name, else on the form."""
        placed = False
        details = getattr(error, "details", None)
        if isinstance(details, dict):
            for name, messages in details.items():
                if name in self.fields and isinstance(messages, list):  # type: ignore[attr-defined]
                    for message in messages:
                        self.add_error(name, str(message))  # type: ignore[attr-defined]
                    placed = True
        if not placed:
            self.add_error(None, str(error.message))  # type: ignore[attr-defined]


class Unit:
    MINUTES = "minutes"
    HOURS = "hours"
    CHOICES = ((MINUTES, _("business minutes")), (HOURS, _("business hours")))


class SLAPolicyForm(ServiceErrorMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    target = forms.DecimalField(
        label=_("Target"),
        max_digits=9,
        decimal_places=2,
        help_text=_("Counted in working time on the business calendar."),
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.CHOICES)
    warn_at_percent = forms.IntegerField(
        label=_("Warn at (percent of the target)"),
        help_text=_("Supervisors are warned when this share of the target is used."),
    )
    min_amount = forms.DecimalField(
        label=_("From amount"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_(
            "Invoices whose total reaches this amount get at least this priority. "
            "Leave empty to apply the priority only when asked for."
        ),
    )

    @classmethod
    def for_policy(cls, policy: SLAPolicy, data: Any = None) -> SLAPolicyForm:
        minutes = policy.target_business_minutes
        hours = minutes % 60 == 0
        return cls(
            data,
            initial={
                "name": policy.name,
                "target": minutes // 60 if hours else minutes,
                "unit": Unit.HOURS if hours else Unit.MINUTES,
                "warn_at_percent": policy.warn_at_percent,
                "min_amount": policy.min_amount,
            },
        )

    @property
    def target_minutes(self) -> int:
        value = self.cleaned_data["target"]
        if self.cleaned_data["unit"] == Unit.HOURS:
            value = value * 60
        return int(value.to_integral_value())


class CalendarCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "One day a line: date (YYYY-MM-DD), kind (holiday or workday), name. "
            "A header line is optional."
        ),
    )


class CalendarConfirmForm(forms.Form):
    """The preview's confirmation: the same CSV text again (nothing was stored)."""

    csv_text = forms.CharField(widget=forms.HiddenInput, strip=False)


class CalendarPackageForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~至]\s*(\d{1,2}:\d{2})\s*$")


class WorkingPeriodsForm(ServiceErrorMixin, forms.Form):
    periods = forms.CharField(
        label=_("Working periods"),
        help_text=_(
            "Local time, separated by commas, for example 09:00-12:00, 13:00-18:00."
        ),
    )

    def clean_periods(self) -> list[tuple[dt.time, dt.time]]:
        parsed = []
        for part in re.split(r"[,，;；\n]+", self.cleaned_data["periods"]):
            if not part.strip():
                continue
            match = PERIOD.match(part)
            try:
                if match is None:
                    raise ValueError(part)
                start, end = (
                    dt.time.fromisoformat(match.group(i).zfill(5)) for i in (1, 2)
                )
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a period: write it as 09:00-12:00.")
                    % {"value": part.strip()}
                ) from None
            parsed.append((start, end))
        return parsed


class _CodedForm(ServiceErrorMixin, forms.Form):
    """A row named by a code that never changes, with its place and active flag."""

    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        help_text=_("Lower-case letters, digits and underscores; cannot change later."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(
        label=_("Position"), min_value=0, max_value=32767, initial=0
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].required = False


# The editable fields of a rejection reason and a canned reply, in page order: the
# forms, their edit pages and the API serializers alike.
REJECTION_REASON_FIELDS = (
    "code",
    "label_zh",
    "label_en",
    "comment_required",
    "is_active",
    "position",
)
CANNED_REPLY_FIELDS = (
    "code",
    "title_zh",
    "title_en",
    "body_zh",
    "body_en",
    "is_active",
    "position",
)


class RejectionReasonForm(_CodedForm):
    label_zh = forms.CharField(label=_("Label (Chinese)"), max_length=200)
    label_en = forms.CharField(label=_("Label (English)"), max_length=200)
    comment_required = forms.BooleanField(label=_("Comment required"), required=False)
    field_order = list(REJECTION_REASON_FIELDS)


class CannedReplyForm(_CodedForm):
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    body_zh = forms.CharField(label=_("Text (Chinese)"), widget=forms.Textarea)
    body_en = forms.CharField(label=_("Text (English)"), widget=forms.Textarea)
    field_order = list(CANNED_REPLY_FIELDS)
