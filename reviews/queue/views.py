"""The review queue's pages: thin, one service or selector call each."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from accounts.access import capability_required
from accounts.roles import Perm, user_can
from invoiceportal.common.errors import ApplicationError, NotFoundError
from invoiceportal.invoices.status import Priority
from reviews.context import latest_document
from reviews.models import TaskState
from reviews.sla.calendar import _utc_periods, next_working_instant
from reviews.workbench.rendering import document_kind

from . import selectors, services
from .calendar import business_calendar
from .filters import ReviewTaskPageFilter
from .forms import BulkForm, DecisionForm, ReassignForm
from .messages import event_message
from .transitions import task_capabilities

PAGE_SIZE = 50


def _period_bounds(cal, now):
    """The working period the live countdowns tick in (epoch milliseconds)."""
    start = next_working_instant(cal, now)
    day = start.astimezone(cal.zone).date()
    for s, e in _utc_periods(cal, day):
        if s <= start < e:
            return int(s.timestamp() * 1000), int(e.timestamp() * 1000)
    return 0, 0


def _queue_context(request: HttpRequest) -> dict:
    """The queue's rows, counts and saved views for this request's filters: one
    aggregate query counts every saved view under the other filters."""
    can_review = user_can(request.user, Perm.REVIEW)
    if not (can_review or user_can(request.user, Perm.ADMINISTER)):
        raise PermissionDenied
    now = timezone.now()
    base = selectors.review_task_list(user=request.user)
    view = selectors.queue_view(request.GET.get("view"))
    filterset = ReviewTaskPageFilter(request.GET, queryset=base, request=request)
    filtered = filterset.qs
    tasks = filtered.filter(selectors.queue_view_q(view, user=request.user, now=now))
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    cal = business_calendar()
    rows = [
        (task, selectors.row_remaining(task, cal=cal, now=now))
        for task in page.object_list
    ]
    period_start, period_end = _period_bounds(cal, now)
    counts = selectors.review_task_counts(tasks=filtered, now=now, user=request.user)
    return {
        "filter": filterset,
        "view": view,
        "views": _saved_views(request, view, counts),
        "page": page,
        "rows": rows,
        "counts": counts,
        "now_ms": int(now.timestamp() * 1000),
        "period_start": period_start,
        "period_end": period_end,
        "query": _query_without_page(request),
        "live_url": _with_query(reverse("reviews:queue_live"), request.GET),
        "refresh_seconds": settings.QUEUE_REFRESH_SECONDS,
        "can_supervise": user_can(request.user, Perm.SUPERVISE),
        "can_review": can_review,
    }


def _saved_views(request: HttpRequest, current: str, counts: dict) -> list[dict]:
    """The tabs: each keeps the other filters and drops the page number."""
    tabs = []
    for code, label in selectors.QUEUE_VIEWS:
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("view", None)
        if code:
            query["view"] = code
        tabs.append(
            {
                "code": code or "open",
                "label": label,
                "count": counts.get(code or "total", 0),
                "url": _with_query(reverse("reviews:queue"), query),
                "current": code == current,
            }
        )
    return tabs


def _with_query(path: str, query) -> str:
    encoded = query.urlencode()
    return f"{path}?{encoded}" if encoded else path


@require_GET
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Reviewers work from it; administrators read it (no claiming, no task
    pages: those need the review capability)."""
    return render(request, "reviews/queue.html", _queue_context(request))


@require_GET
@login_required
def queue_live(request: HttpRequest) -> HttpResponse:
    """The queue's self-refreshing part (htmx, every ``QUEUE_REFRESH_SECONDS``):
    the table for the same query string, with the saved views and counts swapped
    out of band. The queue's access rule."""
    return render(request, "reviews/queue/_queue_live.html", _queue_context(request))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_POST
@capability_required(Perm.REVIEW)
def claim_next(request: HttpRequest) -> HttpResponse:
    try:
        task = services.review_task_claim_next(user=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("reviews:queue")
    if task is None:
        messages.info(request, _("Nothing to claim: the queue is empty for you."))
        return redirect("reviews:queue")
    return redirect("reviews:task", task_id=task.pk)


def _task_or_404(request: HttpRequest, task_id: int):
    try:
        return selectors.review_task_get_for_user(user=request.user, task_id=task_id)
    except NotFoundError as exc:
        raise Http404 from exc


def _task_context(request: HttpRequest, task, form=None) -> dict:
    now = timezone.now()
    invoice = task.invoice
    document = latest_document(invoice)
    language = get_language() or ""
    reasons = selectors.rejection_reasons()
    can_supervise = user_can(request.user, Perm.SUPERVISE)
    problem = services.separation_problem(user=request.user, task=task)
    capabilities = task_capabilities(task, request.user, separation_problem=problem)
    events = [
        (event, event_message(event))
        for event in invoice.timeline.select_related("actor")
    ]
    return {
        "task": task,
        "invoice": invoice,
        "document": document,
        "lines": list(invoice.lines.all()),
        "checks": selectors.task_checks(invoice),
        "seller": selectors.seller_history(invoice),
        "earlier": selectors.earlier_submissions(invoice),
        "previous_tasks": selectors.previous_tasks(task),
        "events": events,
        "timers": selectors.timers(task, now=now),
        "pauses": list(task.pauses.all()),
        "second_review": selectors.second_review_labels(task),
        "reasons": reasons,
        "mine": capabilities.mine,
        "can": capabilities,
        "canned_replies": selectors.canned_replies(),
        "english": language.startswith("en"),
        "separation_problem": problem,
        "form": form
        or DecisionForm(initial={"next": True}, reasons=reasons, language=language),
        "reassign_form": ReassignForm() if can_supervise else None,
        "can_supervise": can_supervise,
        "lease_minutes": services.lease_minutes(),
    }


@require_GET
@capability_required(Perm.REVIEW)
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task_or_404(request, task_id)
    if task.state == TaskState.CLAIMED and task.assigned_to_id == request.user.pk:
        services.review_task_touch(user=request.user, task_id=task.pk)
    return render(request, "reviews/queue/task.html", _task_context(request, task))


@require_GET
@xframe_options_sameorigin
@capability_required(Perm.REVIEW)
def task_document(request: HttpRequest, task_id: int) -> FileResponse:
    task = _task_or_404(request, task_id)
    document = latest_document(task.invoice)
    if document is None:
        raise Http404
    inline = document_kind(document) in {"pdf", "image"}
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type or "application/octet-stream",
        as_attachment=not inline,
        filename=document.original_name or f"{task.invoice.reference}",
    )
    return response


