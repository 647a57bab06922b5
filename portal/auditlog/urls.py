"""The audit log page, under /audit/ (namespace ``audit``)."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("entry/", views.audit_entry, name="entry"),
    path("verify/", views.audit_verify, name="verify"),
]
