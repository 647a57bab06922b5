"""Indexes the live "today" query of the performance page needs on tables of lower
apps (invoices, reviews): their models have no index on these times, and without one
the query for today reads every invoice. ``IF NOT EXISTS``: harmless if the owning
app adds the same index later under this name."""

from django.db import migrations

INDEXES = [
    ("insight_invoice_submitted_at", "invoices_invoice", "submitted_at"),
    ("insight_invoice_decided_at", "invoices_invoice", "decided_at"),
    ("insight_checkresult_created_at", "reviews_checkresult", "created_at"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("insight", "0001_initial"),
        ("invoices", "0006_corrected_fields"),
        ("reviews", "0004_queue_order_and_rule_seed"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column})",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, column in INDEXES
    ]
