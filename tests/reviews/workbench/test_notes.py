"""Internal notes between reviewers and supervisors: written and listed on the task
page, never shown to the submitter by any path (invoice page, status fragment, API,
notifications)."""

from __future__ import annotations

import pytest

from invoiceportal.audit.models import AuditEntry
from invoiceportal.common.errors import PermissionDeniedError
from reviews.workbench.models import ReviewNote
from reviews.workbench.services import InvalidValueError, review_note_add
from tests.conftest import api_as
from tests.docgen.pdf_doc import make_pdf

from .test_rendering import workbench_html

SECRET = "卖方曾被举报虚开，请主管复核"


@pytest.fixture
def task(submit_doc, truth, claimed):
    _invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    return claimed(task)


def test_reviewer_and_supervisor_notes_are_listed_in_order(
    task, reviewer, supervisor
) -> None:
    review_note_add(actor=reviewer, task_id=task.pk, body=SECRET)
    review_note_add(actor=supervisor, task_id=task.pk, body="已核实，继续审核")
    html = workbench_html(task, reviewer)
    assert html.index(SECRET) < html.index("已核实，继续审核")
    assert reviewer.get_username() in html and supervisor.get_username() in html
    entries = AuditEntry.objects.filter(action="invoice.internal_note").order_by("seq")
    assert [e.actor_id for e in entries] == [reviewer.pk, supervisor.pk]
    assert all(SECRET not in str(e.data) for e in entries)


def test_empty_note_and_own_organization_staff_are_refused(
    task, reviewer, own_org_supervisor
) -> None:
    with pytest.raises(InvalidValueError):
        review_note_add(actor=reviewer, task_id=task.pk, body="   ")
    with pytest.raises(PermissionDeniedError):
        review_note_add(actor=own_org_supervisor, task_id=task.pk, body="x")
    assert not ReviewNote.objects.exists()


def test_note_form_posts_with_htmx_and_without(task, reviewer, client) -> None:
    client.force_login(reviewer)
    url = f"/reviews/tasks/{task.pk}/notes/"
    swapped = client.post(url, {"body": SECRET}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200
    assert 'id="workbench-notes"' in swapped.content.decode()
    assert SECRET in swapped.content.decode()
    empty = client.post(url, {"body": ""}, HTTP_HX_REQUEST="true")
    assert 'id="note-error"' in empty.content.decode()
    plain = client.post(url, {"body": "第二条"})
    assert plain.status_code == 302
    assert plain.url == f"/reviews/tasks/{task.pk}/#workbench-notes"
    assert ReviewNote.objects.count() == 2


def test_notes_never_reach_the_submitter(task, reviewer, submitter, client) -> None:
    review_note_add(actor=reviewer, task_id=task.pk, body=SECRET)
    invoice = task.invoice
    client.force_login(submitter)
    for url in (
        f"/invoices/{invoice.pk}/",
        f"/invoices/{invoice.pk}/status/",
        "/invoices/",
        "/notifications/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    api = api_as(submitter).get(f"/api/v1/invoices/{invoice.pk}/")
    assert api.status_code == 200
    assert SECRET not in api.content.decode()
    assert SECRET not in str(list(submitter.notifications.values()))
