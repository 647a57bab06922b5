"""Migration 0002: notifications stop pointing at invoices, and keep their data
(subject, link, source and status labels from the old foreign keys), both ways."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.invoices.submitter.helpers import make_invoice

OLD = [("notifications", "0001_initial")]
NEW = [("notifications", "0002_subject_link_source")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_rows_keep_their_invoice_event_and_status(
    submitter, reviewer, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    invoice = make_invoice(submitter.organization, submitter)
    event = invoice.timeline.create(status="received", code="submitted")
    try:
        old = _migrate(OLD)
        Notification = old.get_model("notifications", "Notification")
        Notification.objects.create(
            user_id=submitter.pk,
            invoice_id=invoice.pk,
            source_event_id=event.pk,
            kind="decided",
            context={"status": "approved"},
        )
        Notification.objects.create(
            user_id=reviewer.pk, invoice_id=invoice.pk, kind="info_provided"
        )
        Notification.objects.create(user_id=submitter.pk, kind="sla_at_risk")
        # The catch-up job's cursor, as the old code kept it (one row, pk 1); a
        # flushed database may have lost it.
        old.get_model("notifications", "TimelineCursor").objects.update_or_create(
            pk=1, defaults={"last_event_id": event.pk}
        )
        new = _migrate(NEW)
        rows = {
            (n.user_id, n.kind): n
            for n in new.get_model("notifications", "Notification").objects.all()
        }
        key = f"invoice:{uuid.UUID(str(invoice.pk)).hex}"
        mine = rows[(submitter.pk, "decided")]
        assert (mine.subject, mine.link, mine.source) == (
            key,
            f"/invoices/{invoice.pk}/",
            f"timeline:{event.pk}",
        )
        assert mine.context["status"] == {"zh-hans": "已通过", "en": "Approved"}
        staff = rows[(reviewer.pk, "info_provided")]
        assert (staff.subject, staff.link, staff.source) == (key, "", "")
        plain = rows[(submitter.pk, "sla_at_risk")]
        assert (plain.subject, plain.link, plain.source) == ("", "", "")
        cursor = new.get_model("notifications", "SweepCursor").objects.get()
        assert cursor.name == "invoices.timeline"

        back = _migrate(OLD)
        old_rows = back.get_model("notifications", "Notification").objects
        again = old_rows.get(user_id=submitter.pk, kind="decided")
        assert (again.invoice_id, again.source_event_id) == (invoice.pk, event.pk)
        assert again.context["status"] == "approved"
    finally:
        _migrate(NEW)
