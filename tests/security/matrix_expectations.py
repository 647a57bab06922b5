"""What every route should answer to each actor: the table the permission matrix
checks (tests/security/test_permission_matrix.py).

A row is nine answers, one per actor, in this order:

    anonymous  submitter  submitter_b  reviewer  reviewer_a  supervisor  supervisor_a
    admin      superuser

(``submitter`` and the two ``_a`` staff belong to organization A, which owns the
invoice and its task; ``submitter_b`` to organization B; ``reviewer`` holds the
task; see tests/security/world.py). Answers: ``ok`` (2xx), ``login`` (redirect to a
sign-in page), ``redirect`` (another redirect), ``refused`` (a redirect carrying an
error message: a page's refusal), ``invalid`` (400/409/422: authorised, the request
refused), ``401``, ``403``, ``404`` (someone else's object: no existence leak),
``405``.

Principles the rows follow: a capability the role lacks answers 403 (pages: sign-in
first for anonymous); another organization's invoice answers 404 exactly like a
missing one; a reviewer never sees a task of their own organization (404);
separation of duties refuses staff acting on their own organization's items
(supervisors included); the administrator role never edits a superuser; the Django
admin is for superusers, and only where a change cannot bypass the audited services.
"""

from __future__ import annotations

from typing import Any

from .routes import Route
from .world import ACTORS, World

Row = dict[str, str]


def row(spec: str) -> Row:
    answers = spec.split()
    assert len(answers) == len(ACTORS), spec
    return dict(zip(ACTORS, answers, strict=True))


def same(answer: str) -> str:
    return " ".join([answer] * len(ACTORS))


def page(get: str, post: str | None = None) -> dict[str, Row]:
    return {"GET": row(get), "POST": row(post or get)}


def post_only(post: str) -> dict[str, Row]:
    """``require_POST`` outside the access check: 405 for everyone on GET."""
    return {"GET": row(same("405")), "POST": row(post)}


def api(access: str, **methods: str) -> dict[str, Row]:
    """DRF checks authentication and permission before the method: an actor the
    ``access`` row refuses (401/403) gets that answer for every method; the others
    get 405 for any method not listed."""
    gate = row(access)
    table: dict[str, Row] = {}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        given = methods.get(method.lower())
        if given is not None:
            table[method] = row(given)
        else:
            table[method] = {
                actor: gate[actor] if gate[actor] in ("401", "403") else "405"
                for actor in ACTORS
            }
    return table


#                 anon  sub   sub_b  rev   rev_a  sup   sup_a  admin super
SIGNED_IN_OK = "login ok    ok     ok    ok     ok    ok     ok    ok"
SUBMIT = "login ok    ok     403   403    403   403    403   ok"
SUPERVISE = "login 403   403    403   403    ok    ok     ok    ok"
ADMINISTER = "login 403   403    403   403    403   403    ok    ok"
REVIEW = "login 403   403    ok    ok     ok    ok     403   ok"
# Organization A's invoice, on the submitter's pages.
OWN_INVOICE = "login ok    404    403   403    403   403    403   ok"

API_ANYONE_SIGNED_IN = "401 ok  ok  ok  ok  ok  ok  ok  ok"
API_SUBMIT_OR_STAFF_READ = "401 ok  404 ok  ok  ok  ok  ok  ok"
API_REVIEW = "401 403 403 ok  ok  ok  ok  403 ok"
API_SUPERVISE = "401 403 403 403 403 ok  ok  ok  ok"
API_ADMINISTER = "401 403 403 403 403 403 403 ok  ok"

