"""Webhook pages: endpoints of the organizations an administrator manages, the
delivery log with replay. Thin: parse the form, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.common.errors import ApplicationError, NotFoundError

from .forms import EndpointForm
from .models import DeliveryState, EventType, WebhookAttempt, WebhookDelivery
from .services import (
    endpoints_visible_to,
    manageable_organizations,
    webhook_delivery_get_for_user,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_get_for_user,
    webhook_endpoint_resume,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)
from .transport import SIGNATURE_HEADER, TIMESTAMP_HEADER

ADMINISTER = capability_required(Perm.ADMINISTER)
PAGE_SIZE = 50
ATTEMPTS_SHOWN = 10
# The form's fields an endpoint stores (the organization is chosen once, on create).
ENDPOINT_FIELDS = ("url", "events", "active", "description")


def _endpoint(request: HttpRequest, endpoint_id: int) -> Any:
    try:
        return webhook_endpoint_get_for_user(user=request.user, endpoint_id=endpoint_id)
    except NotFoundError:
        raise Http404 from None


def _scheme() -> dict[str, str]:
    return {"signature_header": SIGNATURE_HEADER, "timestamp_header": TIMESTAMP_HEADER}


def _endpoint_fields(form: EndpointForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in ENDPOINT_FIELDS}


@ADMINISTER
def endpoint_list(request: HttpRequest) -> HttpResponse:
    endpoints = endpoints_visible_to(request.user).annotate(
        waiting=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
    )
    labels = dict(EventType.choices)
    rows = [(e, [labels.get(name, name) for name in e.events]) for e in endpoints]
    return render(request, "webhooks/endpoints.html", {"rows": rows, **_scheme()})


@ADMINISTER
def endpoint_new(request: HttpRequest) -> HttpResponse:
    organizations = manageable_organizations(request.user)
    form = EndpointForm(
        request.POST or None,
        organizations=organizations,
        initial={"active": True, "events": [EventType.INVOICE_DECIDED]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhook_endpoint_create(
                actor=request.user,
                organization=form.cleaned_data["organization"],
                **_endpoint_fields(form),
            )
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            # Shown in this answer only: the page is not stored anywhere.
            return render(
                request,
                "webhooks/secret.html",
                {"endpoint": endpoint, "secret": secret, "created": True, **_scheme()},
            )
    return render(request, "webhooks/endpoint_form.html", {"form": form})


@ADMINISTER
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    form = EndpointForm(
        request.POST or None,
        organizations=manageable_organizations(request.user),
        editing=True,
        initial={name: getattr(endpoint, name) for name in ENDPOINT_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            webhook_endpoint_update(
                actor=request.user, endpoint=endpoint, **_endpoint_fields(form)
            )
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("The webhook endpoint was saved."))
            return redirect("webhooks:endpoints")
    return render(
        request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}
    )


@ADMINISTER
@require_POST
def endpoint_resume(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    queued = webhook_endpoint_resume(actor=request.user, endpoint=endpoint)
    messages.success(
        request,
        _("The endpoint was resumed; %(count)s waiting deliveries are being sent.")
        % {"count": queued},
    )
    return redirect("webhooks:deliveries", endpoint_id=endpoint.pk)


@ADMINISTER
@require_POST
def endpoint_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    secret = webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint)
    return render(
        request,
        "webhooks/secret.html",
        {"endpoint": endpoint, "secret": secret, "created": False, **_scheme()},
    )


@ADMINISTER
def deliveries(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, endpoint_id)
    state = request.GET.get("state", "")
    qs = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("event", "event__invoice")
        .prefetch_related(
            Prefetch(
                "attempt_log",
                queryset=WebhookAttempt.objects.order_by("-at", "-pk"),
                to_attr="attempts_list",
            )
        )
        .order_by("-created_at", "-pk")
    )
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    else:
        state = ""
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for delivery in page.object_list:
        delivery.recent_attempts = delivery.attempts_list[:ATTEMPTS_SHOWN]
    return render(
        request,
        "webhooks/deliveries.html",
        {
            "endpoint": endpoint,
            "page": page,
            "state": state,
            "states": DeliveryState.choices,
        },
    )


@ADMINISTER
@require_POST
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        delivery = webhook_delivery_get_for_user(
            user=request.user, delivery_id=delivery_id
        )
    except NotFoundError:
        raise Http404 from None
    if webhook_delivery_replay(actor=request.user, delivery=delivery):
        if delivery.endpoint.active and not delivery.endpoint.paused:
            messages.success(request, _("The event will be sent again in a moment."))
        else:
            messages.warning(
                request,
                _(
                    "The event will be sent again once the endpoint is active and "
                    "resumed."
                ),
            )
    else:
        messages.error(
            request, _("This delivery is being sent right now; try again in a minute.")
        )
    return redirect("webhooks:deliveries", endpoint_id=delivery.endpoint_id)
