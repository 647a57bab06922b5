from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30


class PerformanceFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("Until"), required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.order_by("name"),
        required=False,
        empty_label=_("All organizations"),
    )
    chart = forms.CharField(required=False)

    def __init__(self, *args, today: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["start"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["end"].widget = forms.DateInput(attrs={"type": "date"})

    def clean(self) -> dict:
        data = super().clean()
        end = data.get("end") or self.today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if end > self.today:
            self.add_error("end", _("The range cannot end after today."))
        if start > end:
            self.add_error("start", _("The start must not be after the end."))
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            self.add_error(
                "start",
                _("The range may cover at most %(days)s days.")
                % {"days": MAX_RANGE_DAYS},
            )
        data["start"], data["end"] = start, end
        return data
