"""Admin pages under /reviews/admin/ (namespace ``reviews``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("sla/", views.sla_policies, name="admin_sla"),
    path("sla/<int:priority>/", views.sla_policy_edit, name="admin_sla_edit"),
    path("calendar/", views.calendar_page, name="admin_calendar"),
    path(
        "calendar/working-periods/",
        views.calendar_working_periods,
        name="admin_calendar_periods",
    ),
    path(
        "calendar/import-csv/",
        views.calendar_import_csv,
        name="admin_calendar_import_csv",
    ),
    path(
        "calendar/import-package/",
        views.calendar_import_package,
        name="admin_calendar_import_package",
    ),
    path("reasons/", views.reasons, name="admin_reasons"),
    path("reasons/add/", views.reason_add, name="admin_reason_add"),
    path("reasons/<slug:reason_code>/", views.reason_edit, name="admin_reason_edit"),
    path("replies/", views.replies, name="admin_replies"),
    path("replies/add/", views.reply_add, name="admin_reply_add"),
    path("replies/<slug:reply_code>/", views.reply_edit, name="admin_reply_edit"),
]
