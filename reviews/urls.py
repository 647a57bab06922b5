from django.urls import include, path

from . import views

app_name = "reviews"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("", include("reviews.queue.urls")),
    path("rules/", include("reviews.ruleadmin.urls")),
    path("admin/", include("reviews.adminpages.urls")),
]
