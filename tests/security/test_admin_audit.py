"""Every Django-admin change is audited (issue 16, High 1: Django-admin edits wrote no
audit entry), and the role groups cannot be edited there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from invoiceportal.audit.models import AuditEntry
from invoiceportal.audit.services import audit_verify_chain
from reviews.models import RejectionReason, SLAPolicy

pytestmark = pytest.mark.django_db


def test_a_change_in_django_admin_writes_an_audit_entry(client, superuser):
    policy = SLAPolicy.objects.order_by("pk").first()
    assert policy is not None  # seeded by the migrations
    client.force_login(superuser)
    url = reverse("admin:reviews_slapolicy_change", args=[policy.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data["target_business_minutes"] = 123
    before = AuditEntry.objects.count()

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert policy.target_business_minutes == 123
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.actor_id) == ("admin.changed", superuser.pk)
    assert entry.data["model"] == "reviews.slapolicy"
    assert entry.data["object_id"] == str(policy.pk)
    assert "Target" in str(entry.data["change"]) or "目标" in str(entry.data["change"])
    assert audit_verify_chain().first_bad_seq is None


def test_a_deletion_in_django_admin_is_audited(client, superuser):
    reason = RejectionReason.objects.create(
        code="zz_test", label_zh="测试", label_en="t"
    )
    client.force_login(superuser)

    response = client.post(
        reverse("admin:reviews_rejectionreason_delete", args=[reason.pk]),
        {"post": "yes"},
    )

    assert response.status_code == 302
    assert not RejectionReason.objects.filter(pk=reason.pk).exists()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "admin.deleted"
    assert entry.data["object_id"] == str(reason.pk)


def test_the_role_groups_are_not_editable_in_django_admin(client, superuser):
    client.force_login(superuser)
    assert client.get("/django-admin/auth/group/").status_code == 404
