"""One small portal, built by the real services, that the security tests probe.

Two submitting organizations (A and B), a review centre, one user per role plus the
cases that matter for object-level access: a submitter of organization B (another
organization), and a reviewer and a supervisor employed by organization A (the
submitting organization, whose own items they must not work on). Organization A's
invoice is in review with a PDF, its task claimed by the review centre's reviewer,
and an urgent-handling request pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Organization
from accounts.roles import Role
from invoiceportal.invoices.models import ExpediteRequest, Invoice
from invoiceportal.invoices.notify import invoice_subject
from invoiceportal.notifications.models import Notification
from reviews.models import ReviewTask, SellerList, SellerListEntry
from reviews.queue.defaults import seed_defaults
from reviews.queue.services import review_task_claim_next
from tests.factories import OrganizationFactory, UserFactory
from tests.invoices.submitter.helpers import make_invoice, to_review
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create, webhook_event_record

# The actors, in the order the matrix reports them.
ANONYMOUS = "anonymous"
SUBMITTER = "submitter"  # organization A, owns the invoice
OTHER_ORG_SUBMITTER = "submitter_b"  # organization B
REVIEWER = "reviewer"  # review centre; holds the task
OWN_ORG_REVIEWER = "reviewer_a"  # employed by organization A
SUPERVISOR = "supervisor"  # review centre
OWN_ORG_SUPERVISOR = "supervisor_a"  # employed by organization A
ADMIN = "admin"  # the admin role (staff, not superuser)
SUPERUSER = "superuser"

ACTORS = (
    ANONYMOUS,
    SUBMITTER,
    OTHER_ORG_SUBMITTER,
    REVIEWER,
    OWN_ORG_REVIEWER,
    SUPERVISOR,
    OWN_ORG_SUPERVISOR,
    ADMIN,
    SUPERUSER,
)

# A PDF the extractors never read here: the document is stored as is.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class World:
    org_a: Organization
    org_b: Organization
    users: dict[str, Any]
    invoice: Invoice
    task: ReviewTask
    expedite: ExpediteRequest
    notification: Notification
    seller_entry: SellerListEntry
    rule_code: str
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, actor: str) -> Any:
        return self.users.get(actor)


def build_world() -> World:
    seed_defaults()
    org_a = OrganizationFactory(name="甲公司")
    org_b = OrganizationFactory(name="乙公司")
    centre = OrganizationFactory(name="审核中心")
    users = {
        SUBMITTER: UserFactory(role=Role.SUBMITTER, organization=org_a),
        OTHER_ORG_SUBMITTER: UserFactory(role=Role.SUBMITTER, organization=org_b),
        REVIEWER: UserFactory(role=Role.REVIEWER, organization=centre),
        OWN_ORG_REVIEWER: UserFactory(role=Role.REVIEWER, organization=org_a),
        SUPERVISOR: UserFactory(role=Role.SUPERVISOR, organization=centre),
        OWN_ORG_SUPERVISOR: UserFactory(role=Role.SUPERVISOR, organization=org_a),
        ADMIN: UserFactory(role=Role.ADMIN, organization=None),
        SUPERUSER: UserFactory(
            role=Role.ADMIN, organization=None, is_superuser=True, is_staff=True
        ),
    }
    invoice = make_invoice(
        org_a, users[SUBMITTER], file_format="pdf", file_content=TINY_PDF
    )
    to_review(invoice)
    task = review_task_claim_next(user=users[REVIEWER])
    assert task is not None and task.invoice_id == invoice.pk
    with transaction.atomic():
        expedite = ExpediteRequest.objects.create(
            invoice=invoice, requested_by=users[SUBMITTER], reason="月底结账"
        )
    notification = Notification.objects.create(
        user=users[SUBMITTER],
        subject=invoice_subject(invoice.pk),
        link=f"/invoices/{invoice.pk}/",
        kind="info_requested",
    )
    seller_entry = SellerListEntry.objects.create(
        seller_tax_id="91110108690017781B", list=SellerList.WATCH, note="watch"
    )
    # Not actors: another reviewer of the centre (a reassignment target) and a user
    # who never signs in (a password-reset link that stays valid).
    second_reviewer = UserFactory(role=Role.REVIEWER, organization=centre)
    reset_target = UserFactory(role=Role.SUBMITTER, organization=org_a)
    _admin_rows(users)
    webhook = _webhook_rows(org_a, invoice, users[SUPERUSER])
    attachment = _answer_attachment(invoice, users[SUBMITTER])
    return World(
        org_a=org_a,
        org_b=org_b,
        users=users,
        invoice=invoice,
        task=task,
        expedite=expedite,
        notification=notification,
        seller_entry=seller_entry,
        rule_code="arithmetic.line_sums",
        extra={
            "group": Group.objects.order_by("pk").first(),
            "second_reviewer": second_reviewer,
            "reset_uid": urlsafe_base64_encode(force_bytes(reset_target.pk)),
            "reset_token": default_token_generator.make_token(reset_target),
            "answer_attachment": attachment,
            **webhook,
        },
    )


def _answer_attachment(invoice: Invoice, submitter: Any) -> Any:
    """A PDF sent with an earlier answer (issue 11), stored like every attachment;
    the invoice stays in review."""
    from invoiceportal.invoices.attachments import (
        AttachmentFile,
        attachments_check,
        attachments_record,
        attachments_store,
    )
    from invoiceportal.invoices.lifecycle import timeline_note
    from tests.invoices.attachment_files import pdf_bytes

    checked = attachments_check([AttachmentFile(pdf_bytes(), "合同.pdf")])
    stored = attachments_store(checked, invoice_id=invoice.pk)
    with transaction.atomic():
        event = timeline_note(
            invoice, "info_provided", actor=submitter, note="合同见附件", visible=True
        )
        (row,) = attachments_record(
            checked, stored, invoice=invoice, event=event, user=submitter
        )
    return row


def _webhook_rows(org: Organization, invoice: Invoice, actor: Any) -> dict[str, Any]:
    """Organization A's webhook endpoint and one delivery, for the webhook routes."""
    endpoint, _secret = webhook_endpoint_create(
        actor=actor,
        organization=org,
        url="https://93.184.215.14/erp",
        events=["task.breached"],
    )
    with transaction.atomic():
        event = webhook_event_record(event_type="task.breached", invoice=invoice)
    delivery = WebhookDelivery.objects.get(event=event)
    return {"webhook_endpoint": endpoint, "webhook_delivery": delivery}


