"""Django admin for what admins manage in the review queue: SLA policies, the
business calendar, rejection reasons and four-eyes rules. Tasks are read-only here:
they change only through the queue's services."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from reviews.models import (
    Holiday,
    MakeupWorkday,
    RejectionReason,
    ReviewTask,
    SecondReviewRule,
    SLAPolicy,
    WorkingPeriod,
)
from reviews.queue.calendar import calendar_changed


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "priority",
        "target_business_minutes",
        "warn_at_percent",
        "min_amount",
    ]
    ordering = ["-priority"]


class CalendarAdmin(admin.ModelAdmin):
    """Every change clears the cached calendar."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        calendar_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        calendar_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        calendar_changed()


@admin.register(WorkingPeriod)
class WorkingPeriodAdmin(CalendarAdmin):
    list_display = ["start", "end"]


class _DayForm:
    other_model: type = Holiday

    def clean_date(self):
        day = self.cleaned_data["date"]
        if self.other_model.objects.filter(date=day).exists():
            raise ValidationError(
                _("%(date)s is already a holiday or a make-up workday.") % {"date": day}
            )
        return day


@admin.register(Holiday)
class HolidayAdmin(CalendarAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type("HolidayForm", (_DayForm, form), {"other_model": MakeupWorkday})


@admin.register(MakeupWorkday)
class MakeupWorkdayAdmin(CalendarAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type("MakeupWorkdayForm", (_DayForm, form), {"other_model": Holiday})


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label_zh", "label_en", "is_active", "position"]
    list_editable = ["is_active", "position"]


@admin.register(SecondReviewRule)
class SecondReviewRuleAdmin(admin.ModelAdmin):
    list_display = ["code", "enabled", "amount_threshold"]


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "invoice",
        "stage",
        "state",
        "priority",
        "assigned_to",
        "due_at",
        "breached_at",
    ]
    list_filter = ["state", "stage", "priority"]
    list_select_related = ["invoice", "assigned_to"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
