"""The task page carries the workbench: document pages, fields with boxes, the
correction form for the claimant, and notes; its query count does not grow with the
number of pages."""

from __future__ import annotations

from reviews.workbench.services import invoice_field_correct
from tests.docgen.pdf_doc import make_pdf

from .conftest import many_lines


def test_task_page_shows_the_workbench(
    submit_doc, truth, claimed, reviewer, client, organization
) -> None:
    _invoice, task = submit_doc(make_pdf(many_lines(truth), pages=3), "invoice.pdf")
    claimed(task)
    client.force_login(reviewer)
    response = client.get(f"/reviews/tasks/{task.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="wb-page-img"') == 3
    assert 'id="correction-form"' in html and 'id="note-form"' in html
    assert 'id="decision-form"' in html
    assert "/static/js/workbench.js" in html and "/static/css/workbench.css" in html
    assert "<script>" not in html.replace("<script src", "")  # no inline script


def test_correction_shows_on_the_task_page_timeline_and_checks(
    submit_doc, truth, claimed, reviewer, client, organization
) -> None:
    truth.buyer_name = organization.name[:-1] + "词"
    invoice, task = submit_doc(make_pdf(truth), "invoice.pdf")
    claimed(task)
    client.force_login(reviewer)
    before = client.get(f"/reviews/tasks/{task.pk}/").content.decode()
    assert 'data-rule="parties.buyer_name"' in before
    attention = before[
        before.index('id="checks"') : before.index("</ul>", before.index('id="checks"'))
    ]
    assert "parties.buyer_name" in attention
    invoice_field_correct(
        actor=reviewer,
        task_id=task.pk,
        field="buyer_name",
        value=organization.name,
        reason="原件清晰",
    )
    after = client.get(f"/reviews/tasks/{task.pk}/").content.decode()
    attention = after[
        after.index('id="checks"') : after.index("</ul>", after.index('id="checks"'))
    ]
    assert "parties.buyer_name" not in attention
    assert "原件清晰" in after  # the reason, on the staff timeline
    assert (
        f"审核人员将购买方名称由“{invoice.buyer_name}”更正为“{organization.name}”"
        in after
    )
