"""Notifications stop pointing at invoices: an opaque subject key, the link the reader
opens and a source key replace the foreign keys to Invoice and TimelineEvent (issue 14).

Existing rows keep their meaning: ``subject`` = "invoice:<hex>", ``source`` =
"timeline:<id>", ``link`` = the invoice page for submitters (staff rows get no stored
link and open their notification centre: the invoice page answered them 403), and a
status code in ``context`` becomes its label in both languages. The catch-up cursor
becomes a named sweep cursor ("invoices.timeline"). Reversible.
"""

import uuid

from django.db import migrations, models
from django.db.models import Q

STAFF_ROLES = {"reviewer", "supervisor", "admin"}
# The invoice statuses' labels when this migration was written.
STATUS_LABELS = {
    "received": {"zh-hans": "已接收", "en": "Received"},
    "screening": {"zh-hans": "自动检查中", "en": "Screening"},
    "in_review": {"zh-hans": "人工审核中", "en": "In review"},
    "needs_info": {"zh-hans": "待补充信息", "en": "Information requested"},
    "approved": {"zh-hans": "已通过", "en": "Approved"},
    "rejected": {"zh-hans": "已驳回", "en": "Rejected"},
    "withdrawn": {"zh-hans": "已撤回", "en": "Withdrawn"},
}


def forwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = Notification.objects.select_related("user").exclude(
        invoice_id__isnull=True, source_event_id__isnull=True
    )
    batch = []
    for row in rows.iterator(chunk_size=1000):
        if row.invoice_id is not None:
            row.subject = f"invoice:{uuid.UUID(str(row.invoice_id)).hex}"
            staff = row.user.is_superuser or row.user.role in STAFF_ROLES
            row.link = "" if staff else f"/invoices/{row.invoice_id}/"
        if row.source_event_id is not None:
            row.source = f"timeline:{row.source_event_id}"
        status = (row.context or {}).get("status")
        if isinstance(status, str) and status in STATUS_LABELS:
            row.context = {**row.context, "status": STATUS_LABELS[status]}
        batch.append(row)
        if len(batch) >= 1000:
            Notification.objects.bulk_update(
                batch, ["subject", "link", "source", "context"]
            )
            batch = []
    if batch:
        Notification.objects.bulk_update(batch, ["subject", "link", "source", "context"])


def backwards(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    by_label = {labels["en"]: code for code, labels in STATUS_LABELS.items()}
    batch = []
    for row in Notification.objects.exclude(subject="", source="").iterator():
        if row.subject.startswith("invoice:"):
            row.invoice_id = uuid.UUID(row.subject.split(":", 1)[1])
        if row.source.startswith("timeline:"):
            row.source_event_id = int(row.source.split(":", 1)[1])
        status = (row.context or {}).get("status")
        if isinstance(status, dict) and status.get("en") in by_label:
            row.context = {**row.context, "status": by_label[status["en"]]}
        batch.append(row)
    Notification.objects.bulk_update(
        batch, ["invoice", "source_event", "context"], batch_size=1000
    )


def name_the_cursor(apps, schema_editor):
    SweepCursor = apps.get_model("notifications", "SweepCursor")
    SweepCursor.objects.filter(pk=1).update(name="invoices.timeline")
    SweepCursor.objects.exclude(pk=1).filter(name="").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="subject",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="subject"
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="link",
            field=models.CharField(
                blank=True, default="", max_length=300, verbose_name="link"
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="source",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="source"
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveConstraint(
            model_name="notification",
            name="one_notification_per_event_user_channel",
        ),
        migrations.RemoveField(model_name="notification", name="invoice"),
        migrations.RemoveField(model_name="notification", name="source_event"),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=~Q(source=""),
                fields=("source", "user", "channel"),
                name="one_notification_per_source_user_channel",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=Q(channel="in_app", read_at__isnull=True),
                fields=["user", "subject"],
                name="notification_unread_subject",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("decided", "Invoice decided"),
                    ("info_requested", "Information requested"),
                    ("sla_at_risk", "Decision deadline at risk"),
                    ("sla_breached", "Decision deadline missed"),
                    ("expedite_requested", "Urgent handling requested"),
                    ("expedite_decided", "Urgent handling answered"),
                    ("info_provided", "Submitter answered"),
                    ("task_at_risk", "Review deadline at risk"),
                    ("task_breached", "Review deadline missed"),
                    ("task_assigned", "Review task assigned"),
                    ("webhook_paused", "Webhook endpoint paused"),
                ],
                max_length=24,
                verbose_name="kind",
            ),
        ),
        migrations.RenameModel(old_name="TimelineCursor", new_name="SweepCursor"),
        migrations.RenameField(
            model_name="sweepcursor", old_name="last_event_id", new_name="position"
        ),
        migrations.AddField(
            model_name="sweepcursor",
            name="name",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(name_the_cursor, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sweepcursor",
            name="name",
            field=models.CharField(max_length=64, unique=True),
        ),
    ]
