"""Admin pages for the rules, under /reviews/rules/ (namespace ``reviews``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.rules, name="rules"),
    path("registry/", views.registry_upload, name="registry_upload"),
    path("sellers/", views.seller_lists, name="seller_lists"),
    path(
        "sellers/<int:entry_id>/remove/",
        views.seller_list_remove,
        name="seller_list_remove",
    ),
    path("<str:code>/", views.rule_edit, name="rule_edit"),
    path("<str:code>/preview/", views.rule_preview, name="rule_preview"),
    path("<str:code>/history/", views.rule_history_page, name="rule_history"),
    path("<str:code>/restore/", views.rule_restore, name="rule_restore"),
]
