"""Simultaneous submissions on PostgreSQL: the database constraints decide, so the
same file or the same invoice is stored once, whoever wins the race."""

import threading

import pytest
from django.db import connection, connections

from invoiceportal.invoices.intake import invoice_submit_file
from invoiceportal.invoices.models import Document, Invoice
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
