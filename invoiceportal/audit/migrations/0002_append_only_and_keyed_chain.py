"""Issue 16: the audit log becomes append-only in the database and its hash keyed.

1. ``AuditEntry.actor`` keeps the user's id without a database constraint and does
   nothing when the user is deleted (it used to SET NULL, which rewrote audited rows
   and broke the chain); ``actor_repr`` already holds the username.
2. ``AuditChainHead.keyed_from``: the first sequence number hashed with the HMAC key
   (``settings.AUDIT_HMAC_KEY``). A fresh install starts keyed at 1. An existing
   chain is left as it is (rewriting audit rows is what this migration forbids): its
   entries keep their plain SHA-256 links and are verified that way, and the first
   new entry links to its last hash with the key, so editing an old entry still
   breaks the keyed link after it. Run ``manage.py audit_checkpoint`` right after
   migrating to sign the head of the old chain (DEPLOY note in the report).
3. Triggers: PostgreSQL refuses UPDATE and DELETE on the entries (TRUNCATE stays
   possible for the owner, as ``flush`` needs it; the head comparison and the signed
   checkpoints catch it); SQLite refuses UPDATE (``flush`` and test teardown empty
   tables with DELETE, so DELETE is refused by the model and queryset only). On both,
   the head's counter can never go down (PostgreSQL: nor the head row be deleted).
   SQLite drops a table's triggers when a later migration rebuilds the table: such a
   migration must create them again (tests/audit checks they exist).
"""

from django.conf import settings
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.seq < OLD.seq OR NEW.keyed_from <> OLD.keyed_from THEN
        RAISE EXCEPTION 'the audit chain head only moves forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_head_forward_only
    BEFORE UPDATE OR DELETE ON audit_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_auditchainhead;
DROP FUNCTION IF EXISTS audit_head_forward_only();
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""
SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS audit_entry_no_update
    BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS audit_head_forward_only
    BEFORE UPDATE ON audit_auditchainhead
    WHEN NEW.seq < OLD.seq OR NEW.keyed_from <> OLD.keyed_from
    BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
]


def key_from_next_entry(apps, schema_editor):
    """Entries already written keep their plain SHA-256 links."""
    Head = apps.get_model("audit", "AuditChainHead")
    Head.objects.filter(pk=1, seq__gt=0).update(keyed_from=models.F("seq") + 1)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="keyed_from",
            field=models.BigIntegerField(default=1),
        ),
        migrations.RunPython(key_from_next_entry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="actor",
            ),
        ),
        # Last: a SQLite table rebuild (the AlterField above) drops triggers.
        migrations.RunPython(create_triggers, drop_triggers),
    ]
