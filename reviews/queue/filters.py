"""django-filter sets of the review queue: the API's four filters, the page's more."""

from __future__ import annotations

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from invoiceportal.invoices.status import InvoiceKindChoice, Priority
from reviews.models import ReviewTask, TaskStage, TaskState

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


class ReviewTaskPageFilter(ReviewTaskApiFilter):
    """The queue page adds kind, organization and an amount range."""

    kind = django_filters.ChoiceFilter(
        field_name="invoice__kind", choices=InvoiceKindChoice.choices, label=_("Kind")
    )
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.only("id", "name", "tax_id"),
        label=_("Organization"),
    )
    amount_min = django_filters.NumberFilter(
        field_name="invoice__total_amount", lookup_expr="gte", label=_("Amount from")
    )
    amount_max = django_filters.NumberFilter(
        field_name="invoice__total_amount", lookup_expr="lte", label=_("Amount to")
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
