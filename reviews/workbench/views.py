"""The workbench's routes: page images, field correction, internal notes. Thin:
parse, fetch through the access helper, call one service, answer."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from reviews.context import latest_document

from . import selectors, services
from .forms import CorrectionForm, NoteForm
from .rendering import RenderError
from .rendering import page_image as rendered_page

# An SVG page opened on its own runs nothing and loads nothing from elsewhere.
SVG_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _task(request: HttpRequest, task_id: int):
    try:
        return selectors.workbench_task_get(user=request.user, task_id=task_id)
    except NotFoundError as exc:
        raise Http404 from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.message)) from exc


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return -1


@require_GET
@capability_required(Perm.REVIEW)
def page_image(request: HttpRequest, task_id: int) -> HttpResponse:
    """One rendered page of the task's document (``?page=1&scale=2``)."""
    task = _task(request, task_id)
    document = latest_document(task.invoice)
    if document is None:
        raise Http404
    page = _int(request.GET.get("page"), 1)
    try:
        scale = float(request.GET.get("scale") or settings.WORKBENCH_DEFAULT_SCALE)
    except ValueError:
        scale = settings.WORKBENCH_DEFAULT_SCALE
    if scale not in settings.WORKBENCH_RENDER_SCALES:
        scale = settings.WORKBENCH_DEFAULT_SCALE
    try:
        data, content_type = rendered_page(document, page, scale)
    except RenderError as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    if content_type == "image/svg+xml":
        response["Content-Security-Policy"] = SVG_POLICY
    return response


def _task_url(task_id: int) -> str:
    return reverse("reviews:task", kwargs={"task_id": task_id})


@require_POST
@capability_required(Perm.REVIEW)
def correct_field(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    form = CorrectionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            services.invoice_field_correct(
                actor=request.user,
                task_id=task.pk,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                reason=form.cleaned_data["reason"],
            )
        except NotFoundError as exc:
            raise Http404 from exc
        except ApplicationError as exc:
            error = str(exc.message)
    if not error:
        messages.success(request, _("Field corrected; the checks ran again."))
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = _task_url(task.pk)
            return response
        return redirect(_task_url(task.pk))
    if request.htmx:
        task = _task(request, task_id)
        context = {
            "task": task,
            "wb": selectors.workbench_document(task),
            "can_correct": selectors.can_correct(task, request.user),
            "correction_error": error,
            "correction_field": request.POST.get("field", ""),
            "correction_value": request.POST.get("value", ""),
            "correction_reason": request.POST.get("reason", ""),
        }
        return render(request, "reviews/workbench/_fields.html", context, status=200)
    messages.error(request, error)
    return redirect(_task_url(task.pk))


@require_POST
@capability_required(Perm.REVIEW)
def add_note(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    form = NoteForm(request.POST)
    error = ""
    if not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        try:
            services.review_note_add(
                actor=request.user, task_id=task.pk, body=form.cleaned_data["body"]
            )
        except NotFoundError as exc:
            raise Http404 from exc
        except ApplicationError as exc:
            error = str(exc.message)
    if request.htmx:
        context = {
            "task": task,
            "notes": selectors.review_notes(task.invoice),
            "note_error": error,
            "note_body": request.POST.get("body", "") if error else "",
        }
        return render(request, "reviews/workbench/_notes.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Note added."))
    return redirect(_task_url(task.pk) + "#workbench-notes")
