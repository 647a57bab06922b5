"""The reviewer sees the files a submitter sent with an answer (issue 11) on the
task page, and downloads them; staff kept off the task by separation of duties do
not."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoiceportal.invoices.models import AnswerAttachment, Invoice
from reviews.models import ReviewTask
from tests.factories import UserFactory
from tests.invoices.attachment_files import image_bytes, pdf_bytes
from tests.invoices.submitter.helpers import ask_for_info, make_invoice

pytestmark = pytest.mark.django_db

PDF = pdf_bytes()
PNG = image_bytes("PNG", (64, 48))


@pytest.fixture
def answered(client: Any, submitter: Any, reviewer: Any) -> Invoice:
    """The reviewer asked; the submitter answered with a contract and a photo."""
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    client.force_login(submitter)
    response = client.post(
        reverse("invoices:respond", args=[invoice.pk]),
        {
            "message": "合同与现场照片见附件。",
            "attachments": [
                SimpleUploadedFile("采购合同.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("现场照片.png", PNG, "image/png"),
            ],
        },
    )
    assert response.status_code == 302
    client.logout()
    return invoice


def task_page(client: Any, user: Any, invoice: Invoice) -> Any:
    task = ReviewTask.objects.filter(invoice=invoice).order_by("-pk").first()
    client.force_login(user)
    return client.get(reverse("reviews:task", kwargs={"task_id": task.pk}))


def test_the_reviewer_sees_each_answers_files_and_downloads_them(
    client, answered, reviewer
):
    response = task_page(client, reviewer, answered)

    assert response.status_code == 200
    page = response.content.decode()
    card = page.split('id="answer-attachments"', 1)[1].split('id="checks"', 1)[0]
    assert "合同与现场照片见附件。" in card
    pdf_row, png_row = AnswerAttachment.objects.order_by("pk")
    for item in (pdf_row, png_row):
        assert item.original_name in card
        assert reverse("invoices:attachment", args=[answered.pk, item.pk]) in card
    assert "PDF" in card and "PNG" in card
    # the photo as a thumbnail, the PDF as a link
    preview = reverse("invoices:attachment", args=[answered.pk, png_row.pk])
    assert f'<img src="{preview}?preview=1"' in card
    assert (
        f'<img src="{reverse("invoices:attachment", args=[answered.pk, pdf_row.pk])}'
        not in card
    )

    download = client.get(
        reverse("invoices:attachment", args=[answered.pk, pdf_row.pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_an_image_preview_is_inline_and_a_pdf_never_is(client, answered, reviewer):
    client.force_login(reviewer)
    pdf_row, png_row = AnswerAttachment.objects.order_by("pk")
    image = client.get(
        reverse("invoices:attachment", args=[answered.pk, png_row.pk]) + "?preview=1"
    )
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    assert "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content) == PNG
    pdf = client.get(
        reverse("invoices:attachment", args=[answered.pk, pdf_row.pk]) + "?preview=1"
    )
    assert pdf["Content-Disposition"].startswith("attachment;")


def test_staff_of_the_submitters_organization_get_neither_list_nor_file(
    client, answered, submitter
):
    org = submitter.organization
    own_reviewer = UserFactory(role="reviewer", organization=org)
    own_supervisor = UserFactory(role="supervisor", organization=org)
    item = AnswerAttachment.objects.order_by("pk").first()
    url = reverse("invoices:attachment", args=[answered.pk, item.pk])

    assert task_page(client, own_reviewer, answered).status_code == 404
    assert client.get(url).status_code == 404

    page = task_page(client, own_supervisor, answered).content.decode()
    assert item.original_name not in page
    assert client.get(url).status_code == 403


def test_another_organizations_submitter_cannot_download(
    client, answered, other_organization
):
    other = UserFactory(role="submitter", organization=other_organization)
    client.force_login(other)
    for item in AnswerAttachment.objects.all():
        url = reverse("invoices:attachment", args=[answered.pk, item.pk])
        assert client.get(url).status_code == 404


def test_a_task_without_files_says_so(client, submitter, reviewer):
    invoice = ask_for_info(make_invoice(submitter.organization, submitter), reviewer)
    client.force_login(submitter)
    client.post(reverse("invoices:respond", args=[invoice.pk]), {"message": "见邮件。"})
    page = task_page(client, reviewer, invoice).content.decode()
    assert 'id="no-answer-attachments"' in page
    assert "提交人未在答复中附带文件。" in page


def test_the_task_page_reads_the_files_in_a_fixed_number_of_queries(
    client, answered, reviewer, django_assert_max_num_queries
):
    """One query for every file of every answer, not one per file."""
    task_page(client, reviewer, answered)  # warm the permission cache
    with django_assert_max_num_queries(200) as first:
        task_page(client, reviewer, answered)
    baseline = len(first.captured_queries)
    client.force_login(answered.submitted_by)
    # a second answer with three more files
    from tests.invoices.submitter.helpers import reviewer_decides

    reviewer_decides(answered, reviewer, "request_info", comment="还缺审批单。")
    client.post(
        reverse("invoices:respond", args=[answered.pk]),
        {
            "message": "审批单见附件。",
            "attachments": [
                SimpleUploadedFile(f"审批单{i}.pdf", PDF, "application/pdf")
                for i in range(3)
            ],
        },
    )
    task_page(client, reviewer, answered)
    with django_assert_max_num_queries(baseline + 1) as second:
        response = task_page(client, reviewer, answered)
    assert (
        response.content.decode().count(
            'class="d-flex align-items-center gap-2 mb-1 attachment"'
        )
        == 5
    )
    assert len(second.captured_queries) <= baseline + 1
