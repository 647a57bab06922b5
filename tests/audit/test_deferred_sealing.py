"""Issue 15: an audited write takes no lock across its transaction. Entries are
inserted unsealed and sealed after the commit (``audit_seal``); the verifier proves
every sealed entry and fails on entries left unsealed too long."""

from __future__ import annotations

import threading
import time

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from invoiceportal.audit import services as audit
from invoiceportal.audit.models import AuditChainHead, AuditEntry
from invoiceportal.audit.services import (
    audit_record,
    audit_seal,
    audit_unsealed,
    audit_verify_chain,
)

from .tamper import sql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _deferred(settings, tmp_path):
    settings.AUDIT_SEAL_INLINE = False
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 0  # a pass after every commit
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"


def record(action="test.event", **data):
    with transaction.atomic():
        return audit_record(actor=None, action=action, data=data)


def test_committed_entries_are_sealed_in_order_after_the_commit():
    for i in range(5):
        record(i=i)
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert [e.data["i"] for e in AuditEntry.objects.all()] == [0, 1, 2, 3, 4]
    assert AuditChainHead.objects.get().seq == 5
    assert audit_unsealed() == []
    assert audit_verify_chain().ok


def test_an_entry_is_unsealed_until_its_transaction_commits():
    with transaction.atomic():
        entry = audit_record(actor=None, action="test.event", data={})
        assert entry.seq is None and entry.hash is None
        assert not AuditEntry.objects.exists()  # the log shows sealed entries only
    assert AuditEntry.objects.get().seq == 1


def test_a_rolled_back_change_leaves_no_entry():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.event", data={})
        raise RuntimeError("the change fails")
    assert not AuditEntry.all_rows.exists()
    assert audit_verify_chain().ok


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises every writer)",
)
def test_an_open_audited_transaction_does_not_block_another_writer():
    """The defect: audit_record took the chain head FOR UPDATE until commit, so a
    second worker's audited write waited for the first's whole transaction."""
    started, release = threading.Event(), threading.Event()
    seconds: list[float] = []

    def slow_screening():
        try:
            with transaction.atomic():
                audit_record(actor=None, action="test.slow", data={})
                started.set()
                release.wait(20)
        finally:
            connections.close_all()

    def quick_claim():
        try:
            begin = time.monotonic()
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                audit_record(actor=None, action="test.quick", data={})
            seconds.append(time.monotonic() - begin)
        finally:
            connections.close_all()

    slow = threading.Thread(target=slow_screening)
    slow.start()
    assert started.wait(10)
    quick = threading.Thread(target=quick_claim)
    quick.start()
    quick.join(10)
    release.set()
    slow.join(20)
    assert seconds and seconds[0] < 2, "the second writer waited for the first"
    # Both sealed, in commit order: the quick one committed first.
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "test.quick",
        "test.slow",
    ]
    assert audit_verify_chain().ok


def _unsealed_copy_of(action: str) -> AuditEntry:
    """An entry written by audit_record whose sealing never ran (a crash between
    the commit and the on_commit sealer)."""
    entry = AuditEntry(
        at=timezone.now(), actor_repr="system", action=action, data={"x": 1}
    )
    entry.content_mac = audit._content_mac(entry, "feedc0de")
    entry.save()
    return entry


def test_an_entry_left_unsealed_too_long_fails_verification_until_sealed(settings):
    record(i=1)
    _unsealed_copy_of("test.lost")
    assert audit_verify_chain().ok  # younger than the allowed delay
    later = timezone.now() + timezone.timedelta(
        seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 5
    )
    with time_machine.travel(later):
        report = audit_verify_chain()
        assert report.problem == "unsealed"
        assert "sealer" in report.reason
        assert audit_seal() == 1  # the catch-up (schedule, audit_seal --every)
        assert audit_verify_chain().ok
    assert AuditEntry.objects.get(action="test.lost").seq == 2


def test_a_row_inserted_without_the_key_is_never_sealed(settings, caplog):
    record(i=1)
    forged = AuditEntry(
        at=timezone.now(), actor_repr="system", action="user.grant", data={}
    )
    forged.content_mac = "feedc0de:" + "0" * 64
    forged.save()
    assert audit_seal() == 0
    assert "AUDIT ENTRY REFUSED" in caplog.text
    record(i=2)  # the chain goes on around it
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == [1, 2]
    with time_machine.travel(
        timezone.now()
        + timezone.timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 5)
    ):
        report = audit_verify_chain()
    assert report.problem == "unsealed"
    assert "content MAC" in report.reason and str(forged.pk) in report.reason


def test_a_full_batch_of_refused_rows_does_not_stop_the_chain(caplog):
    """Refused rows stay first in id order: a batch made only of them must not end
    the pass before the valid entries behind them are sealed."""
    for n in range(3):
        forged = AuditEntry(
            at=timezone.now(), actor_repr="system", action="user.grant", data={}
        )
        forged.content_mac = f"feedc0de:{n:064d}"
        forged.save()
    entry = AuditEntry(  # written with the key, as audit_record does, not sealed yet
        at=timezone.now(), actor_repr="system", action="test.event", data={}
    )
    entry.content_mac = audit._content_mac(entry, "c0ffee")
    entry.save()
    assert audit_seal(batch=2) == 1
    entry = AuditEntry.all_rows.get(pk=entry.pk)
    assert entry.seq == 1


def test_a_copy_of_an_unsealed_entry_cannot_be_inserted():
    entry = _unsealed_copy_of("test.once")
    copy = AuditEntry(
        at=entry.at,
        actor_repr="system",
        action="test.once",
        data={"x": 1},
        content_mac=entry.content_mac,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_sealing_is_the_only_update_the_database_allows():
    entry = _unsealed_copy_of("test.event")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET action = 'forged' WHERE id = %s", [entry.pk])
    audit_seal()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        sql("UPDATE audit_auditentry SET seq = 7 WHERE id = %s", [entry.pk])
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        sql(
            "UPDATE audit_auditentry SET seq = NULL, hash = NULL WHERE id = %s",
            [entry.pk],
        )
    assert audit_verify_chain().ok


def test_the_command_fails_on_entries_left_unsealed(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    record(i=1)
    _unsealed_copy_of("test.lost")
    call_command("verify_audit_chain", "--no-checkpoints")
    with time_machine.travel(
        timezone.now()
        + timezone.timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 5)
    ):
        with pytest.raises(CommandError, match=r"incomplete.*unsealed"):
            call_command("verify_audit_chain", "--no-checkpoints")
        call_command("audit_seal")
        call_command("verify_audit_chain", "--no-checkpoints")
