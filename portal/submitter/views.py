"""The submitter's pages (and the supervisors' urgent-handling and feedback pages):
thin views over the services of ``invoiceportal.invoices`` and the read models of
``portal.submitter.selectors``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from accounts.access import capability_required, user_permissions_prime
from accounts.roles import Perm, user_can
from invoiceportal.common.errors import ApplicationError, NotFoundError
from invoiceportal.invoices.actions import (
    CorrectedFile,
    invoice_expedite_decide,
    invoice_expedite_request,
    invoice_feedback_give,
    invoice_respond,
    invoice_resubmit,
    invoice_withdraw,
)
from invoiceportal.invoices.attachments import (
    answer_attachments,
    attachment_from_upload,
)
from invoiceportal.invoices.exports import csv_rows
from invoiceportal.invoices.forms import (
    ExpediteForm,
    FeedbackForm,
    InvoiceFilterForm,
    ManualInvoiceForm,
    ManualLineFormSet,
    RespondForm,
    ResubmitForm,
    WithdrawForm,
)
from invoiceportal.invoices.intake import (
    extracted_from_manual,
    invoice_submit_batch,
    invoice_submit_manual,
)
from invoiceportal.invoices.models import (
    ExpediteRequest,
    ExpediteState,
    Feedback,
    Invoice,
)
from invoiceportal.invoices.notify import invoice_notifications_mark_read
from invoiceportal.invoices.receipts import receipt_pdf
from invoiceportal.invoices.selectors import (
    LIST_FIELDS,
    invoice_filter,
    invoice_get_for_user,
    invoice_list_for_user,
    invoice_status_version,
    keyset_page,
    latest_document,
)

from .selectors import invoice_etas, invoice_page

INLINE_FORMATS = {"pdf", "jpeg", "png"}


def _filtered(request: HttpRequest) -> tuple[InvoiceFilterForm, Any]:
    form = InvoiceFilterForm(request.GET or None)
    qs = invoice_list_for_user(user=request.user)
    if form.is_bound:
        # An invalid field is named on the page and left out; the other filters
        # still apply (never "everything" because one field was mistyped).
        form.is_valid()
        qs = invoice_filter(qs, form.cleaned_data)
    return form, qs


def _query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _detail_urls(invoices: list[Invoice]) -> dict[Any, str]:
    """Each invoice's page address from one ``reverse`` (the list shows each twice:
    a card on phones, a table row on wider screens)."""
    marker = uuid.UUID(int=0)
    pattern = reverse("invoices:detail", args=[marker])
    return {inv.pk: pattern.replace(str(marker), str(inv.pk)) for inv in invoices}


@capability_required(Perm.SUBMIT)
def invoice_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request)
    page = keyset_page(
        qs.only(*LIST_FIELDS, "organization__name"),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    etas = invoice_etas(page.rows)
    urls = _detail_urls(page.rows)
    rows = [(invoice, etas.get(invoice.pk), urls[invoice.pk]) for invoice in page.rows]
    return render(
        request,
        "invoices/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filters": _query_without(request, "after", "before"),
            "filtered": bool(_query_without(request, "after", "before")),
        },
    )


@capability_required(Perm.SUBMIT)
def invoice_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed."""
    _form, qs = _filtered(request)
    language = translation.get_language()

    def stream():
        with translation.override(language):
            yield from csv_rows(qs)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="invoices-{stamp}.csv"'
    return response


# Refusals that concern the attached scan rather than the typed fields.
SCAN_ERRORS = frozenset(
    {
        "empty_file",
        "file_too_large",
        "unsupported_type",
        "content_type_mismatch",
        "bad_filename",
        "corrupt_image",
        "image_too_large",
    }
)


def _scan_of_another_invoice(result: Any, fields: dict[str, Any]) -> bool:
    """Whether intake answered with an earlier invoice only because the same scan
    bytes were stored with it, while the typed invoice is a different one."""
    return result.outcome == "same_file" and (
        (result.invoice.number or "") != (fields.get("number") or "")
        or (result.invoice.code or "") != (fields.get("code") or "")
    )


