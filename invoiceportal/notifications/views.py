from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import NotificationPreferenceForm
from .messages import render as render_notification
from .selectors import notification_page, unread_count
from .services import (
    notification_mark_all_read,
    notification_mark_read,
    notification_preferences_update,
    preference_for,
)


@login_required
def centre(request: HttpRequest) -> HttpResponse:
    try:
        before = int(request.GET.get("before") or 0) or None
    except ValueError:
        before = None
    unread_only = request.GET.get("unread") == "1"
    rows, next_before = notification_page(
        user=request.user, before=before, unread_only=unread_only
    )
    items = [(n, render_notification(n)) for n in rows]
    return render(
        request,
        "notifications/centre.html",
        {
            "items": items,
            "next_before": next_before,
            "unread_only": unread_only,
            "first_page": before is None,
        },
    )


def _back(request: HttpRequest, default: str = "notifications:centre") -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@require_POST
@login_required
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(user=request.user, notification_id=notification_id)
    return _back(request)


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(user=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return _back(request)


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The navbar badge alone (htmx refreshes it every minute)."""
    return render(
        request,
        "notifications/_badge.html",
        {"unread": unread_count(user=request.user)},
    )


@require_POST
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = NotificationPreferenceForm(
        request.POST, instance=preference_for(request.user)
    )
    if form.is_valid():
        notification_preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your notification choices have been saved."))
    else:  # pragma: no cover - checkboxes cannot be invalid
        messages.error(request, _("Your notification choices could not be saved."))
    return redirect("accounts:profile")
