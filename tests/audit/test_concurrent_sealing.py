"""After-commit sealing under concurrent writers (issue 14, bench_claims): a commit
does not queue for the chain head behind other sealers, and still never leaves its
entries out of the chain."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from invoiceportal.audit.models import AuditChainHead, AuditEntry
from invoiceportal.audit.services import (
    audit_record,
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
def _deferred(settings, tmp_path):
    settings.AUDIT_SEAL_INLINE = False
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"


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


def test_concurrent_writers_leave_every_entry_sealed_in_one_intact_chain():
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
    # every change returned only once its entries were sealed, by itself or another
    assert audit_unsealed() == []
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == (
        list(range(1, total + 1))
    )
    assert AuditChainHead.objects.get().seq == total
    report = audit_verify_chain()
    assert report.ok, report.reason
    assert report.checked == total


def test_a_commit_while_another_holds_the_head_without_sealing_is_still_sealed():
    """The holder never seals the new entry: the commit waits for the lock to come
    free and seals it itself before returning."""
    record(first=True)
    locked, errors = threading.Event(), []

    def hold():
        with transaction.atomic():
            AuditChainHead.objects.select_for_update().get(pk=1)
            locked.set()
            time.sleep(0.5)

    holder = in_thread(hold, errors)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    entry = record(second=True)
    waited = time.monotonic() - started
    holder.join(10)
    assert not errors, errors
    assert AuditEntry.objects.get(pk=entry.pk).seq == 2
    assert waited >= 0.3  # it did wait for the holder, not give up
    assert audit_verify_chain().ok
