from django.urls import path

from . import attachments, help, views

app_name = "invoices"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("export.csv", views.invoice_export, name="export"),
    path("upload/", views.upload_page, name="upload"),
    path("manual/", views.manual_entry, name="manual"),
    path("upload/file/", views.upload_file, name="upload_file"),
    path("help/", help.help_centre, name="help"),
    path("urgent/", views.expedite_requests, name="expedite_requests"),
    path("urgent/<int:request_id>/", views.expedite_decide, name="expedite_decide"),
    path("feedback/", views.feedback_list, name="feedback_list"),
    path("<uuid:invoice_id>/", views.invoice_detail, name="detail"),
    path("<uuid:invoice_id>/status/", views.invoice_status, name="status"),
    path("<uuid:invoice_id>/document/", views.invoice_document, name="document"),
    path(
        "<uuid:invoice_id>/document/preview/",
        views.invoice_document_preview,
        name="document_preview",
    ),
    path("<uuid:invoice_id>/receipt.pdf", views.invoice_receipt, name="receipt"),
    path("<uuid:invoice_id>/withdraw/", views.invoice_withdraw_view, name="withdraw"),
    path("<uuid:invoice_id>/respond/", views.invoice_respond_view, name="respond"),
    path(
        "<uuid:invoice_id>/attachments/<int:attachment_id>/",
        attachments.invoice_attachment,
        name="attachment",
    ),
    path("<uuid:invoice_id>/expedite/", views.invoice_expedite_view, name="expedite"),
    path("<uuid:invoice_id>/resubmit/", views.invoice_resubmit_view, name="resubmit"),
    path("<uuid:invoice_id>/feedback/", views.invoice_feedback_view, name="feedback"),
]
