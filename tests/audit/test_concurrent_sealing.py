"""After-commit sealing under concurrent writers (issues 14 and 15, bench_claims): a
commit never waits for the chain head, a process seals at most once per
AUDIT_SEAL_INTERVAL_SECONDS, and every committed entry still ends in one intact chain
(the sealer links what the after-commit passes left)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from invoiceportal.audit import services as audit
from invoiceportal.audit.models import AuditChainHead, AuditEntry
from invoiceportal.audit.services import (
    audit_record,
    audit_seal,
    audit_unsealed,
    audit_verify_chain,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent writers need PostgreSQL (SQLite serialises every writer)",
    ),
]


@pytest.fixture(autouse=True)
def _deferred(settings, tmp_path, monkeypatch):
    settings.AUDIT_SEAL_INLINE = False
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 0
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    monkeypatch.setattr(audit, "_last_seal", float("-inf"))


def record(action="test.event", **data):
    with transaction.atomic():
        return audit_record(actor=None, action=action, data=data)


def in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_concurrent_writers_end_in_one_intact_chain():
    record(first=True)  # the head row exists
    errors: list[Exception] = []
    writers, each = 8, 15

    def write(n):
        for i in range(each):
            with transaction.atomic():
                audit_record(actor=None, action="test.a", data={"w": n, "i": i})
                audit_record(actor=None, action="test.b", data={"w": n, "i": i})

    threads = [in_thread(lambda n=n: write(n), errors) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    total = 1 + writers * each * 2
    left = len(audit_unsealed())
    # The after-commit passes linked entries as they went (a pass that found the
    # head busy left its entries to the next one): most are sealed already.
    assert left <= total // 2, (left, total)
    # A commit while nobody seals: its own pass links everything committed before.
    record(last=True)
    total += 1
    assert audit_unsealed() == []
    assert audit_seal() == 0
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == (
        list(range(1, total + 1))
    )
    assert AuditChainHead.objects.get().seq == total
    report = audit_verify_chain()
    assert report.ok, report.reason
    assert report.checked == total


def test_a_commit_does_not_wait_while_another_holds_the_head():
    record(first=True)
    locked, errors = threading.Event(), []

    def hold():
        with transaction.atomic():
            AuditChainHead.objects.select_for_update().get(pk=1)
            locked.set()
            time.sleep(1.5)

    holder = in_thread(hold, errors)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    entry = record(second=True)
    waited = time.monotonic() - started
    assert waited < 0.75  # it returned while the head was still held
    assert AuditEntry.all_rows.get(pk=entry.pk).seq is None
    holder.join(10)
    assert not errors, errors
    assert audit_seal() == 1
    assert AuditEntry.objects.get(pk=entry.pk).seq == 2
    assert audit_verify_chain().ok


def test_a_process_seals_at_most_once_per_interval(settings):
    settings.AUDIT_SEAL_INTERVAL_SECONDS = 60
    first = record(n=1)
    second = record(n=2)
    assert AuditEntry.all_rows.get(pk=first.pk).seq == 1  # sealed after its commit
    assert AuditEntry.all_rows.get(pk=second.pk).seq is None  # within the interval
    assert audit_seal() == 1
    assert AuditEntry.objects.get(pk=second.pk).seq == 2
    assert audit_verify_chain().ok


def test_the_first_entry_ever_creates_the_head_after_its_commit():
    assert not AuditChainHead.objects.exists()
    entry = record(first=True)
    assert AuditEntry.objects.get(pk=entry.pk).seq == 1
    assert AuditChainHead.objects.get().seq == 1