def _admin_rows(users: dict[str, Any]) -> None:
    """One row for each model the Django admin serves that the world has not made
    yet, so its change, history and delete pages open on a real object."""
    from django.apps import apps
    from django.contrib import admin
    from django.utils import timezone

    now = timezone.now()
    makers = {
        "django_q.schedule": lambda m: m.objects.create(
            name="matrix", func="math.floor", args="1"
        ),
        "django_q.success": lambda m: m.objects.create(
            id="matrix-ok",
            name="ok",
            func="math.floor",
            started=now,
            stopped=now,
            success=True,
        ),
        "django_q.failure": lambda m: m.objects.create(
            id="matrix-failed",
            name="failed",
            func="math.floor",
            started=now,
            stopped=now,
            success=False,
        ),
        "django_q.ormq": lambda m: m.objects.create(key="matrix", payload="x"),
        "axes.accessattempt": lambda m: m.objects.create(
            username="nobody",
            ip_address="192.0.2.1",
            user_agent="matrix",
            failures_since_start=1,
        ),
        "axes.accesslog": lambda m: m.objects.create(
            username="nobody", ip_address="192.0.2.1", user_agent="matrix"
        ),
        "axes.accessfailurelog": lambda m: m.objects.create(
            username="nobody", ip_address="192.0.2.1", user_agent="matrix"
        ),
        "knox.authtoken": lambda m: m.objects.create(user=users[SUBMITTER]),
        "notifications.notificationpreference": lambda m: m.objects.create(
            user=users[SUBMITTER]
        ),
    }
    for model in admin.site._registry:
        label = model._meta.label_lower
        if model._default_manager.exists():
            continue
        maker = makers.get(label)
        if maker is not None:
            maker(apps.get_model(label))
