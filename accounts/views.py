from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from invoiceportal.common.errors import error_body

from .access import capability_required
from .forms import LoginForm, ProfileForm
from .models import User
from .roles import Perm, Role
from .services import user_set_language, user_update

LOCKED_MESSAGE = gettext_lazy(
    "Too many failed sign-in attempts. Sign-in is paused for this account and address; "
    "try again later or reset your password."
)


def lockout(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any):
    """django-axes calls this when a username or an address is locked out."""
    message = str(LOCKED_MESSAGE)
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("login_locked", message), status=429)
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message},
        status=429,
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on the page it works from."""
    role = request.user.effective_role
    if role == Role.ADMIN:
        return redirect("accounts:admin_home")
    if role in (Role.REVIEWER, Role.SUPERVISOR):
        return redirect("reviews:queue")
    return redirect("invoices:list")


@capability_required(Perm.ADMINISTER)
def admin_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/admin_home.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    # Bind to a fresh copy: an invalid form must not alter request.user.
    instance = User.objects.get(pk=request.user.pk)
    form = ProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        user_update(actor=request.user, user=request.user, **form.cleaned_data)
        language = form.cleaned_data["language"]
        translation.activate(language)
        messages.success(request, _("Your profile has been saved."))
        response = redirect("accounts:profile")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language)
        return response
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switch: remembered on the account for signed-in users."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return django_set_language(request)
