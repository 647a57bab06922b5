from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.common.errors import NotFoundError

from .intake import invoice_submit_batch
from .lifecycle import timeline_message
from .models import Invoice
from .selectors import invoice_get_for_user, invoice_list_for_user


@capability_required(Perm.SUBMIT)
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = invoice_list_for_user(user=request.user).only(
        "id",
        "reference",
        "status",
        "kind",
        "number",
        "seller_name",
        "total_amount",
        "submitted_at",
        "organization__name",
    )
    page = Paginator(invoices, 50).get_page(request.GET.get("page"))
    return render(request, "invoices/list.html", {"page": page})


@capability_required(Perm.SUBMIT)
def upload_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, "invoices/upload.html", {"max_upload_mb": settings.MAX_UPLOAD_MB}
    )


@require_POST
@capability_required(Perm.SUBMIT)
def upload_file(request: HttpRequest) -> HttpResponse:
    """One file of the upload page (a ZIP counts as its members): the result rows."""
    upload = request.FILES.get("file")
    if upload is None:
        return render(
            request, "invoices/_upload_result.html", {"items": []}, status=400
        )
    items = invoice_submit_batch(
        user=request.user,
        files=[(upload.name, upload.read(), upload.content_type or "")],
    )
    failed = any(item.error is not None for item in items)
    status = 422 if failed and len(items) == 1 else 200
    return render(
        request, "invoices/_upload_result.html", {"items": items}, status=status
    )


def _get_or_404(request: HttpRequest, invoice_id: str) -> Invoice:
    try:
        return invoice_get_for_user(user=request.user, invoice_id=invoice_id)
    except NotFoundError as exc:
        raise Http404 from exc


@capability_required(Perm.SUBMIT)
def invoice_detail(request: HttpRequest, invoice_id: str) -> HttpResponse:
    invoice = _get_or_404(request, invoice_id)
    events = [
        (event, timeline_message(event))
        for event in invoice.timeline.select_related("actor")
        if event.visible_to_submitter
    ]
    checks = (
        list(invoice.check_results.all()) if hasattr(invoice, "check_results") else []
    )
    return render(
        request,
        "invoices/detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "events": events,
            "checks": checks,
            "document": invoice.documents.order_by("-uploaded_at").first(),
        },
    )


@capability_required(Perm.SUBMIT)
def invoice_document(request: HttpRequest, invoice_id: str) -> FileResponse:
    invoice = _get_or_404(request, invoice_id)
    document = invoice.documents.order_by("-uploaded_at").first()
    if document is None:
        raise Http404
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.original_name or f"{invoice.reference}.{document.format}",
    )
