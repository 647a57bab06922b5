from django.urls import path

from . import views

app_name = "insight"

urlpatterns = [
    path("", views.performance, name="performance"),
    path("csv/", views.performance_csv, name="performance_csv"),
]
