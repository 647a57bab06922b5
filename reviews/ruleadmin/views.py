"""Admin pages for the screening rules, the registry and the seller lists.

Thin: parse the form, call one service (or the read-only what-if), render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.common.errors import ApplicationError, NotFoundError
from reviews.models import RegistryRecord, SellerList, SellerListEntry
from reviews.registry_import import registry_import
from reviews.rules import rule_update

from .forms import PreviewForm, RegistryUploadForm, RuleForm, SellerListEntryForm
from .selectors import RuleRow, localized, rule_history, rule_row, rule_rows
from .services import (
    rule_version_restore,
    seller_list_entry_add,
    seller_list_entry_remove,
)
from .whatif import MAX_DAYS, rules_what_if

REFUSED_ROWS_SHOWN = 500


def _row_or_404(code: str) -> RuleRow:
    try:
        return rule_row(code)
    except NotFoundError as exc:
        raise Http404 from exc


@capability_required(Perm.ADMINISTER)
def rules(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/rules/list.html", {"rows": rule_rows()})


@capability_required(Perm.ADMINISTER)
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    row = _row_or_404(code)
    form = RuleForm(request.POST if request.method == "POST" else None, row=row)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_update(
                actor=request.user,
                code=code,
                enabled=form.cleaned_data["enabled"],
                outcome_on_fail=form.cleaned_data["outcome_on_fail"],
                params=form.params,
                change_note=form.cleaned_data["change_note"],
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("Rule saved as version %(version)s.") % {"version": rule.version},
            )
            return redirect("reviews:rule_history", code=code)
    return render(
        request,
        "reviews/rules/edit.html",
        {"row": row, "form": form, "preview_form": PreviewForm()},
    )


@require_POST
@capability_required(Perm.ADMINISTER)
def rule_preview(request: HttpRequest, code: str) -> HttpResponse:
    """The what-if of the edit form's draft (htmx): nothing is saved."""
    row = _row_or_404(code)
    form = RuleForm(request.POST, row=row, require_note=False)
    preview_form = PreviewForm(request.POST)
    report = None
    if form.is_valid() and preview_form.is_valid():
        report = rules_what_if(
            code=code,
            draft=form.draft,
            days=preview_form.cleaned_data["days"] or 30,
        )
    return render(
        request,
        "reviews/rules/_preview.html",
        {
            "row": row,
            "form": form,
            "preview_form": preview_form,
            "report": report,
            "max_days": MAX_DAYS,
        },
    )


@capability_required(Perm.ADMINISTER)
def rule_history_page(request: HttpRequest, code: str) -> HttpResponse:
    row = _row_or_404(code)
    return render(
        request,
        "reviews/rules/history.html",
        {"row": row, "versions": rule_history(code)},
    )


@require_POST
@capability_required(Perm.ADMINISTER)
def rule_restore(request: HttpRequest, code: str) -> HttpResponse:
    """Restore an earlier version (form fields ``version`` and ``change_note``) as
    a new version; a refusal comes back as a message on the history page."""
    row = _row_or_404(code)
    version = request.POST.get("version", "")
    if not version.isdigit():
        messages.error(request, _("Choose the version to restore."))
        return redirect("reviews:rule_history", code=row.code)
    try:
        rule = rule_version_restore(
            actor=request.user,
            code=row.code,
            version=int(version),
            change_note=request.POST.get("change_note", ""),
        )
    except ApplicationError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Version %(old)s restored as version %(version)s.")
            % {"old": version, "version": rule.version},
        )
    return redirect("reviews:rule_history", code=row.code)


@capability_required(Perm.ADMINISTER)
def registry_upload(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = RegistryUploadForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    report = None
    refused: list[tuple[int, str]] = []
    if posted and form.is_valid():
        report = registry_import(
            actor=request.user, data=form.cleaned_data["file"].read()
        )
        refused = [
            (error.line, localized(error.message_en, error.message_zh))
            for error in report.errors
        ]
    return render(
        request,
        "reviews/rules/registry.html",
        {
            "form": form,
            "report": report,
            "refused": refused[:REFUSED_ROWS_SHOWN],
            "refused_hidden": max(0, len(refused) - REFUSED_ROWS_SHOWN),
            "record_count": RegistryRecord.objects.count(),
        },
    )


@capability_required(Perm.ADMINISTER)
def seller_lists(request: HttpRequest) -> HttpResponse:
    form = SellerListEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = seller_list_entry_add(
                actor=request.user,
                seller_tax_id=form.cleaned_data["seller_tax_id"],
                list_name=form.cleaned_data["list_name"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as error:
            field = (
                "seller_tax_id"
                if error.code in ("invalid_tax_id", "tax_id_required", "already_listed")
                else None
            )
            form.add_error(field, str(error.message))
        else:
            messages.success(
                request,
                _("%(tax_id)s was added to the %(list)s.")
                % {"tax_id": entry.seller_tax_id, "list": entry.get_list_display()},
            )
            return redirect("reviews:seller_lists")
    entries = SellerListEntry.objects.select_related("added_by").order_by(
        "list", "seller_tax_id"
    )
    lists = {value: [] for value in SellerList.values}
    for entry in entries:
        lists.setdefault(entry.list, []).append(entry)
    return render(
        request,
        "reviews/rules/sellers.html",
        {
            "form": form,
            "lists": [
                (value, label, lists[value]) for value, label in SellerList.choices
            ],
        },
    )


@require_POST
@capability_required(Perm.ADMINISTER)
def seller_list_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        entry = seller_list_entry_remove(actor=request.user, entry_id=entry_id)
    except NotFoundError as error:
        messages.warning(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(tax_id)s was removed from the %(list)s.")
            % {"tax_id": entry.seller_tax_id, "list": entry.get_list_display()},
        )
    return redirect("reviews:seller_lists")
