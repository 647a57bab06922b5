"""Webhook pages under /webhooks/ (namespace ``webhooks``), administrators only."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoints"),
    path("new/", views.endpoint_new, name="endpoint_new"),
    path("<int:endpoint_id>/", views.endpoint_edit, name="endpoint_edit"),
    path("<int:endpoint_id>/resume/", views.endpoint_resume, name="endpoint_resume"),
    path(
        "<int:endpoint_id>/rotate-secret/",
        views.endpoint_rotate_secret,
        name="endpoint_rotate_secret",
    ),
    path("<int:endpoint_id>/deliveries/", views.deliveries, name="deliveries"),
    path(
        "deliveries/<int:delivery_id>/replay/",
        views.delivery_replay,
        name="delivery_replay",
    ),
]
