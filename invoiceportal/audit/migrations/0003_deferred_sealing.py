"""Issue 15: audit entries are written unsealed and sealed after the commit.

``audit_record`` used to take the chain head row FOR UPDATE inside the caller's
transaction and hold it until commit, so every audited write in the system queued
behind the slowest one (a whole screening). Now an entry is inserted without
``seq``/``prev_hash``/``hash`` (with ``content_mac``, an HMAC of its content) and
``services.audit_seal`` links it to the chain in a short transaction of its own.

The triggers change accordingly (same names, so ``tests/audit/tamper.py`` still
switches them off): the one UPDATE allowed on an entry is sealing it, once, content
unchanged; DELETE stays refused (PostgreSQL). The SQLite table rebuild of the
AlterFields drops the old triggers, so they are created again last.
"""

from django.conf import settings
from django.db import migrations, models

PG_FORWARD = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND NEW.at = OLD.at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_repr = OLD.actor_repr AND NEW.action = OLD.action
       AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id
       AND NEW.data = OLD.data
       AND NEW.content_mac IS NOT DISTINCT FROM OLD.content_mac
    THEN
        RETURN NEW;  -- sealing an unsealed entry
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
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
"""
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    """
    CREATE TRIGGER IF NOT EXISTS audit_entry_no_update
    BEFORE UPDATE ON audit_auditentry
    WHEN NOT (
        OLD.seq IS NULL AND NEW.seq IS NOT NULL
        AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
        AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id
        AND NEW.actor_repr IS OLD.actor_repr AND NEW.action IS OLD.action
        AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id
        AND NEW.data IS OLD.data AND NEW.content_mac IS OLD.content_mac
    )
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    """
    CREATE TRIGGER IF NOT EXISTS audit_entry_no_update
    BEFORE UPDATE ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END
    """,
]
SQLITE_HEAD = """
CREATE TRIGGER IF NOT EXISTS audit_head_forward_only
BEFORE UPDATE ON audit_auditchainhead
WHEN NEW.seq < OLD.seq OR NEW.keyed_from <> OLD.keyed_from
BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END
"""


def _run(schema_editor, pg: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(pg, params=None)
    elif vendor == "sqlite":
        for statement in [*sqlite, SQLITE_HEAD]:
            schema_editor.execute(statement)


def create_triggers(apps, schema_editor):
    _run(schema_editor, PG_FORWARD, SQLITE_FORWARD)


def restore_triggers(apps, schema_editor):
    _run(schema_editor, PG_BACKWARD, SQLITE_BACKWARD)


def refuse_unsealed(apps, schema_editor):
    """Going back needs every entry sealed (run ``audit_seal`` first)."""
    Entry = apps.get_model("audit", "AuditEntry")
    if Entry._base_manager.filter(seq__isnull=True).exists():
        raise RuntimeError("Unsealed audit entries: run manage.py audit_seal first.")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_and_keyed_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, refuse_unsealed),
        migrations.AddField(
            model_name="auditentry",
            name="content_mac",
            field=models.CharField(blank=True, max_length=100, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.BigIntegerField(
                blank=True, null=True, unique=True, verbose_name="sequence"
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)),
                fields=["id"],
                name="audit_entry_unsealed",
            ),
        ),
        # Last: a SQLite table rebuild (the AlterFields above) drops triggers.
        migrations.RunPython(create_triggers, restore_triggers),
    ]
