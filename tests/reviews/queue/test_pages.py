"""The queue, task and board pages: content, actions, and query counts that do not
grow with the length of the queue."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoiceportal.invoices.models import Document
from invoiceportal.invoices.status import InvoiceStatus
from reviews.models import CheckResult, ReviewTask, TaskState
from reviews.queue.services import review_task_claim_next

pytestmark = pytest.mark.usefixtures("no_four_eyes")

QUEUE = "/reviews/queue/"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def queries(client, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_queue_page_lists_tasks_with_countdowns(client, make_task, reviewer) -> None:
    task = make_task()
    client.force_login(reviewer)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert '<h1 class="h3 mb-0">审核队列</h1>' in html
    assert task.invoice.reference in html
    # 16 business hours = 57600 s remaining, not yet at the 75 % warning.
    assert 'data-remaining="57600"' in html
    assert "sla-ok" in html
    assert 'data-count="queued">1<' in html


def test_queue_page_queries_do_not_grow_with_the_queue(
    client, make_task, reviewer, django_assert_max_num_queries
) -> None:
    for _ in range(3):
        make_task()
    client.force_login(reviewer)
    client.get(QUEUE)  # warm the calendar cache
    small, _response = queries(client, QUEUE)
    for i in range(40):
        make_task(total_amount=Decimal(1000 + i))
    large, response = queries(client, QUEUE)
    assert small == large
    assert response.content.decode().count('<tr data-task="') == 43
    with django_assert_max_num_queries(12):
        client.get(QUEUE + "?page=1&priority=normal&breaching=false")


def test_queue_filters(client, make_task, reviewer, organization) -> None:
    cheap = make_task(total_amount=Decimal("100.00"), kind="e_ordinary")
    dear = make_task(total_amount=Decimal("9000.00"))
    client.force_login(reviewer)

    def shown(query: str) -> set[int]:
        html = client.get(QUEUE + query).content.decode()
        return {t.pk for t in (cheap, dear) if f'data-task="{t.pk}"' in html}

    assert shown("") == {cheap.pk, dear.pk}
    assert shown("?amount_min=1000") == {dear.pk}
    assert shown("?amount_max=1000") == {cheap.pk}
    assert shown("?kind=e_ordinary") == {cheap.pk}
    assert shown(f"?organization={organization.pk}") == {cheap.pk, dear.pk}
    assert shown("?stage=second") == set()
    assert shown("?breaching=true") == set()


def test_claim_next_button_opens_the_task(
    client, make_task, reviewer, two_claims
) -> None:
    task = make_task()
    client.force_login(reviewer)
    response = client.post("/reviews/claim-next/")
    assert response.status_code == 302
    assert response.url == f"/reviews/tasks/{task.pk}/"
    empty = client.post("/reviews/claim-next/", follow=True)
    assert empty.redirect_chain == [("/reviews/queue/", 302)]
    assert "没有可领取的任务：您的审核队列为空。" in empty.content.decode()


def _document(task: ReviewTask, fmt: str = "pdf") -> Document:
    content = b"%PDF-1.4 test" if fmt == "pdf" else b"<xml/>"
    return Document.objects.create(
        invoice=task.invoice,
        file=ContentFile(content, name=f"invoice.{fmt}"),
        original_name=f"invoice.{fmt}",
        content_type="application/pdf" if fmt == "pdf" else "application/xml",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        format=fmt,
        extractor=fmt,
        field_readings={
            "total_amount": {"source": "pdf_text", "confidence": 0.62},
            "number": {"source": "pdf_text", "confidence": 0.99},
        },
    )


def test_a_failed_check_gives_its_advice_once(client, make_task, reviewer) -> None:
    """A failure's message already ends with what to do; the rule's general advice
    is not printed under it a second time (seen on the workbench)."""
    from reviews.checks.base import failed
    from reviews.checks.catalog import RULES_BY_CODE

    task = make_task()
    _document(task)
    outcome = failed(
        problem_zh="税务机关的发票登记中查无此票。",
        fix_zh="请核对发票号码、日期和金额。",
        problem_en="The invoice was not found in the tax authority's registry.",
        fix_en="Check the number, date and amounts.",
    )
    CheckResult.objects.create(
        invoice=task.invoice,
        rule_code="registry.match",
        rule_version=1,
        outcome="fail",
        action="review",
        message_zh=outcome.message_zh,
        message_en=outcome.message_en,
    )
    client.force_login(reviewer)
    html = client.get(f"/reviews/tasks/{task.pk}/").content.decode()
    assert html.count("请核对发票号码、日期和金额。") == 1
    assert RULES_BY_CODE["registry.match"].how_to_fix_zh not in html


def test_task_page_has_everything_to_decide(
    client, make_task, reviewer, django_assert_max_num_queries
) -> None:
    task = make_task()
    _document(task)
    CheckResult.objects.create(
        invoice=task.invoice,
        rule_code="registry.match",
        rule_version=1,
        outcome="fail",
        action="review",
        message_zh="查验平台中没有这张发票。",
        message_en="Not found in the registry.",
    )
    CheckResult.objects.create(
        invoice=task.invoice,
        rule_code="arithmetic.total",
        rule_version=1,
        outcome="pass",
        message_zh="金额正确。",
    )
    review_task_claim_next(user=reviewer)
    client.force_login(reviewer)

    with django_assert_max_num_queries(30):
        response = client.get(f"/reviews/tasks/{task.pk}/")

    html = response.content.decode()
    # The workbench shows the document (the old "Original document" card is gone).
    assert 'id="workbench" data-kind="pdf"' in html
    assert f'href="/reviews/tasks/{task.pk}/document/"' in html
    assert 'id="document-pdf"' not in html
    assert 'id="decision-form"' in html
    # Failures first; passed checks collapsed under their count.
    assert html.index("查验平台中没有这张发票") < html.index('id="checks-passed"')
    assert "1 项检查通过" in html
    assert "金额正确" not in html  # a pass shows its title only
    assert "62%" in html  # the least sure field
    assert 'data-timer="due"' in html and 'data-timer="lease"' in html
    assert 'data-timer="warn"' in html
    document = client.get(f"/reviews/tasks/{task.pk}/document/")
    assert document.status_code == 200
    assert document["Content-Type"] == "application/pdf"
    assert document["X-Frame-Options"] == "SAMEORIGIN"


def test_task_page_queries_do_not_grow_with_history(
    client, make_task, reviewer, organization, submitter
) -> None:
    task = make_task()
    _document(task, "xml")
    client.force_login(reviewer)
    client.get(f"/reviews/tasks/{task.pk}/")
    before, _r = queries(client, f"/reviews/tasks/{task.pk}/")
    from .conftest import make_invoice

    for _ in range(8):
        make_invoice(organization, submitter, status=InvoiceStatus.APPROVED)
    after, response = queries(client, f"/reviews/tasks/{task.pk}/")
    assert before == after
    html = response.content.decode()
    assert 'id="workbench" data-kind="xml"' in html and 'id="wb-xml"' in html
    assert 'id="document-rendered"' not in html


def test_decide_from_the_page_goes_straight_to_the_next_task(
    client, make_task, reviewer
) -> None:
    first = make_task()
    second = make_task()
    client.force_login(reviewer)
    client.post("/reviews/claim-next/")

    response = client.post(
        f"/reviews/tasks/{first.pk}/decide/",
        {"decision": "approve", "comment": "", "next": "on"},
    )

    assert response.status_code == 302
    assert response.url == f"/reviews/tasks/{second.pk}/"
    first.refresh_from_db()
    assert first.state == TaskState.DONE
    bad = client.post(f"/reviews/tasks/{second.pk}/decide/", {"decision": "reject"})
    assert bad.status_code == 400
    assert bad.context["form"].non_field_errors() == ["驳回时须从列表中选择原因。"]
    assert "驳回时须从列表中选择原因。" in bad.content.decode()


def test_heartbeat_and_release_from_the_page(client, make_task, reviewer) -> None:
    task = make_task()
    client.force_login(reviewer)
    client.post("/reviews/claim-next/")
    assert client.post(f"/reviews/tasks/{task.pk}/heartbeat/").status_code == 204
    assert client.post(f"/reviews/tasks/{task.pk}/release/").status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.QUEUED
    assert client.post(f"/reviews/tasks/{task.pk}/heartbeat/").status_code == 409


def test_board_and_bulk_actions(
    client, make_task, supervisor, reviewer, django_assert_max_num_queries
) -> None:
    tasks = [make_task() for _ in range(3)]
    review_task_claim_next(user=reviewer)
    client.force_login(supervisor)
    with django_assert_max_num_queries(20):
        response = client.get("/reviews/board/")
    html = response.content.decode()
    assert reviewer.username in html
    assert 'id="held"' in html

    response = client.post(
        "/reviews/board/bulk/",
        {
            "action": "reassign",
            "to_user": reviewer.pk,
            "tasks": [t.pk for t in tasks],
        },
    )
    assert response.status_code == 302
    assert set(
        ReviewTask.objects.filter(pk__in=[t.pk for t in tasks]).values_list(
            "assigned_to", flat=True
        )
    ) == {reviewer.pk}
    client.post(
        "/reviews/board/bulk/",
        {"action": "priority", "priority": 2, "tasks": [tasks[0].pk]},
    )
    assert ReviewTask.objects.get(pk=tasks[0].pk).priority == 2
    client.post("/reviews/board/bulk/", {"action": "release", "tasks": [tasks[1].pk]})
    assert ReviewTask.objects.get(pk=tasks[1].pk).state == TaskState.QUEUED


def test_reviewers_cannot_open_the_board_nor_submitters_the_queue(
    client, reviewer, submitter
) -> None:
    client.force_login(reviewer)
    assert client.get("/reviews/board/").status_code == 403
    client.force_login(submitter)
    assert client.get(QUEUE).status_code == 403
