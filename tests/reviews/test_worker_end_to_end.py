"""Upload through the API, screening in a real django-q2 worker process, the decision
read back from the database."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.conf import Conf

from invoiceportal.invoices.models import Invoice
from reviews.models import RegistryRecord
from reviews.rules import rule_update
from tests.conftest import api_as
from tests.docgen.registry import clean_digital_invoice, registry_row
from tests.docgen.xml_doc import make_xml
from tests.worker import running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued_tasks(monkeypatch):
    """Tasks go to the broker, for the worker, instead of running inline."""
    monkeypatch.setattr(Conf, "SYNC", False)


def clean_invoice(org, seed):
    return clean_digital_invoice(seed, buyer_name=org.name, buyer_tax_id=org.tax_id)


def upload(user, data, name):
    return api_as(user).post(
        "/api/v1/invoices/",
        {"file": SimpleUploadedFile(name, data, content_type="application/xml")},
        format="multipart",
    )


def test_worker_screens_uploads_to_their_decisions(queued_tasks, submitter, admin_user):
    org = submitter.organization
    rule_update(
        actor=admin_user,
        code="audit.sample",
        params={"rate": "0"},
        change_note="no random sample in this test",
    )
    matching = clean_invoice(org, 1)
    RegistryRecord.objects.create(**registry_row(matching))
    voided = clean_invoice(org, 2)
    RegistryRecord.objects.create(**registry_row(voided, status="void"))
    unknown = clean_invoice(org, 3)

    with running_worker():
        ids = {
            label: upload(submitter, make_xml(inv), f"{label}.xml").json()["id"]
            for label, inv in (("ok", matching), ("void", voided), ("new", unknown))
        }
        decided = wait_for(
            lambda: (
                not Invoice.objects.filter(
                    pk__in=ids.values(), status__in=["received", "screening"]
                ).exists()
            ),
            timeout=60,
        )
    assert decided, list(Invoice.objects.values_list("reference", "status"))
    routes = {label: Invoice.objects.get(pk=pk).status for label, pk in ids.items()}
    fails = list(
        Invoice.objects.get(pk=ids["ok"])
        .check_results.filter(outcome="fail")
        .values_list("rule_code", "message_en")
    )
    assert routes == {"ok": "approved", "void": "rejected", "new": "in_review"}, fails
    approved = Invoice.objects.get(pk=ids["ok"])
    assert approved.decision_source == "automatic"
    codes = list(approved.timeline.values_list("code", flat=True))
    assert codes == ["submitted", "screening_started", "auto_approved"]
