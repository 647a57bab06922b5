"""Issue 16, finding 6: rewrites at the end of the audit chain, truncation, SQL
changes and deleted users. Each attack is made the way a database-level attacker
would (tests/audit/tamper.py), then the verifier or the database must refuse it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accounts.roles import Role
from invoiceportal.audit import services as audit
from invoiceportal.audit.models import AuditChainHead, AuditEntry
from invoiceportal.audit.services import (
    audit_checkpoint_write,
    audit_checkpoints_read,
    audit_record,
    audit_verify_chain,
)
from reviews.schedules import SCHEDULES
from tests.audit.tamper import (
    rewrite_from,
    rows,
    sql,
    triggers_off,
    truncate_after,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


def record(n: int, actor=None) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(actor=actor, action="test.event", data={"i": i})


def verify_with_checkpoints():
    marks = audit_checkpoints_read(audit.checkpoint_path())
    return audit_verify_chain(checkpoints=marks)


# ------------------------------------------------------------ keyed hash


def test_rewriting_the_last_entry_and_its_hash_is_detected():
    record(3)
    rewrite_from(3, data={"i": 999})

    report = audit_verify_chain()

    assert (report.problem, report.first_bad_seq) == ("content", 3)


def test_rehashing_every_entry_after_an_edit_is_detected():
    record(5)
    rewrite_from(2, data={"i": "forged"})

    report = audit_verify_chain()

    assert (report.problem, report.first_bad_seq) == ("content", 2)


def test_the_hash_depends_on_the_key_kept_outside_the_database(settings):
    record(2)
    assert audit_verify_chain().ok

    settings.AUDIT_HMAC_KEY = "another key"

    assert (audit_verify_chain().problem, audit_verify_chain().first_bad_seq) == (
        "content",
        1,
    )


# ------------------------------------------------------- head and truncation


def test_a_tail_cut_off_with_the_counter_lowered_is_reported_as_truncation():
    record(5)
    audit_checkpoint_write()
    truncate_after(3)

    report = verify_with_checkpoints()

    assert report.problem == "truncated"
    assert report.first_bad_seq == 4
    assert "truncated" in report.reason
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_chain")


def test_a_tail_cut_off_without_lowering_the_counter_is_reported():
    record(4)
    triggers_off()
    sql("DELETE FROM audit_auditentry WHERE seq = 4")

    report = audit_verify_chain()

    assert (report.problem, report.first_bad_seq) == ("truncated", 4)


def test_a_head_that_does_not_match_the_last_entry_is_reported():
    record(3)
    triggers_off()
    sql("UPDATE audit_auditchainhead SET hash = %s WHERE id = 1", ["f" * 64])

    report = audit_verify_chain()

    assert report.problem == "head_mismatch"


def test_a_deleted_head_row_is_reported():
    record(3)
    triggers_off()
    sql("DELETE FROM audit_auditchainhead")

    report = audit_verify_chain()

    assert report.problem == "head_mismatch"
    assert "past the stored head" in report.reason


def test_a_chain_rewritten_with_the_key_disagrees_with_its_checkpoint(tmp_path):
    """Even someone holding the key (the application host) cannot rewrite what a
    checkpoint shipped off the host has signed."""
    record(4)
    audit_checkpoint_write()
    shipped = tmp_path / "shipped.jsonl"
    shipped.write_bytes(audit.checkpoint_path().read_bytes())
    triggers_off()
    prev = None
    for row in rows():
        if row["seq"] >= 2:
            row["data"] = {"i": "rewritten"} if row["seq"] == 2 else row["data"]
            entry = AuditEntry(
                **{k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
            )
            row["prev_hash"], row["hash"] = (
                prev,
                audit._digest(prev, audit._payload(entry)),
            )
            sql(
                "UPDATE audit_auditentry SET data = %s, prev_hash = %s, hash = %s "
                "WHERE seq = %s",
                [json.dumps(row["data"]), row["prev_hash"], row["hash"], row["seq"]],
            )
        prev = row["hash"]
    sql("UPDATE audit_auditchainhead SET hash = %s WHERE id = 1", [prev])
    assert audit_verify_chain().ok  # the database alone cannot tell

    with pytest.raises(CommandError, match="checkpoint") as failure:
        call_command("verify_audit_chain", checkpoints=str(shipped))

    assert "entry 4" in str(failure.value)


def test_a_forged_checkpoint_is_reported(checkpoint_dir):
    record(2)
    audit_checkpoint_write()
    forged = audit.Checkpoint(seq=9, hash="a" * 64, keyed_from=1, at="x", sig="b" * 64)
    with audit.checkpoint_path().open("a") as file:
        file.write(forged.line() + "\n")

    report = verify_with_checkpoints()

    assert (report.problem, report.first_bad_seq) == ("checkpoint_signature", 9)


# ---------------------------------------------------------- the database


def test_sql_updates_are_refused_by_the_database():
    record(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET action = 'forged' WHERE seq = 2")
    assert AuditEntry.objects.get(seq=2).action == "test.event"


def test_sql_deletes_are_refused_by_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: flush empties tables with DELETE; the model refuses it.")
    record(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("DELETE FROM audit_auditentry WHERE seq = 2")
    assert AuditEntry.objects.count() == 2


def test_the_head_counter_cannot_be_lowered():
    record(3)
    with pytest.raises(DatabaseError, match="forward"), transaction.atomic():
        sql("UPDATE audit_auditchainhead SET seq = 2 WHERE id = 1")
    if connection.vendor == "postgresql":
        refusal = pytest.raises(DatabaseError, match="cannot be deleted")
        with refusal, transaction.atomic():
            sql("DELETE FROM audit_auditchainhead")
    assert AuditChainHead.objects.get().seq == 3


def test_the_append_only_triggers_are_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert "audit_head_forward_only" in names
    assert ("audit_entry_append_only" in names) or ("audit_entry_no_update" in names)


# --------------------------------------------------------------- actors


def test_deleting_a_user_changes_no_audit_entry_and_keeps_the_chain():
    actor = UserFactory(role=Role.REVIEWER)
    record(2, actor)
    record(1)
    before = rows()

    actor.delete()

    assert rows() == before
    entry = AuditEntry.objects.select_related("actor").get(seq=1)
    assert (entry.actor_id, entry.actor_repr, entry.actor) == (
        before[0]["actor_id"],
        actor.username,
        None,
    )
    assert audit_verify_chain().ok


# ---------------------------------------------------------- checkpoints


def test_a_checkpoint_is_a_signed_line_in_a_file_and_in_the_log(caplog):
    record(3)
    with caplog.at_level(logging.INFO, logger="invoiceportal.audit"):
        call_command("audit_checkpoint")
        call_command("audit_checkpoint")  # the head has not moved: nothing new

    lines = audit.checkpoint_path().read_text().splitlines()
    assert len(lines) == 1
    written = json.loads(lines[0])
    head = AuditChainHead.objects.get()
    assert (written["seq"], written["hash"]) == (head.seq, head.hash)
    assert audit_checkpoints_read(audit.checkpoint_path()).checkpoints[0].valid
    logged = [r.getMessage() for r in caplog.records if "AUDIT CHECKPOINT" in r.message]
    assert logged == [f"AUDIT CHECKPOINT {lines[0]}"]
    record(1)
    call_command("audit_checkpoint")
    assert len(audit.checkpoint_path().read_text().splitlines()) == 2
    assert verify_with_checkpoints().checkpoints == 2


def test_the_checkpoint_schedule_signs_the_head():
    func, minutes = SCHEDULES["audit-checkpoint"]
    module, name = func.rsplit(".", 1)
    task = getattr(__import__(module, fromlist=[name]), name)
    record(2)

    assert task() == 2
    assert minutes <= 15
    assert audit_checkpoints_read(audit.checkpoint_path()).checkpoints[-1].seq == 2


def test_no_checkpoint_is_signed_over_a_rewritten_chain():
    record(3)
    audit_checkpoint_write()
    rewrite_from(2, data={"i": "forged"})
    record(1)

    with pytest.raises(CommandError, match="does not extend"):
        call_command("audit_checkpoint")
    assert len(audit.checkpoint_path().read_text().splitlines()) == 1


def test_the_first_checkpoint_is_not_signed_over_a_broken_chain():
    record(3)
    rewrite_from(2, data={"i": "forged"})

    with pytest.raises(CommandError, match="does not verify"):
        call_command("audit_checkpoint")
    assert not audit.checkpoint_path().exists()


def test_entries_from_before_the_key_still_verify_and_stay_anchored():
    """An existing install: migration 0002 keys the chain from the next entry."""
    record(2)
    rewrite_from(1)  # the two entries as the unkeyed chain wrote them
    sql("UPDATE audit_auditchainhead SET keyed_from = 3 WHERE id = 1")  # what 0002 does
    record(2)

    report = audit_verify_chain()
    assert (report.ok, report.checked, report.legacy) == (True, 4, 2)

    rewrite_from(1, data={"i": "forged"})  # without the key it stops at entry 3
    assert (audit_verify_chain().problem, audit_verify_chain().first_bad_seq) == (
        "content",
        3,
    )


def test_each_database_has_its_own_checkpoint_file(checkpoint_dir):
    """A test database or another environment writing to the same directory never
    mixes its checkpoints with this database's."""
    record(1)
    foreign = checkpoint_dir / "audit-checkpoints-otherdb.jsonl"
    checkpoint_dir.mkdir(parents=True)
    foreign.write_text(
        audit.Checkpoint(seq=50, hash="c" * 64, keyed_from=1, at="x", sig="d").line()
    )

    audit_checkpoint_write()

    name = Path(connection.settings_dict["NAME"]).name
    assert audit.checkpoint_path().name.startswith("audit-checkpoints-")
    assert name.replace("/", "_") in audit.checkpoint_path().name
    assert verify_with_checkpoints().ok