EXPECTED: dict[str, dict[str, Row]] = {
    # Probes for the load balancer: no session, no data beyond up/ready.
    # The browser's icon: a redirect to the static file, for everyone.
    "favicon": {"GET": row(same("redirect")), "POST": row(same("405"))},
    "healthz": {"GET": row(same("ok")), "POST": row(same("405"))},
    "readyz": {"GET": row(same("ok")), "POST": row(same("405"))},
    # Prometheus: only with METRICS_TOKEN or from METRICS_ALLOWED_ADDRESSES, never by
    # signing in; closed in tests (neither set).
    "metrics": {"GET": row(same("403")), "POST": row(same("405"))},
    # ----------------------------------------------------------------- accounts
    "home": page(
        "login redirect redirect redirect redirect redirect redirect redirect redirect"
    ),
    "accounts:login": page(
        "ok redirect redirect redirect redirect redirect redirect redirect redirect"
    ),
    "accounts:logout": post_only(same("login")),
    "accounts:sign_out_everywhere": {
        "GET": row("login 405 405 405 405 405 405 405 405"),
        "POST": row(same("login")),
    },
    "accounts:profile": page(SIGNED_IN_OK),
    "accounts:set_language": post_only(same("redirect")),
    "accounts:admin_home": page(ADMINISTER),
    # Users and organizations pages (issue 10). The user opened is the superuser:
    # the administrator role lists it but never opens or changes it (403); the
    # superuser may not deactivate itself (refused).
    "accounts:manage_users": page(ADMINISTER),
    "accounts:manage_user_new": page(ADMINISTER),
    "accounts:manage_user_edit": page("login 403 403 403 403 403 403 403 ok"),
    "accounts:manage_user_deactivate": post_only(
        "login 403 403 403 403 403 403 403 refused"
    ),
    "accounts:manage_user_reactivate": post_only(
        "login 403 403 403 403 403 403 403 redirect"
    ),
    "accounts:manage_user_unlock": post_only(
        "login 403 403 403 403 403 403 403 redirect"
    ),
    "accounts:manage_user_password_link": post_only(
        "login 403 403 403 403 403 403 403 redirect"
    ),
    "accounts:manage_organizations": page(ADMINISTER),
    "accounts:manage_organization_new": page(ADMINISTER),
    "accounts:manage_organization": page(ADMINISTER),
    "accounts:manage_organization_edit": page(ADMINISTER),
    "accounts:password_change": page(SIGNED_IN_OK),
    "accounts:password_change_done": {
        "GET": row(SIGNED_IN_OK),
        "POST": row("login 405 405 405 405 405 405 405 405"),
    },
    "accounts:password_reset": page(same("ok")),
    "accounts:password_reset_done": {"GET": row(same("ok")), "POST": row(same("405"))},
    "accounts:password_reset_confirm": page(same("redirect")),
    "accounts:password_reset_complete": {
        "GET": row(same("ok")),
        "POST": row(same("405")),
    },
    # ---------------------------------------------------------------- invoices
    "invoices:list": page(SUBMIT),
    "invoices:export": page(SUBMIT),
    "invoices:upload": page(SUBMIT),
    "invoices:manual": page(SUBMIT),
    "invoices:upload_file": post_only(
        "login invalid invalid 403 403 403 403 403 invalid"
    ),
    "invoices:help": page(SIGNED_IN_OK),
    "invoices:expedite_requests": page(SUPERVISE),
    # Organization A's own supervisor may not decide its urgent request (finding 11).
    "invoices:expedite_decide": post_only(
        "login 403 403 403 403 redirect refused redirect redirect"
    ),
    "invoices:feedback_list": page(SUPERVISE),
    "invoices:detail": page(OWN_INVOICE),
    # The live-status poll of the submitter's invoice page: the page's own rule.
    "invoices:status": page(OWN_INVOICE),
    "invoices:document": page(OWN_INVOICE),
    "invoices:document_preview": page(OWN_INVOICE),
    # In review: no receipt yet (a refusal, shown on the invoice page).
    "invoices:receipt": page("login refused 404 403 403 403 403 403 refused"),
    # The superuser belongs to no organization: it does not act for one.
    "invoices:withdraw": post_only("login redirect 404 403 403 403 403 403 refused"),
    "invoices:respond": post_only("login refused 404 403 403 403 403 403 refused"),
    # A file sent with an answer (issue 11): the invoice's organization, and staff
    # who may see its review task (organization A's reviewer cannot: 404; its
    # supervisor can but is kept off by separation: 403); the admin role: 403.
    "invoices:attachment": {
        "GET": row("login ok 404 ok 404 ok 403 403 ok"),
        "POST": row(same("405")),
    },
    "invoices:expedite": post_only("login refused 404 403 403 403 403 403 refused"),
    "invoices:resubmit": post_only("login refused 404 403 403 403 403 403 refused"),
    "invoices:feedback": post_only("login refused 404 403 403 403 403 403 refused"),
    # ----------------------------------------------------------------- reviews
    # Administrators read the queue (no claiming, no task pages).
    "reviews:queue": {
        "GET": row("login 403 403 ok ok ok ok ok ok"),
        "POST": row(same("405")),
    },
    # The queue's self-refreshing table (htmx fragment): the queue's access rule.
    "reviews:queue_live": {
        "GET": row("login 403 403 ok ok ok ok ok ok"),
        "POST": row(same("405")),
    },
    # The task's reviewer already holds REVIEW_MAX_OPEN_CLAIMS (1) tasks: refused.
    "reviews:claim_next": post_only(
        "login 403 403 refused redirect redirect redirect 403 redirect"
    ),
    "reviews:task": {
        "GET": row("login 403 403 ok 404 ok ok 403 ok"),
        "POST": row(same("405")),
    },
    "reviews:task_document": {
        "GET": row("login 403 403 ok 404 ok ok 403 ok"),
        "POST": row(same("405")),
    },
    # Only the claimant decides; others see the refusal on the task page (400).
    "reviews:task_decide": post_only(
        "login 403 403 redirect 404 invalid invalid 403 invalid"
    ),
    "reviews:task_release": post_only(
        "login 403 403 redirect 404 redirect refused 403 redirect"
    ),
    # "Claim this task" (issue 11, H2): the holder's repeat is a no-op; a task held by
    # another reviewer is refused with a message.
    "reviews:task_claim": post_only(
        "login 403 403 redirect 404 refused refused 403 refused"
    ),
    "reviews:heartbeat": post_only("login 403 403 ok 404 invalid invalid 403 invalid"),
    "reviews:task_reassign": post_only(
        "login 403 403 403 403 redirect refused redirect redirect"
    ),
    "reviews:board": {"GET": row(SUPERVISE), "POST": row(same("405"))},
    # The board's self-refreshing lists (htmx fragment): the board's access rule.
    "reviews:board_live": {"GET": row(SUPERVISE), "POST": row(same("405"))},
    # Performance page and its CSV downloads (issue 13, H7): the CSV needs ``chart``
    # (400 without it, once authorised).
    "insight:performance": {"GET": row(SUPERVISE), "POST": row(same("405"))},
    "insight:performance_csv": {
        "GET": row("login 403 403 403 403 invalid invalid invalid invalid"),
        "POST": row(same("405")),
    },
    # The administrator role supervises dashboards, not the queue: releasing a task
    # needs the review capability (refused per task on the board).
    "reviews:board_bulk": post_only(
        "login 403 403 403 403 redirect refused refused redirect"
    ),
    # The workbench (H4): staff who may see the task and are not of the submitter's
    # organization (separation: 403 for its supervisor, 404 for its reviewer, who
    # cannot see the task). Only the claimant corrects a field (others refused).
    "workbench:page": {
        "GET": row("login 403 403 ok 404 ok 403 403 ok"),
        "POST": row(same("405")),
    },
    "workbench:correct": post_only(
        "login 403 403 redirect 404 refused 403 403 refused"
    ),
    "workbench:notes": post_only(
        "login 403 403 redirect 404 redirect 403 403 redirect"
    ),
    "reviews:rules": page(ADMINISTER),
    "reviews:registry_upload": page(ADMINISTER),
    "reviews:seller_lists": page(ADMINISTER),
    "reviews:seller_list_remove": post_only(
        "login 403 403 403 403 403 403 redirect redirect"
    ),
    "reviews:rule_edit": page(ADMINISTER),
    "reviews:rule_preview": post_only(ADMINISTER),
    "reviews:rule_history": page(ADMINISTER),
    # SLA policies, business calendar, rejection reasons, canned replies (issue 10).
    # A POST without a form renders the page again with its errors.
    "reviews:admin_sla": page(ADMINISTER),
    "reviews:admin_sla_edit": page(ADMINISTER),
    "reviews:admin_calendar": page(ADMINISTER),
    "reviews:admin_calendar_periods": post_only(ADMINISTER),
    "reviews:admin_calendar_import_csv": page(ADMINISTER),
    "reviews:admin_calendar_import_package": page(ADMINISTER),
    "reviews:admin_reasons": page(ADMINISTER),
    "reviews:admin_reason_add": page(ADMINISTER),
    "reviews:admin_reason_edit": page(ADMINISTER),
    "reviews:admin_replies": page(ADMINISTER),
    "reviews:admin_reply_add": page(ADMINISTER),
    "reviews:admin_reply_edit": page(ADMINISTER),
    # Restoring a version needs a version and a note: an empty POST is refused.
    "reviews:rule_restore": post_only("login 403 403 403 403 403 403 refused refused"),
    # ------------------------------------------------------ audit log (read-only)
    "audit:log": {
        "GET": row(ADMINISTER),
        "POST": row("login 403 403 403 403 403 403 405 405"),
    },
    # The entry is chosen by ?seq=; without one there is nothing to show.
    "audit:entry": {
        "GET": row("login 403 403 403 403 403 403 404 404"),
        "POST": row("login 403 403 403 403 403 403 405 405"),
    },
    "audit:verify": {
        "GET": row("login 403 403 403 403 403 403 405 405"),
        "POST": row(ADMINISTER),
    },
    # ----------------------------------------------------------- notifications
    "notifications:centre": page(SIGNED_IN_OK),
    "notifications:badge": page(SIGNED_IN_OK),
    "notifications:mark_all_read": post_only(
        "login " + " ".join(["redirect"] * (len(ACTORS) - 1))
    ),
    # Someone else's notification: the same redirect, nothing marked.
    "notifications:mark_read": post_only(
        "login " + " ".join(["redirect"] * (len(ACTORS) - 1))
    ),
    "notifications:preferences": post_only(
        "login " + " ".join(["redirect"] * (len(ACTORS) - 1))
    ),
    # --------------------------------------------------------------------- API
    "api:api-root": api(API_ANYONE_SIGNED_IN, get=API_ANYONE_SIGNED_IN),
    "api:token": api(same("ok"), post=same("ok")),
    "api:sign-out-everywhere": api(API_ANYONE_SIGNED_IN, post=API_ANYONE_SIGNED_IN),
    "api:metrics-summary": api(API_SUPERVISE, get=API_SUPERVISE),
    # Breach forecast (issue 13, H7).
    "api:metrics-forecast": api(API_SUPERVISE, get=API_SUPERVISE),
    # Public in development and tests (API_DOCS_PUBLIC); signed-in only in production.
    "api:schema": api(same("ok"), get=same("ok")),
    "api:docs": api(same("ok"), get=same("ok")),
    "api:organization-list": api(
        API_ADMINISTER, get=API_ADMINISTER, post=API_ADMINISTER
    ),
    "api:organization-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER
    ),
    "api:user-list": api(API_ADMINISTER, get=API_ADMINISTER, post=API_ADMINISTER),
    # The user is the superuser: the administrator role reads it, never edits it.
    "api:user-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch="401 403 403 403 403 403 403 403 ok"
    ),
    # A one-time link to the user's own address; the user here is the superuser,
    # which the administrator role does not manage.
    "api:user-send-password-link": api(
        API_ADMINISTER, post="401 403 403 403 403 403 403 403 ok"
    ),
    "api:user-unlock": api(API_ADMINISTER, post="401 403 403 403 403 403 403 403 ok"),
    "api:invoice-list": api(
        API_ANYONE_SIGNED_IN,
        get=API_ANYONE_SIGNED_IN,
        post="401 invalid invalid 403 403 403 403 403 403",
    ),
    "api:invoice-batch": api(
        API_ANYONE_SIGNED_IN, post="401 invalid invalid 403 403 403 403 403 403"
    ),
    "api:invoice-detail": api(API_SUBMIT_OR_STAFF_READ, get=API_SUBMIT_OR_STAFF_READ),
    "api:invoice-document": api(API_SUBMIT_OR_STAFF_READ, get=API_SUBMIT_OR_STAFF_READ),
    "api:invoice-receipt": api(
        API_SUBMIT_OR_STAFF_READ,
        get="401 invalid 404 invalid invalid invalid invalid invalid invalid",
    ),
    "api:invoice-withdraw": api(
        API_ANYONE_SIGNED_IN, post="401 ok 404 403 403 403 403 403 403"
    ),
    "api:invoice-respond": api(
        API_ANYONE_SIGNED_IN, post="401 invalid 404 403 403 403 403 403 403"
    ),
    # A file sent with an answer: the page's rule (invoices:attachment).
    "api:invoice-attachment": api(
        API_ANYONE_SIGNED_IN, get="401 ok 404 ok 404 ok 403 403 ok"
    ),
    "api:invoice-expedite": api(
        API_ANYONE_SIGNED_IN, post="401 invalid 404 403 403 403 403 403 403"
    ),
    "api:invoice-feedback": api(
        API_ANYONE_SIGNED_IN, post="401 invalid 404 403 403 403 403 403 403"
    ),
    "api:review-task-list": api(API_REVIEW, get=API_REVIEW),
    "api:review-task-board": api(API_REVIEW, get="401 403 403 403 403 ok ok 403 ok"),
    # The task's reviewer already holds REVIEW_MAX_OPEN_CLAIMS (1) tasks: 409.
    "api:review-task-claim-next": api(
        API_REVIEW, post="401 403 403 invalid ok ok ok 403 ok"
    ),
    # Claim this task (issue 11, H2): 409 when another reviewer holds it.
    "api:review-task-claim": api(
        API_REVIEW, post="401 403 403 ok 404 invalid invalid 403 invalid"
    ),
    "api:review-task-detail": api(API_REVIEW, get="401 403 403 ok 404 ok ok 403 ok"),
    # Only the claimant decides: everyone else is refused (409 not_your_task).
    "api:review-task-decide": api(
        API_REVIEW, post="401 403 403 ok 404 invalid invalid 403 invalid"
    ),
    # Reassigning needs the supervise capability (reviewers: 403 before any lookup);
    # organization A's own supervisor is refused its organization's task.
    "api:review-task-reassign": api(
        API_REVIEW, post="401 403 403 403 403 ok 403 403 ok"
    ),
    "api:review-task-release": api(API_REVIEW, post="401 403 403 ok 404 ok 403 403 ok"),
    "api:rule-list": api(API_ADMINISTER, get=API_ADMINISTER),
    "api:rule-detail": api(API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER),
    # An empty PATCH changes nothing (200); an empty POST lacks its fields (400).
    "api:sla-policy-list": api(API_ADMINISTER, get=API_ADMINISTER),
    "api:sla-policy-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER
    ),
    "api:calendar-day-list": api(API_ADMINISTER, get=API_ADMINISTER),
    "api:calendar-day-import": api(
        API_ADMINISTER, post="401 403 403 403 403 403 403 invalid invalid"
    ),
    "api:calendar-day-load": api(
        API_ADMINISTER, post="401 403 403 403 403 403 403 invalid invalid"
    ),
    "api:rejection-reason-list": api(
        API_ADMINISTER,
        get=API_ADMINISTER,
        post="401 403 403 403 403 403 403 invalid invalid",
    ),
    "api:rejection-reason-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER
    ),
    "api:canned-reply-list": api(
        API_ADMINISTER,
        get=API_ADMINISTER,
        post="401 403 403 403 403 403 403 invalid invalid",
    ),
    "api:canned-reply-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER
    ),
    # ------------------------------------------------- webhooks (issue 13, H6)
    "api:webhook-endpoint-list": api(
        API_ADMINISTER, get=API_ADMINISTER, post=API_ADMINISTER
    ),
    "api:webhook-endpoint-detail": api(
        API_ADMINISTER, get=API_ADMINISTER, patch=API_ADMINISTER
    ),
    "api:webhook-endpoint-resume": api(API_ADMINISTER, post=API_ADMINISTER),
    "api:webhook-endpoint-rotate-secret": api(API_ADMINISTER, post=API_ADMINISTER),
    # Pages: an empty POST re-renders the form with its errors (ok).
    "webhooks:endpoints": page(ADMINISTER),
    "webhooks:endpoint_new": page(ADMINISTER),
    "webhooks:endpoint_edit": page(ADMINISTER),
    "webhooks:deliveries": page(ADMINISTER),
    # The capability is checked before the method: 405 only for administrators.
    "webhooks:endpoint_resume": {
        "GET": row("login 403 403 403 403 403 403 405 405"),
        "POST": row("login 403 403 403 403 403 403 redirect redirect"),
    },
    "webhooks:endpoint_rotate_secret": {
        "GET": row("login 403 403 403 403 403 403 405 405"),
        "POST": row(ADMINISTER),
    },
    "webhooks:delivery_replay": {
        "GET": row("login 403 403 403 403 403 403 405 405"),
        "POST": row("login 403 403 403 403 403 403 redirect redirect"),
    },
    # ------------------------------------------------------- Django admin (site)
    # Staff only: the admin role (staff) and the superuser; everyone else is sent to
    # the admin's sign-in page.
    "admin:index": page("login login login login login login login ok ok"),
    "admin:login": page(
        "ok ok ok ok ok ok ok redirect redirect", "ok ok ok ok ok ok ok ok ok"
    ),
    "admin:logout": page(
        "redirect redirect redirect redirect redirect redirect redirect 405 405",
        "redirect redirect redirect redirect redirect redirect redirect login login",
    ),
    "admin:password_change": page("login login login login login login login ok ok"),
    "admin:password_change_done": page(
        "login login login login login login login ok ok",
        "login login login login login login login 405 405",
    ),
    "admin:autocomplete": page(
        "login login login login login login login 403 403",
        "login login login login login login login 405 405",
    ),
    "admin:jsi18n": page(
        "login login login login login login login ok ok",
        "login login login login login login login 405 405",
    ),
    # Staff only; users have no public page: nothing to redirect to.
    "admin:view_on_site": page("login login login login login login login 404 404"),
    "admin:app_list": page("login login login login login login login 404 ok"),
    "admin:catch_all": page("login login login login login login login 404 404"),
}