@capability_required(Perm.SUBMIT)
def manual_entry(request: HttpRequest) -> HttpResponse:
    """A paper invoice typed in by hand, with its scan attached."""
    form = ManualInvoiceForm(request.POST or None, request.FILES or None)
    lines = ManualLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        fields = dict(form.cleaned_data)
        scan = fields.pop("scan")
        rows = [row for row in lines.cleaned_data if row]
        try:
            result = invoice_submit_manual(
                user=request.user,
                extracted=extracted_from_manual(fields, rows),
                scan=(scan.read(), scan.name, scan.content_type or ""),
            )
        except ApplicationError as exc:
            form.add_error("scan" if exc.code in SCAN_ERRORS else None, exc.message)
        else:
            if _scan_of_another_invoice(result, fields):
                # The scan was attached to an earlier invoice: keep what was typed
                # and say what to change, rather than open the earlier invoice.
                form.add_error(
                    "scan",
                    _(
                        "This photo or scan was already submitted with invoice "
                        "%(reference)s (number %(number)s). Attach the photo or scan "
                        "of the invoice you typed in; your typed fields are kept."
                    )
                    % {
                        "reference": result.invoice.reference,
                        "number": result.invoice.number or "—",
                    },
                )
                return render(
                    request, "invoices/manual.html", {"form": form, "lines": lines}
                )
            if result.created:
                messages.success(
                    request,
                    _("Invoice received as %(reference)s.")
                    % {"reference": result.invoice.reference},
                )
            else:
                messages.warning(
                    request,
                    _("This invoice was already submitted as %(reference)s.")
                    % {"reference": result.invoice.reference},
                )
            return redirect("invoices:detail", invoice_id=result.invoice.id)
    return render(request, "invoices/manual.html", {"form": form, "lines": lines})


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


