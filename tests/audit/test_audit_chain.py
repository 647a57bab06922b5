import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from invoiceportal.audit.models import AppendOnlyError, AuditEntry
from invoiceportal.audit.services import audit_record, audit_verify_chain

from .tamper import sql, triggers_off

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _checkpoints(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"


def record(n, actor=None):
    for i in range(n):
        with transaction.atomic():
            audit_record(
                actor=actor, action="test.event", data={"i": i, "amount": "1.00"}
            )


def test_entries_form_an_intact_chain(submitter):
    record(5, submitter)
    report = audit_verify_chain()
    assert report.ok
    assert report.checked == 5
    seqs = list(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]


def test_editing_an_entry_breaks_the_chain_at_that_entry(db):
    record(4)
    triggers_off()
    sql("UPDATE audit_auditentry SET data = '{\"i\": 99}' WHERE seq = 3")
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_bad_seq == 3
    with pytest.raises(CommandError, match="entry 3"):
        call_command("verify_audit_chain")


def test_deleting_the_last_entry_is_detected(db):
    record(3)
    triggers_off()
    AuditEntry.objects.filter(seq=3)._raw_delete(using="default")
    report = audit_verify_chain()
    assert (report.first_bad_seq, report.problem) == (3, "truncated")


def test_entries_cannot_be_changed_or_deleted_through_the_model(db):
    record(1)
    entry = AuditEntry.objects.get()
    entry.action = "forged"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_entries_cannot_be_changed_or_deleted_through_a_queryset(db):
    record(2)
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=2).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=2).delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [
        "test.event",
        "test.event",
    ]


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(actor=None, action="x")


def test_command_reports_an_intact_chain(db, capsys):
    record(2)
    call_command("verify_audit_chain")
    assert "2 entries" in capsys.readouterr().out