# ------------------------------------------------------- Django admin (models)
# What the superuser may do per model in the Django admin ("view" always). The
# admin role holds no model permission: 403 on every model page. Users and
# organizations change through audited saves and are never deleted; the audit log
# and review tasks are read-only; rows the portal writes itself are not added by hand.
# Role groups are not in the admin at all (roles are code; accounts.admin). Every
# change made here is audited (invoiceportal.audit.admin_log).
ADMIN_MODELS: dict[str, set[str]] = {
    "accounts.user": {"add", "change", "password"},
    "accounts.organization": {"add", "change"},
    "knox.authtoken": {"add", "change", "delete"},
    "audit.auditentry": set(),
    "reviews.reviewtask": set(),
    "reviews.slapolicy": {"add", "change", "delete"},
    "reviews.workingperiod": {"add", "change", "delete"},
    "reviews.holiday": {"add", "change", "delete"},
    "reviews.makeupworkday": {"add", "change", "delete"},
    "reviews.rejectionreason": {"add", "change", "delete"},
    "reviews.secondreviewrule": {"add", "change", "delete"},
    "notifications.notification": {"delete"},  # written by the services only
    "notifications.notificationpreference": {"add", "change", "delete"},
    "django_q.schedule": {"add", "change", "delete"},
    "django_q.success": {"delete", "readonly-save"},
    "django_q.failure": {"delete", "readonly-save"},
    "django_q.ormq": {"change", "delete"},
    "axes.accessattempt": {"delete", "readonly-save"},
    "axes.accesslog": {"delete", "readonly-save"},
    "axes.accessfailurelog": {"delete", "readonly-save"},
}
# Models whose pages are probed for every actor; the others for a sample (the admin
# site's staff gate is the same for every model and proven on these).
ADMIN_MODELS_ALL_ACTORS = {"accounts.user", "accounts.organization"}
ADMIN_SAMPLE_ACTORS = ("anonymous", "supervisor", "admin", "superuser")
ADMIN_MODEL_ROUTES = ("changelist", "add", "change", "delete", "history", "password")


