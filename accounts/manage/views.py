"""The administrator's users and organizations pages. Views are thin: every change
goes through accounts.services (the same functions the API calls), which check the
rules and write the audit entry in the change's transaction."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from invoiceportal.common.errors import ApplicationError, PermissionDeniedError

from ..access import capability_required
from ..lockout import lockout_failures_by_username
from ..models import Organization, User
from ..roles import Perm
from ..services import (
    organization_create,
    organization_update,
    user_create,
    user_send_password_link,
    user_unlock,
    user_update,
)
from .forms import OrganizationForm, UserCreateForm, UserEditForm, UserFilterForm
from .selectors import (
    UserFilters,
    organization_invoice_counts,
    organization_page,
    user_page,
    user_queryset,
)

ADMINISTER = capability_required(Perm.ADMINISTER)


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _managed_user(request: HttpRequest, user_id: int) -> User:
    """The user to manage; a superuser only for a superuser (others get 403)."""
    target = get_object_or_404(User.objects.select_related("organization"), pk=user_id)
    if target.is_superuser and not request.user.is_superuser:
        raise PermissionDenied
    return target


# --------------------------------------------------------------------- users
@ADMINISTER
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    filters = UserFilters()
    if form.is_valid():
        data = form.cleaned_data
        active = {"1": True, "0": False}.get(data["active"])
        filters = UserFilters(
            q=data["q"],
            organization=data["organization"].pk if data["organization"] else None,
            role=data["role"],
            active=active,
        )
    page = user_page(filters, request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/manage/user_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@ADMINISTER
def user_create_page(request: HttpRequest) -> HttpResponse:
    preset = request.GET.get("organization", "")
    initial = {"organization": int(preset)} if preset.isdigit() else {}
    form = UserCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_create(actor=request.user, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "User %(username)s was created. A link to choose a password was "
                    "sent to %(email)s."
                )
                % {"username": user.username, "email": user.email},
            )
            return redirect("accounts:manage_user_edit", user_id=user.pk)
    return render(request, "accounts/manage/user_form.html", {"form": form})


@ADMINISTER
def user_edit_page(request: HttpRequest, user_id: int) -> HttpResponse:
    target = _managed_user(request, user_id)
    initial = {
        "first_name": target.first_name,
        "last_name": target.last_name,
        "email": target.email,
        "organization": target.organization_id,
        "role": target.role,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user=target, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("The user was saved."))
            return redirect("accounts:manage_user_edit", user_id=target.pk)
    failed = lockout_failures_by_username([target.username]).get(target.username, 0)
    return render(
        request,
        "accounts/manage/user_form.html",
        {"form": form, "target": target, "failed_sign_ins": failed},
    )


def _user_action(
    request: HttpRequest, user_id: int, act: Any, done: str
) -> HttpResponse:
    target = _managed_user(request, user_id)
    try:
        act(target)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("accounts:manage_user_edit", user_id=target.pk)


@require_POST
@ADMINISTER
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request,
        user_id,
        lambda u: user_update(actor=request.user, user=u, is_active=False),
        _("The user was deactivated: their sessions and API tokens ended."),
    )


@require_POST
@ADMINISTER
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request,
        user_id,
        lambda u: user_update(actor=request.user, user=u, is_active=True),
        _("The user was reactivated."),
    )


@require_POST
@ADMINISTER
def user_unlock_page(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request,
        user_id,
        lambda u: user_unlock(actor=request.user, user=u),
        _("The sign-in lock was lifted."),
    )


@require_POST
@ADMINISTER
def user_password_link(request: HttpRequest, user_id: int) -> HttpResponse:
    return _user_action(
        request,
        user_id,
        lambda u: user_send_password_link(actor=request.user, user=u),
        _("A link to choose a password was sent to the user's email address."),
    )


# ------------------------------------------------------------- organizations
@ADMINISTER
def organization_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = organization_page(q, request.GET.get("page"))
    return render(
        request,
        "accounts/manage/organization_list.html",
        {"page": page, "q": q, "query": urlencode({"q": q}) if q else ""},
    )


@ADMINISTER
def organization_create_page(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = organization_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The organization was created."))
            return redirect("accounts:manage_organization", organization_id=org.pk)
    return render(request, "accounts/manage/organization_form.html", {"form": form})


@ADMINISTER
def organization_edit_page(request: HttpRequest, organization_id: int) -> HttpResponse:
    org = get_object_or_404(Organization, pk=organization_id)
    initial = {"name": org.name, "tax_id": org.tax_id, "is_active": org.is_active}
    form = OrganizationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            organization_update(
                actor=request.user, organization=org, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The organization was saved."))
            return redirect("accounts:manage_organization", organization_id=org.pk)
    return render(
        request,
        "accounts/manage/organization_form.html",
        {"form": form, "organization": org},
    )


@ADMINISTER
def organization_detail(request: HttpRequest, organization_id: int) -> HttpResponse:
    org = get_object_or_404(Organization, pk=organization_id)
    page = user_page(UserFilters(organization=org.pk), request.GET.get("page"))
    return render(
        request,
        "accounts/manage/organization_detail.html",
        {
            "organization": org,
            "page": page,
            "user_total": user_queryset(UserFilters(organization=org.pk)).count(),
            "invoice_counts": organization_invoice_counts(org),
        },
    )
