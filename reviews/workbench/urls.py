from django.urls import path

from . import views

app_name = "workbench"

# Included by invoiceportal/urls.py under reviews/ (namespace "workbench").
urlpatterns = [
    path("tasks/<int:task_id>/page/", views.page_image, name="page"),
    path("tasks/<int:task_id>/correct/", views.correct_field, name="correct"),
    path("tasks/<int:task_id>/notes/", views.add_note, name="notes"),
]