def _admin_model_rows(label: str, kind: str) -> dict[str, Row]:
    allowed = ADMIN_MODELS[label]
    non_staff = "login login login login login login login"
    if kind == "object_redirect":
        return {"GET": row(f"{non_staff} redirect redirect")}
    if kind in ("changelist", "history"):
        return {"GET": row(f"{non_staff} 403 ok")}
    # A read-only model still shows its change page; writing is refused. Where every
    # field is read-only ("readonly-save", third-party log tables), saving changes
    # nothing and redirects.
    get_ok = kind == "change" or kind in allowed
    post = "ok" if kind in allowed else "403"
    if kind == "change" and "readonly-save" in allowed:
        post = "redirect"
    return {
        "GET": row(f"{non_staff} 403 {'ok' if get_ok else '403'}"),
        "POST": row(f"{non_staff} 403 {post}"),
    }


def admin_entry(label: str, kind: str) -> dict[str, Row] | None:
    if label not in ADMIN_MODELS:
        return None
    return _admin_model_rows(label, kind)


def _admin_keys() -> dict[str, dict[str, Row]]:
    keys = {}
    for label in ADMIN_MODELS:
        kinds = ["changelist", "add", "change", "delete", "history", "object_redirect"]
        if label == "accounts.user":
            kinds.append("password")
        for kind in kinds:
            keys[f"admin:{label}:{kind}"] = _admin_model_rows(label, kind)
    return keys


