"""Simultaneous submissions on PostgreSQL: the database constraints decide, so the
same file or the same invoice is stored once, whoever wins the race."""

import re
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from invoiceportal.invoices.intake import invoice_submit_file
from invoiceportal.invoices.models import Document, Invoice, ReferenceCounter
from tests.docgen.ofd_doc import make_ofd
from tests.docgen.registry import clean_digital_invoice
from tests.docgen.xml_doc import make_xml

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="races need PostgreSQL's row locks and concurrent writers "
        "(CI runs them; set DATABASE_URL=postgres://...)",
    ),
]


def race(submissions):
    """Run each (user, data, name) at the same moment; return results or errors."""
    barrier = threading.Barrier(len(submissions))
    outcomes = [None] * len(submissions)

    def run(i, user, data, name):
        try:
            barrier.wait()
            outcomes[i] = invoice_submit_file(user=user, data=data, filename=name)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, *s)) for i, s in enumerate(submissions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def invoice_for(org, seed):
    return clean_digital_invoice(seed, buyer_name=org.name, buyer_tax_id=org.tax_id)


def test_eight_simultaneous_uploads_of_one_file_store_it_once(submitter):
    data = make_xml(invoice_for(submitter.organization, 1))
    outcomes = race([(submitter, data, f"copy{i}.xml") for i in range(8)])
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert Invoice.objects.count() == 1
    assert Document.objects.count() == 1
    assert {o.invoice.pk for o in outcomes} == {Invoice.objects.get().pk}
    assert sum(o.created for o in outcomes) == 1


def test_the_same_invoice_as_xml_and_ofd_at_once_is_stored_once(submitter):
    truth = invoice_for(submitter.organization, 2)
    outcomes = race(
        [
            (submitter, make_xml(truth), "a.xml"),
            (submitter, make_ofd(truth), "a.ofd"),
            (submitter, make_xml(truth, variant=1), "b.xml"),
            (submitter, make_ofd(truth, layout=1), "b.ofd"),
        ]
    )
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert Invoice.objects.filter(identity=truth.identity).count() == 1
    created = [o for o in outcomes if o.created]
    assert len(created) == 1
    assert {o.outcome for o in outcomes if not o.created} <= {"duplicate"}


# --- issue 15: references from a sequence, the file written before the transaction ---


def stored_files() -> list[str]:
    from django.core.files.storage import default_storage

    names = []
    for year in default_storage.listdir("documents")[0]:
        for month in default_storage.listdir(f"documents/{year}")[0]:
            names += default_storage.listdir(f"documents/{year}/{month}")[1]
    return names


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "documents").mkdir(parents=True)
    return tmp_path / "media"


def test_simultaneous_uploads_of_different_invoices_get_distinct_references(
    submitter, media
):
    org = submitter.organization
    outcomes = race(
        [(submitter, make_xml(invoice_for(org, 100 + i)), f"{i}.xml") for i in range(8)]
    )
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    references = [o.invoice.reference for o in outcomes]
    assert len(set(references)) == 8
    assert all(re.fullmatch(r"INV-\d{4}-\d{6}", r) for r in references), references
    assert len(stored_files()) == 8


def test_the_losers_of_a_race_leave_no_file_behind(submitter, media):
    """Each upload writes its file before its transaction; the seven whose
    transaction fails (the same file, stored once) delete theirs again."""
    data = make_xml(invoice_for(submitter.organization, 3))
    outcomes = race([(submitter, data, f"copy{i}.xml") for i in range(8)])
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert Invoice.objects.count() == 1
    assert stored_files() == [Path(Document.objects.get().file.name).name]


def test_an_upload_does_not_wait_for_the_reference_counter_row(submitter, media):
    """The defect: every upload locked the one ReferenceCounter row of the year
    (and kept it while the file was written and until commit)."""
    year = timezone.localdate().year
    ReferenceCounter.objects.get_or_create(year=year)
    locked, release = threading.Event(), threading.Event()

    def hold_counter():
        try:
            with transaction.atomic():
                ReferenceCounter.objects.select_for_update().get(year=year)
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_counter)
    holder.start()
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        result = invoice_submit_file(
            user=submitter,
            data=make_xml(invoice_for(submitter.organization, 4)),
            filename="a.xml",
        )
        assert result.created
    finally:
        release.set()
        holder.join(20)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
