"""Who may see a task's rendered pages: staff who may see the task and are not of
the submitter's organization. Everyone else gets 403 or 404, never the page."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.docgen.pdf_doc import make_pdf
from tests.factories import OrganizationFactory, UserFactory

from .test_rendering import PNG, page_url, workbench_html


@pytest.fixture
def task(submit_doc, truth, claimed):
    _invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    return claimed(task)


def test_reviewers_and_supervisors_of_other_organizations_see_the_pages(
    task, client, reviewer, supervisor
) -> None:
    other_reviewer = UserFactory(role=Role.REVIEWER, organization=OrganizationFactory())
    for user in (reviewer, supervisor, other_reviewer):
        client.force_login(user)
        response = client.get(page_url(task, 1))
        assert response.status_code == 200, user
        assert response.content.startswith(PNG)
        assert response["Cache-Control"] == "private, max-age=86400"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("submitter", 403),  # no review capability
        ("own_org_reviewer", 404),  # cannot see a task of their own organization
        ("own_org_supervisor", 403),  # sees the board, but separation refuses
        ("admin_user", 403),
    ],
)
def test_everyone_else_is_refused(task, client, request, who, status) -> None:
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(page_url(task, 1))
    assert response.status_code == status
    assert not response.content.startswith(PNG)


def test_anonymous_is_sent_to_sign_in(task, client) -> None:
    response = client.get(page_url(task, 1))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_missing_task_is_404(task, client, reviewer) -> None:
    client.force_login(reviewer)
    assert client.get(f"/reviews/tasks/{task.pk + 999}/page/").status_code == 404


def test_own_organization_supervisor_sees_no_document_or_notes_on_the_task_page(
    task, own_org_supervisor
) -> None:
    html = workbench_html(task, own_org_supervisor)
    assert 'id="workbench-refused"' in html
    assert "wb-page-img" not in html and "workbench-notes" not in html
