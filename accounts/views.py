from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from invoiceportal.common.errors import error_body
from invoiceportal.common.middleware import client_address

from .access import capability_required
from .forms import LoginForm, ProfileForm
from .models import User
from .roles import Perm, Role
from .services import (
    user_password_set,
    user_set_language,
    user_sign_out_everywhere,
    user_update,
)

LOCKED_MESSAGE = gettext_lazy(
    "Too many failed sign-in attempts. Sign-in is paused for this account from this "
    "address for a while. To get in now, reset your password with the link sent by "
    "email: a new password lifts the pause."
)


def password_reset_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("accounts:password_reset"))


def lockout_response(request: HttpRequest) -> HttpResponse:
    """What a locked-out user sees: why, and how to get in (the reset link)."""
    message = str(LOCKED_MESSAGE)
    if request.path.startswith("/api/"):
        body = error_body(
            "login_locked",
            message,
            {
                "password_reset_url": password_reset_url(request),
                "retry_after_seconds": int(settings.AXES_COOLOFF_TIME * 3600),
            },
        )
        return JsonResponse(body, status=429)
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message},
        status=429,
    )


def lockout(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any):
    """django-axes calls this when a username-and-address pair (or an address) is
    locked out."""
    return lockout_response(request)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """The owner changes their password: audited, API tokens revoked, this session
    kept and every other one ended."""

    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        user_password_set(
            actor=self.request.user,
            user=form.user,
            password=form.cleaned_data["new_password1"],
            reason="change",
            address=client_address(self.request),
        )
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetView(auth_views.PasswordResetView):
    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed one-time link (a reset, or the first password of a new user):
    audited, API tokens revoked, sign-in locks of the username lifted."""

    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        user_password_set(
            actor=None,
            user=form.user,
            password=form.cleaned_data["new_password1"],
            reason="reset",
            address=client_address(self.request),
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session of the account, this one included, and revoke its API
    tokens (a lost laptop, a leaked token)."""
    user_sign_out_everywhere(user=request.user, address=client_address(request))
    logout(request)
    messages.success(
        request,
        _("You were signed out on every device and every API token was revoked."),
    )
    return redirect("accounts:login")


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