def _get_or_404(request: HttpRequest, invoice_id: Any) -> Invoice:
    try:
        return invoice_get_for_user(user=request.user, invoice_id=invoice_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _page_context(request: HttpRequest, invoice: Invoice) -> dict[str, Any]:
    context = invoice_page(invoice, user=request.user).context()
    context.update(
        answer_attachments=answer_attachments(invoice),
        respond_form=RespondForm(),
        expedite_form=ExpediteForm(),
        withdraw_form=WithdrawForm(),
        resubmit_form=ResubmitForm(),
        feedback_form=FeedbackForm(),
        poll_seconds=3,
    )
    return context


@capability_required(Perm.SUBMIT)
def invoice_detail(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    invoice = _get_or_404(request, invoice_id)
    invoice_notifications_mark_read(user=request.user, invoice_id=invoice.pk)
    return render(request, "invoices/detail.html", _page_context(request, invoice))


def _prime_permissions(request: HttpRequest) -> None:
    """Keep the user's permission set for a minute per session, so a status poll
    does not read the permission tables every few seconds; a role change applies at
    once (accounts.access)."""
    user_permissions_prime(request)


@login_required
def invoice_status(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    """The live status poll: 204 while the status is the one the page shows (one
    small query), the refreshed panel once it changed. Only for submitters, like the
    invoice page it refreshes (the permissions are read from the primed cache)."""
    _prime_permissions(request)
    if not user_can(request.user, Perm.SUBMIT):
        raise PermissionDenied
    version = invoice_status_version(user=request.user, invoice_id=invoice_id)
    if version is None:
        raise Http404
    if request.GET.get("v") == version:
        return HttpResponse(status=204)
    invoice = _get_or_404(request, invoice_id)
    if request.GET.get("part") == "upload":  # the upload page's line of this file
        return render(request, "invoices/_upload_status.html", {"invoice": invoice})
    return render(request, "invoices/_live.html", _page_context(request, invoice))


def _act(
    request: HttpRequest,
    invoice_id: Any,
    form_class: type,
    action: Callable[[Any], Any],
    success: str,
) -> HttpResponse:
    """Run one submitter action from a page form: errors and success as messages,
    then back to the invoice page."""
    _get_or_404(request, invoice_id)  # someone else's invoice: 404 before anything
    form = form_class(request.POST, request.FILES)
    target = redirect("invoices:detail", invoice_id=invoice_id)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return target
    try:
        result = action(form.cleaned_data)
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return target
    messages.success(request, success)
    if isinstance(result, str):
        return redirect(result)
    return target


@require_POST
@capability_required(Perm.SUBMIT)
def invoice_withdraw_view(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    return _act(
        request,
        invoice_id,
        WithdrawForm,
        lambda data: invoice_withdraw(
            user=request.user, invoice_id=invoice_id, reason=data["reason"]
        ),
        _("The invoice is withdrawn."),
    )


@require_POST
@capability_required(Perm.SUBMIT)
def invoice_respond_view(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    """The answer to the reviewer's question. A refusal (a missing answer, a refused
    file) shows the page again with the form as typed: the answer is never lost.
    Only when the page has no answer form any more (nobody is waiting) does it go
    back to the invoice page with the message."""
    invoice = _get_or_404(request, invoice_id)  # someone else's: 404 first
    form = RespondForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        upload = data.get("file")
        try:
            invoice_respond(
                user=request.user,
                invoice_id=invoice_id,
                message=data["message"],
                file=(
                    CorrectedFile(upload.read(), upload.name, upload.content_type or "")
                    if upload
                    else None
                ),
                attachments=[attachment_from_upload(f) for f in data["attachments"]],
            )
        except NotFoundError as exc:
            raise Http404 from exc
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request, _("Your answer was sent; the invoice is back in review.")
            )
            return redirect("invoices:detail", invoice_id=invoice_id)
    context = _page_context(request, invoice)
    if not context["can_respond"]:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("invoices:detail", invoice_id=invoice_id)
    context["respond_form"] = form
    return render(request, "invoices/detail.html", context)


@require_POST
@capability_required(Perm.SUBMIT)
def invoice_expedite_view(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    def run(data: dict[str, Any]) -> Any:
        request_row = invoice_expedite_request(
            user=request.user, invoice_id=invoice_id, reason=data["reason"]
        )
        if request_row.state == ExpediteState.APPROVED:
            messages.info(request, _("Approved at once: the invoice has top priority."))
        return request_row

    return _act(
        request,
        invoice_id,
        ExpediteForm,
        run,
        _("Urgent handling requested."),
    )


@require_POST
@capability_required(Perm.SUBMIT)
def invoice_resubmit_view(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    def run(data: dict[str, Any]) -> str:
        upload = data["file"]
        result = invoice_resubmit(
            user=request.user,
            invoice_id=invoice_id,
            data=upload.read(),
            filename=upload.name,
            content_type=upload.content_type or "",
        )
        return reverse("invoices:detail", args=[result.invoice.pk])

    return _act(
        request,
        invoice_id,
        ResubmitForm,
        run,
        _("The corrected invoice was submitted and is being checked."),
    )


@require_POST
@capability_required(Perm.SUBMIT)
def invoice_feedback_view(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    return _act(
        request,
        invoice_id,
        FeedbackForm,
        lambda data: invoice_feedback_give(
            user=request.user,
            invoice_id=invoice_id,
            rating=data["rating"],
            comment=data.get("comment", ""),
        ),
        _("Thank you for your feedback."),
    )


def _document(request: HttpRequest, invoice: Invoice):
    document = latest_document(invoice)
    if document is None:
        raise Http404
    return document


@capability_required(Perm.SUBMIT)
def invoice_document(request: HttpRequest, invoice_id: Any) -> FileResponse:
    invoice = _get_or_404(request, invoice_id)
    document = _document(request, invoice)
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.original_name or f"{invoice.reference}.{document.format}",
    )


@xframe_options_sameorigin
@capability_required(Perm.SUBMIT)
def invoice_document_preview(request: HttpRequest, invoice_id: Any) -> FileResponse:
    """The original PDF or image, shown inside the invoice page (other formats are
    downloaded)."""
    invoice = _get_or_404(request, invoice_id)
    document = _document(request, invoice)
    if document.format not in INLINE_FORMATS:
        raise Http404
    response = FileResponse(
        document.file.open("rb"), content_type=document.content_type
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@capability_required(Perm.SUBMIT)
def invoice_receipt(request: HttpRequest, invoice_id: Any) -> HttpResponse:
    invoice = _get_or_404(request, invoice_id)
    try:
        pdf = receipt_pdf(invoice)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("invoices:detail", invoice_id=invoice.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{invoice.reference}-receipt.pdf"'
    )
    return response


# ---------------------------------------------------------------- supervisors


@capability_required(Perm.SUPERVISE)
def expedite_requests(request: HttpRequest) -> HttpResponse:
    pending = list(
        ExpediteRequest.objects.filter(state=ExpediteState.PENDING)
        .select_related("invoice", "invoice__organization", "requested_by")
        .order_by("requested_at")[:200]
    )
    recent = list(
        ExpediteRequest.objects.exclude(state=ExpediteState.PENDING)
        .select_related("invoice", "requested_by", "decided_by")
        .order_by("-decided_at")[:50]
    )
    return render(
        request,
        "invoices/expedite_requests.html",
        {"pending": pending, "recent": recent},
    )


@require_POST
@capability_required(Perm.SUPERVISE)
def expedite_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    try:
        invoice_expedite_decide(
            actor=request.user,
            request_id=request_id,
            approve=approve,
            note=request.POST.get("note", ""),
        )
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Approved: the invoice now has top priority.")
            if approve
            else _("Declined; the submitter is told."),
        )
    return redirect("invoices:expedite_requests")


@capability_required(Perm.SUPERVISE)
def feedback_list(request: HttpRequest) -> HttpResponse:
    """Submitters' ratings, newest first, with the average of the last 30 days."""
    since = timezone.now() - dt.timedelta(days=30)
    summary = Feedback.objects.filter(created_at__gte=since).aggregate(
        average=Avg("rating"), count=Count("pk")
    )
    try:
        before = int(request.GET.get("before") or 0) or None
    except ValueError:
        before = None
    qs = Feedback.objects.select_related(
        "invoice", "invoice__organization", "user"
    ).order_by("-pk")
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[:51])
    more = len(rows) > 50
    rows = rows[:50]
    return render(
        request,
        "invoices/feedback_list.html",
        {
            "rows": rows,
            "summary": summary,
            "next_before": rows[-1].pk if more and rows else None,
        },
    )