EXPECTED.update(_admin_keys())


def admin_methods(route: Route) -> tuple[str, ...]:
    return tuple(EXPECTED.get(route.key, {"GET": {}}).keys())


def actors_for(route: Route) -> tuple[str, ...]:
    if route.model_label and route.model_label not in ADMIN_MODELS_ALL_ACTORS:
        return ADMIN_SAMPLE_ACTORS
    return ACTORS


def expected(route: Route, method: str) -> Row:
    return EXPECTED[route.key][method]


# ------------------------------------------------------------------- bodies
URGENT = "月底结账，财务需要在本周五前入账"


def body(route: Route, method: str, world: World) -> dict[str, Any] | None:
    """A valid request for the route, so the answer is about who asks, not about a
    missing field (None: an empty body)."""
    from reviews.ruleadmin.selectors import rule_row
    from tests.factories import PASSWORD, make_uscc

    users = world.users
    bodies: dict[tuple[str, str], Any] = {
        ("api:token", "POST"): {
            "username": users["submitter"].username,
            "password": PASSWORD,
        },
        ("api:organization-list", "POST"): {
            "name": "丙公司",
            "tax_id": make_uscc(987_654),
        },
        ("api:organization-detail", "PATCH"): {"name": "甲公司（新名）"},
        ("api:user-list", "POST"): {
            "username": "matrix-new-user",
            "role": "submitter",
            "organization": world.org_a.pk,
            "email": "new@example.com",
        },
        ("api:user-detail", "PATCH"): {"first_name": "改"},
        ("api:rule-detail", "PATCH"): {
            "enabled": not rule_row(world.rule_code).enabled,
            "change_note": "matrix",
        },
        ("api:invoice-withdraw", "POST"): {"reason": "重复提交"},
        ("api:invoice-respond", "POST"): {"message": "合同编号 HT-2026-001"},
        ("api:invoice-expedite", "POST"): {"reason": URGENT},
        ("api:invoice-feedback", "POST"): {"rating": 5},
        ("api:review-task-decide", "POST"): {"decision": "approve"},
        ("api:review-task-reassign", "POST"): {
            "assigned_to": world.extra["second_reviewer"].pk
        },
        ("invoices:withdraw", "POST"): {"reason": "重复提交"},
        ("invoices:respond", "POST"): {"message": "合同编号 HT-2026-001"},
        ("invoices:expedite", "POST"): {"reason": URGENT},
        ("invoices:feedback", "POST"): {"rating": 5},
        ("invoices:expedite_decide", "POST"): {"decision": "approve"},
        ("reviews:task_decide", "POST"): {
            "decision": "approve",
            "reason_code": "",
            "comment": "",
        },
        ("reviews:task_reassign", "POST"): {
            "to_user": world.extra["second_reviewer"].pk
        },
        ("reviews:board_bulk", "POST"): {
            "tasks": [world.task.pk],
            "action": "release",
        },
        ("api:webhook-endpoint-list", "POST"): {
            "url": "https://93.184.215.14/matrix",
            "events": ["invoice.decided"],
            "organization": world.org_a.pk,
        },
        ("api:webhook-endpoint-detail", "PATCH"): {"active": False},
        ("workbench:correct", "POST"): {
            "field": "seller_name",
            "value": "北京某软件有限公司（更正）",
            "reason": "matrix",
        },
        ("workbench:notes", "POST"): {"body": "matrix note"},
    }
    return bodies.get((route.key, method))


# ------------------------------------------------------------------ known gaps
# (route key, method, actor) -> (answer measured, why it is wrong). The expected
# answer above stays what the portal should do; these make the route an expected
# failure until fixed (then the test asks for the line to be removed).
REVIEW_ACTORS = ("reviewer", "reviewer_a", "supervisor", "supervisor_a", "superuser")
KNOWN_GAPS: dict[tuple[str, str, str], tuple[str, str]] = {
    # None open. The five found by this matrix when it was written (the status poll
    # open to staff, a heartbeat answering 409 for a hidden task, batch upload
    # validating before refusing staff, format-suffix routes answering 500) are fixed
    # and now expected like every other entry.
}
