from django.urls import path

from . import views

app_name = "invoices"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("upload/", views.upload_page, name="upload"),
    path("upload/file/", views.upload_file, name="upload_file"),
    path("<uuid:invoice_id>/", views.invoice_detail, name="detail"),
    path("<uuid:invoice_id>/document/", views.invoice_document, name="document"),
]
