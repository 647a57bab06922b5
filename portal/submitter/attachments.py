"""Downloading a file sent with an answer (issue 11), for the page and the API.

Who may read it: members of the invoice's organization who submit (the invoice's
own rule), and staff who may see the invoice's review task (a reviewer never of the
invoice's organization, a supervisor) unless separation of duties keeps them off it.
Anyone else: 404 for someone else's invoice, as for a missing one; 403 for a role
that has no business with invoices here, and for staff of the invoice's
organization that may see the task (the separation guard, as on the workbench).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.roles import Perm, user_can
from invoiceportal.common.errors import NotFoundError, PermissionDeniedError
from invoiceportal.invoices.models import AnswerAttachment, Invoice
from invoiceportal.invoices.selectors import parse_invoice_id
from invoiceportal.invoices.separation import staff_action_problem
from reviews.models import ReviewTask

# A preview (shown inside a page) is offered for images only; PDFs are downloaded.
PREVIEW_TYPES = frozenset({"image/jpeg", "image/png"})


def answer_attachment_get_for_user(
    *, user: Any, invoice_id: Any, attachment_id: Any
) -> AnswerAttachment:
    """The attachment if ``user`` may read it. Raises ``NotFoundError`` (missing, or
    someone else's) or ``PermissionDeniedError`` (no such capability; separation)."""
    invoice_pk = parse_invoice_id(invoice_id)
    try:
        attachment_pk = int(attachment_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    attachment = (
        AnswerAttachment.objects.select_related("invoice")
        .filter(pk=attachment_pk, invoice_id=invoice_pk)
        .first()
    )
    invoice: Invoice | None = attachment.invoice if attachment else None
    own_org = (
        invoice is not None
        and user_can(user, Perm.SUBMIT)
        and user.organization_id is not None
        and user.organization_id == invoice.organization_id
    )
    if own_org:
        return attachment
    if user_can(user, Perm.REVIEW):
        if invoice is None or not (
            ReviewTask.objects.visible_to(user).filter(invoice_id=invoice.pk).exists()
        ):
            raise NotFoundError()
        problem = staff_action_problem(
            user=user,
            organization_id=invoice.organization_id,
            submitted_by_id=invoice.submitted_by_id,
        )
        if problem:
            raise PermissionDeniedError(problem, code="separation_of_duties")
        return attachment
    if user_can(user, Perm.SUBMIT):
        raise NotFoundError()
    raise PermissionDeniedError(
        _("You cannot read the files of this invoice."), code="permission_denied"
    )


def attachment_response(attachment: AnswerAttachment, *, preview: bool = False) -> Any:
    """The stored file as sent: a download (``attachment``) with its checked type;
    an image may be shown inline (``preview``). Never sniffed, never run."""
    inline = preview and attachment.content_type in PREVIEW_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=not inline,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def invoice_attachment(
    request: HttpRequest, invoice_id: Any, attachment_id: int
) -> FileResponse:
    """``?preview=1`` shows an image inline (the workbench's thumbnails)."""
    try:
        attachment = answer_attachment_get_for_user(
            user=request.user, invoice_id=invoice_id, attachment_id=attachment_id
        )
    except NotFoundError as exc:
        raise Http404 from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(str(exc.message)) from exc
    return attachment_response(attachment, preview=request.GET.get("preview") == "1")
