"""The audit log page for administrators: read-only. Filter, page through, open an
entry, run the chain verification."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.selectors import (
    audit_chain_verdict,
    audit_choices,
    audit_entry_get,
    audit_page,
)

from .forms import AuditFilterForm


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filter_query(request: HttpRequest) -> str:
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return query.urlencode()


@capability_required(Perm.ADMINISTER)
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    actions, object_types = audit_choices()
    form = AuditFilterForm(
        request.GET or None, actions=actions, object_types=object_types
    )
    page = None
    if form.is_bound and not form.is_valid():
        page = None  # the errors show on the form; no list under a wrong filter
    else:
        page = audit_page(
            form.filters(),
            before=_int(request.GET.get("before")),
            after=_int(request.GET.get("after")),
        )
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": _filter_query(request)},
    )


@capability_required(Perm.ADMINISTER)
@require_GET
def audit_entry(request: HttpRequest) -> HttpResponse:
    """One entry, by its sequence number (``?seq=``)."""
    seq = _int(request.GET.get("seq"))
    entry = audit_entry_get(seq) if seq is not None else None
    if entry is None:
        raise Http404
    data = json.dumps(entry.data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    has_next = AuditEntry.objects.filter(seq=entry.seq + 1).exists()
    return render(
        request,
        "audit/entry.html",
        {"entry": entry, "data": data, "has_next": has_next},
    )


@capability_required(Perm.ADMINISTER)
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Recompute the whole chain (a POST: it reads every entry) and say the result."""
    return render(request, "audit/verify.html", {"verdict": audit_chain_verdict()})