@require_POST
@capability_required(Perm.REVIEW)
def task_heartbeat(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        renewed = services.review_task_touch(user=request.user, task_id=task_id)
    except NotFoundError as exc:
        raise Http404 from exc
    return HttpResponse(status=204 if renewed else 409)


@require_POST
@capability_required(Perm.REVIEW)
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    """ "Claim this task" on the task page: the rules of claim-next."""
    try:
        services.review_task_claim(user=request.user, task_id=task_id)
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The task is yours: decide it."))
    return redirect("reviews:task", task_id=task_id)


@require_POST
@capability_required(Perm.REVIEW)
def task_release(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        services.review_task_release(user=request.user, task_id=task_id)
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("reviews:task", task_id=task_id)
    messages.success(request, _("The task is back in the queue."))
    return redirect("reviews:queue")


@require_POST
@capability_required(Perm.REVIEW)
def task_decide(request: HttpRequest, task_id: int) -> HttpResponse:
    language = get_language() or ""
    reasons = selectors.rejection_reasons()
    form = DecisionForm(request.POST, reasons=reasons, language=language)
    if form.is_valid():
        try:
            services.review_task_decide(
                user=request.user,
                task_id=task_id,
                decision=form.cleaned_data["decision"],
                reason_code=form.cleaned_data["reason_code"],
                comment=form.cleaned_data["comment"],
            )
        except NotFoundError as exc:
            raise Http404 from exc
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Decision recorded."))
            if form.cleaned_data["next"]:
                return claim_next(request)
            return redirect("reviews:queue")
    task = _task_or_404(request, task_id)
    return render(
        request,
        "reviews/queue/task.html",
        _task_context(request, task, form=form),
        status=400,
    )


@require_POST
@capability_required(Perm.SUPERVISE)
def task_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the reviewer."))
        return redirect("reviews:task", task_id=task_id)
    try:
        services.review_task_reassign(
            actor=request.user, task_id=task_id, to_user=form.cleaned_data["to_user"]
        )
    except NotFoundError as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Assigned to %(user)s.") % {"user": form.cleaned_data["to_user"]},
        )
    return redirect(_same_site_path(request, request.POST.get("back")))


def _same_site_path(request: HttpRequest, url: str | None) -> str:
    """Where to go back to: a relative path on this site, else the board (no open
    redirect through ``back``)."""
    if (
        url
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return reverse("reviews:board")


def _board_context() -> dict:
    now = timezone.now()
    data = selectors.supervisor_board(now=now)
    cal = business_calendar()
    for key in ("held", "breached", "at_risk", "waiting"):
        data[key] = [
            (task, selectors.row_remaining(task, cal=cal, now=now))
            for task in data[key]
        ]
    data["refresh_seconds"] = settings.QUEUE_REFRESH_SECONDS
    return data


@require_GET
@capability_required(Perm.SUPERVISE)
def board(request: HttpRequest) -> HttpResponse:
    data = _board_context()
    data["bulk_form"] = BulkForm()
    data["reassign_form"] = ReassignForm()
    data["priorities"] = Priority.choices
    return render(request, "reviews/queue/board.html", data)


@require_GET
@capability_required(Perm.SUPERVISE)
def board_live(request: HttpRequest) -> HttpResponse:
    """The board's self-refreshing part (htmx): its task lists and workload, the
    counts out of band. The board's access rule."""
    return render(request, "reviews/queue/_board_live.html", _board_context())


@require_POST
@capability_required(Perm.SUPERVISE)
def board_bulk(request: HttpRequest) -> HttpResponse:
    ids = [int(v) for v in request.POST.getlist("tasks") if v.isdigit()]
    form = BulkForm(request.POST, task_ids=ids)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("reviews:board")
    action = form.cleaned_data["action"]
    done, failed = 0, []
    for task_id in form.cleaned_data["tasks"]:
        try:
            if action == "release":
                services.review_task_release(user=request.user, task_id=task_id)
            elif action == "reassign":
                services.review_task_reassign(
                    actor=request.user,
                    task_id=task_id,
                    to_user=form.cleaned_data["to_user"],
                )
            else:
                services.review_task_set_priority(
                    actor=request.user,
                    task_id=task_id,
                    priority=form.cleaned_data["priority"],
                )
            done += 1
        except ApplicationError as exc:
            failed.append(f"#{task_id}: {exc.message}")
    if done:
        messages.success(request, _("%(count)s tasks updated.") % {"count": done})
    for line in failed:
        messages.error(request, line)
    return redirect("reviews:board")
