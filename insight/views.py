"""The performance page and its CSV downloads: thin, one selector call each."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.invoices.exports import csv_cell

from .charts import draw
from .forms import PerformanceFilterForm
from .rollup import local_today
from .selectors import TABLE_CODES, performance_tables


def _form(request: HttpRequest) -> PerformanceFilterForm:
    """Bound even without parameters: the defaults (the last 30 days) are valid."""
    return PerformanceFilterForm(request.GET, today=local_today())


def _filters(form: PerformanceFilterForm) -> dict:
    data = form.cleaned_data
    org = data.get("organization")
    return {
        "start": data["start"],
        "end": data["end"],
        "organization_id": org.pk if org else None,
    }


@require_GET
@capability_required(Perm.SUPERVISE)
def performance(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return render(
            request,
            "insight/performance.html",
            {"form": form, "charts": []},
            status=400,
        )
    filters = _filters(form)
    tables = performance_tables(
        filters["start"],
        filters["end"],
        now=timezone.now(),
        organization_id=filters["organization_id"],
    )
    query = request.GET.copy()
    query.pop("chart", None)
    charts = [{"table": t, "svg": draw(t)} for t in tables]
    return render(
        request,
        "insight/performance.html",
        {
            "form": form,
            "charts": charts,
            "filters": filters,
            "query": query.urlencode(),
        },
    )


@require_GET
@capability_required(Perm.SUPERVISE)
def performance_csv(request: HttpRequest) -> HttpResponse:
    """One chart's table as CSV (same filters as the page; ``chart`` names it)."""
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponse(
            errors, status=400, content_type="text/plain; charset=utf-8"
        )
    chart = form.cleaned_data.get("chart") or ""
    if chart not in TABLE_CODES:
        message = _("Unknown chart %(chart)s; one of: %(codes)s.") % {
            "chart": chart or "-",
            "codes": ", ".join(TABLE_CODES),
        }
        return HttpResponse(
            message, status=400, content_type="text/plain; charset=utf-8"
        )
    filters = _filters(form)
    table = next(
        t
        for t in performance_tables(
            filters["start"],
            filters["end"],
            organization_id=filters["organization_id"],
            now=timezone.now(),
        )
        if t.code == chart
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(v) for v in row])
    response = HttpResponse(
        "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
    )
    name = f"{chart}_{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
