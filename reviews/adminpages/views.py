"""Admin pages: SLA policies, the business calendar, rejection reasons and canned
replies. Thin: parse the form, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.access import capability_required
from accounts.roles import Perm
from invoiceportal.common.errors import ApplicationError
from invoiceportal.invoices.status import Priority
from reviews.models import CannedReply, RejectionReason, SLAPolicy, WorkingPeriod

from . import calendar_admin as cal
from .forms import (
    CANNED_REPLY_FIELDS,
    REJECTION_REASON_FIELDS,
    CalendarConfirmForm,
    CalendarCsvForm,
    CalendarPackageForm,
    CannedReplyForm,
    RejectionReasonForm,
    SLAPolicyForm,
    WorkingPeriodsForm,
)
from .services import (
    canned_reply_create,
    canned_reply_update,
    rejection_reason_create,
    rejection_reason_update,
    sla_policy_update,
)

ADMIN = Perm.ADMINISTER

# ------------------------------------------------------------------ SLA policies


@capability_required(ADMIN)
def sla_policies(request: HttpRequest) -> HttpResponse:
    policies = {
        p.priority: p for p in SLAPolicy.objects.select_related("changed_by").all()
    }
    rows = [(value, label, policies.get(value)) for value, label in Priority.choices]
    rows.reverse()  # urgent first
    return render(request, "reviews/admin/sla_list.html", {"rows": rows})


@capability_required(ADMIN)
def sla_policy_edit(request: HttpRequest, priority: int) -> HttpResponse:
    policy = SLAPolicy.objects.filter(priority=priority).first()
    if policy is None:
        raise Http404
    posted = request.method == "POST"
    form = SLAPolicyForm.for_policy(policy, request.POST if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            sla_policy_update(
                actor=request.user,
                priority=priority,
                name=data["name"],
                target_business_minutes=form.target_minutes,
                warn_at_percent=data["warn_at_percent"],
                min_amount=data["min_amount"],
                clear_min_amount=data["min_amount"] is None,
            )
        except ApplicationError as error:
            if "target_business_minutes" in (error.details or {}):
                form.add_error("target", str(error.message))
            else:
                form.add_service_error(error)
        else:
            messages.success(
                request,
                _("SLA policy saved. It applies to tasks opened from now on."),
            )
            return redirect("reviews:admin_sla")
    return render(
        request, "reviews/admin/sla_edit.html", {"policy": policy, "form": form}
    )


# ------------------------------------------------------------------- calendar


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return cal.calendar_today().year
    return year if 2000 <= year <= 2100 else cal.calendar_today().year


@capability_required(ADMIN)
def calendar_page(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    periods = list(WorkingPeriod.objects.order_by("start"))
    periods_form = WorkingPeriodsForm(
        initial={
            "periods": ", ".join(f"{p.start:%H:%M}-{p.end:%H:%M}" for p in periods)
        }
    )
    return _calendar_render(request, year, periods_form)


def _calendar_render(
    request: HttpRequest, year: int, periods_form: WorkingPeriodsForm
) -> HttpResponse:
    days = cal.stored_days([year])
    return render(
        request,
        "reviews/admin/calendar.html",
        {
            "year": year,
            "months": cal.year_view(year),
            "days": days,
            "holiday_count": sum(1 for d in days if d.kind == cal.DayKind.HOLIDAY),
            "workday_count": sum(1 for d in days if d.kind == cal.DayKind.WORKDAY),
            "loaded_years": cal.loaded_years(),
            "periods": WorkingPeriod.objects.order_by("start"),
            "periods_form": periods_form,
            "package_form": CalendarPackageForm(initial={"year": year}),
            "csv_form": CalendarCsvForm(),
            "package_range": cal.package_years(),
        },
    )


@require_POST
@capability_required(ADMIN)
def calendar_working_periods(request: HttpRequest) -> HttpResponse:
    form = WorkingPeriodsForm(request.POST)
    if form.is_valid():
        try:
            cal.working_periods_set(
                actor=request.user, periods=form.cleaned_data["periods"]
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Working periods saved."))
            return redirect("reviews:admin_calendar")
    return _calendar_render(request, cal.calendar_today().year, form)


def _preview(
    request: HttpRequest, plan: cal.CalendarPlan, confirm: dict[str, Any]
) -> HttpResponse:
    return render(
        request,
        "reviews/admin/calendar_preview.html",
        {"plan": plan, "confirm": confirm},
    )


def _imported(request: HttpRequest, result: cal.CalendarImportResult) -> HttpResponse:
    messages.success(
        request,
        _(
            "Calendar of %(years)s imported: %(holidays)s holidays, %(workdays)s "
            "make-up workdays; %(moved)s open task deadline(s) recounted."
        )
        % {
            "years": ", ".join(str(y) for y in result.years),
            "holidays": result.holidays,
            "workdays": result.workdays,
            "moved": result.tasks_moved,
        },
    )
    return redirect(f"{reverse('reviews:admin_calendar')}?year={result.years[0]}")


@capability_required(ADMIN)
def calendar_import_csv(request: HttpRequest) -> HttpResponse:
    """Upload -> preview (nothing stored) -> confirm (the same text) -> import."""
    form = CalendarCsvForm()
    problems: list[cal.LineProblem] = []
    error = ""
    if request.method == "POST":
        confirming = "csv_text" in request.POST
        if confirming:
            confirm = CalendarConfirmForm(request.POST)
            data: bytes | str | None = (
                confirm.cleaned_data["csv_text"] if confirm.is_valid() else None
            )
        else:
            form = CalendarCsvForm(request.POST, request.FILES)
            data = form.cleaned_data["file"].read() if form.is_valid() else None
        if data is not None:
            try:
                days = cal.parse_calendar_csv(data)
                if confirming:
                    return _imported(
                        request,
                        cal.calendar_import(
                            actor=request.user, days=days, source="csv"
                        ),
                    )
                text = (
                    data.decode("utf-8-sig", "replace")
                    if isinstance(data, bytes)
                    else data
                )
                return _preview(
                    request,
                    cal.calendar_plan(days=days, source="csv"),
                    {"csv_text": text},
                )
            except cal.CalendarCsvError as exc:
                problems = exc.problems
                error = str(exc.message)
            except ApplicationError as exc:
                error = str(exc.message)
    return render(
        request,
        "reviews/admin/calendar_csv.html",
        {"form": form, "problems": problems, "error": error},
    )


@capability_required(ADMIN)
def calendar_import_package(request: HttpRequest) -> HttpResponse:
    """Pick a year -> preview from the package -> confirm -> import."""
    source = request.POST if request.method == "POST" else request.GET
    form = CalendarPackageForm(source if "year" in source else None)
    error = ""
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"]
        try:
            days = cal.package_days(year)
            if request.method == "POST" and request.POST.get("confirm"):
                return _imported(
                    request,
                    cal.calendar_import(
                        actor=request.user, days=days, source=cal.PACKAGE
                    ),
                )
            return _preview(
                request,
                cal.calendar_plan(days=days, source=cal.PACKAGE),
                {"year": year},
            )
        except ApplicationError as exc:
            error = str(exc.message)
    return render(
        request,
        "reviews/admin/calendar_package.html",
        {"form": form, "error": error, "package_range": cal.package_years()},
    )


# ------------------------------------------ records kept by code (reasons, replies)


@dataclass(frozen=True)
class CodedRecordPage:
    """The add and edit pages of an admin-managed record named by its ``code``."""

    model: type[RejectionReason] | type[CannedReply]
    form: type[RejectionReasonForm] | type[CannedReplyForm]
    fields: tuple[str, ...]
    create: Callable[..., Any]
    update: Callable[..., Any]
    template: str
    context_name: str
    list_url: str
    added: Promise
    saved: Promise


REASON_PAGE = CodedRecordPage(
    model=RejectionReason,
    form=RejectionReasonForm,
    fields=REJECTION_REASON_FIELDS,
    create=rejection_reason_create,
    update=rejection_reason_update,
    template="reviews/admin/reason_edit.html",
    context_name="reason",
    list_url="reviews:admin_reasons",
    added=gettext_lazy("Rejection reason added."),
    saved=gettext_lazy("Rejection reason saved."),
)
REPLY_PAGE = CodedRecordPage(
    model=CannedReply,
    form=CannedReplyForm,
    fields=CANNED_REPLY_FIELDS,
    create=canned_reply_create,
    update=canned_reply_update,
    template="reviews/admin/reply_edit.html",
    context_name="reply",
    list_url="reviews:admin_replies",
    added=gettext_lazy("Canned reply added."),
    saved=gettext_lazy("Canned reply saved."),
)


def _coded_record_page(
    request: HttpRequest, page: CodedRecordPage, *, code: str | None
) -> HttpResponse:
    """Add a record (``code`` None) or edit the one with ``code`` (404 if none):
    the form, then the page's create or update service."""
    record = None
    if code is not None:
        record = page.model.objects.filter(code=code).first()
        if record is None:
            raise Http404
    posted = request.method == "POST"
    data = request.POST if posted else None
    if record is None:
        form = page.form(data)
    else:
        initial = {f: getattr(record, f) for f in page.fields}
        form = page.form(data, initial=initial, editing=True)
    if posted and form.is_valid():
        try:
            if record is None:
                page.create(actor=request.user, **form.cleaned_data)
            else:
                changes = {k: v for k, v in form.cleaned_data.items() if k != "code"}
                page.update(actor=request.user, code=record.code, **changes)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, str(page.added if record is None else page.saved))
            return redirect(page.list_url)
    return render(request, page.template, {"form": form, page.context_name: record})


# ---------------------------------------------------------- rejection reasons


@capability_required(ADMIN)
def reasons(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "reviews/admin/reasons.html",
        {"reasons": RejectionReason.objects.all()},
    )


@capability_required(ADMIN)
def reason_add(request: HttpRequest) -> HttpResponse:
    return _coded_record_page(request, REASON_PAGE, code=None)


@capability_required(ADMIN)
def reason_edit(request: HttpRequest, reason_code: str) -> HttpResponse:
    return _coded_record_page(request, REASON_PAGE, code=reason_code)


# -------------------------------------------------------------- canned replies


@capability_required(ADMIN)
def replies(request: HttpRequest) -> HttpResponse:
    return render(
        request, "reviews/admin/replies.html", {"replies": CannedReply.objects.all()}
    )


@capability_required(ADMIN)
def reply_add(request: HttpRequest) -> HttpResponse:
    return _coded_record_page(request, REPLY_PAGE, code=None)


@capability_required(ADMIN)
def reply_edit(request: HttpRequest, reply_code: str) -> HttpResponse:
    return _coded_record_page(request, REPLY_PAGE, code=reply_code)
