"""django-filter sets of the review queue: the API's four filters, the page's more."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from invoiceportal.invoices.status import InvoiceKindChoice, Priority
from reviews.models import OPEN_STATES, ReviewTask, TaskStage, TaskState

PRIORITY_CHOICES = [
    ("normal", Priority.NORMAL.label),
    ("high", Priority.HIGH.label),
    ("urgent", Priority.URGENT.label),
]
PRIORITY_VALUES = {
    "normal": Priority.NORMAL,
    "high": Priority.HIGH,
    "urgent": Priority.URGENT,
}


class ReviewTaskApiFilter(django_filters.FilterSet):
    """``GET /api/v1/review-tasks/``: state, priority, stage, breaching."""

    # distinct=False: one row per task anyway, and DISTINCT would sort the queue.
    state = django_filters.MultipleChoiceFilter(
        choices=TaskState.choices, label=_("State"), distinct=False
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=PRIORITY_CHOICES,
        method="filter_priority",
        label=_("Priority"),
        distinct=False,
    )
    stage = django_filters.ChoiceFilter(choices=TaskStage.choices, label=_("Stage"))
    breaching = django_filters.BooleanFilter(
        method="filter_breaching", label=_("Breaching the SLA")
    )

    class Meta:
        model = ReviewTask
        fields = ["state", "priority", "stage", "breaching"]

    def filter_priority(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(priority__in=[PRIORITY_VALUES[v] for v in value])

    def filter_breaching(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        if value:
            return queryset.breaching_sla(now=now)
        return queryset.not_breaching(now=now)


class AnyYesNoSelect(forms.NullBooleanSelect):
    """A yes/no filter whose empty choice reads "Any …" (value "") instead of
    Django's "Unknown"; ``true``/``false`` as the API spells them."""

    def __init__(self, attrs=None, *, any_label, yes_label, no_label) -> None:
        super().__init__(attrs)
        self.choices = [("", any_label), ("true", yes_label), ("false", no_label)]

    def format_value(self, value) -> list[str]:
        # A list, as ChoiceWidget compares each option against it (a string would
        # match "" as a substring of anything).
        return [{True: "true", False: "false"}.get(value, "")]


class DataSelect(forms.Select):
    """A select whose options are data (organization names): ``translate="no"``
    on each, except the empty "Any …" choice, which is interface text."""

    def create_option(self, name, value, label, selected, index, **kwargs):
        option = super().create_option(name, value, label, selected, index, **kwargs)
        if value not in ("", None):
            option["attrs"]["translate"] = "no"
        return option


SELECT = {"class": "form-select form-select-sm"}
CHECKBOX = {"class": "form-check-input"}


class ReviewTaskPageFilter(ReviewTaskApiFilter):
    """The queue page adds kind, organization and an amount range; every choice is
    visible (check boxes, or a select whose empty choice reads "Any …")."""

    state = django_filters.MultipleChoiceFilter(
        choices=[(s.value, s.label) for s in OPEN_STATES],
        label=_("State"),
        distinct=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECKBOX),
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=PRIORITY_CHOICES,
        method="filter_priority",
        label=_("Priority"),
        distinct=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECKBOX),
    )
    stage = django_filters.ChoiceFilter(
        choices=TaskStage.choices,
        label=_("Stage"),
        empty_label=_("Any stage"),
        widget=forms.Select(attrs=SELECT),
    )
    kind = django_filters.ChoiceFilter(
        field_name="invoice__kind",
        choices=InvoiceKindChoice.choices,
        label=_("Kind"),
        empty_label=_("Any kind"),
        widget=forms.Select(attrs=SELECT),
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.only("id", "name", "tax_id"),
        label=_("Organization"),
        empty_label=_("Any organization"),
        widget=DataSelect(attrs=SELECT),
    )
    amount_min = django_filters.NumberFilter(
        field_name="invoice__total_amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="invoice__total_amount", lookup_expr="lte", label=_("Amount to")
    )
    breaching = django_filters.BooleanFilter(
        method="filter_breaching",
        label=_("Breaching the SLA"),
        widget=AnyYesNoSelect(
            attrs=SELECT,
            any_label=_("Breaching or not"),
            yes_label=_("Breaching only"),
            no_label=_("Not breaching"),
        ),
    )

    class Meta(ReviewTaskApiFilter.Meta):
        fields = [
            "state",
            "priority",
            "stage",
            "kind",
            "organization",
            "amount_min",
            "amount_max",
            "breaching",
        ]
