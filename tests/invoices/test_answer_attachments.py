"""Answers that carry evidence (issue 11): a submitter answers a reviewer's question
with files that are not invoices (a contract, an approval form). Accepted files are
stored and shown; a refused one is named, the typed answer stays in the form, and
nothing is stored or changed."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from invoiceportal.audit.models import AuditEntry
from invoiceportal.invoices.attachments import (
    AttachmentError,
    AttachmentFile,
    attachment_check,
)
from invoiceportal.invoices.models import AnswerAttachment, Invoice, TimelineEvent
from invoiceportal.invoices.status import InvoiceStatus
from tests.conftest import api_as
from tests.factories import UserFactory
from tests.invoices.attachment_files import HTML, image_bytes, pdf_bytes, zip_bytes
from tests.invoices.submitter.helpers import ask_for_info, make_invoice

pytestmark = pytest.mark.django_db

ANSWER = "合同编号 HT-2026-7，审批单见附件。"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def waiting(submitter: Any, reviewer: Any) -> Invoice:
    """An invoice whose reviewer asked the submitter for information."""
    return ask_for_info(make_invoice(submitter.organization, submitter), reviewer)


def upload(name: str, data: bytes, content_type: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type or "text/plain")


def stored_attachment_files(media: Path) -> list[Path]:
    folder = media / "attachments"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def snapshot(invoice: Invoice) -> tuple[Any, ...]:
    invoice.refresh_from_db()
    return (
        invoice.status,
        TimelineEvent.objects.filter(invoice=invoice).count(),
        AnswerAttachment.objects.filter(invoice=invoice).count(),
        AuditEntry.all_rows.filter(action="invoice.respond").count(),
    )


def respond_page(client: Any, invoice: Invoice, **data: Any) -> Any:
    return client.post(reverse("invoices:respond", args=[invoice.pk]), data)


# ----------------------------------------------------------------- accepted


def test_an_answer_with_a_pdf_and_a_png_is_stored_and_shown(
    client, submitter, waiting, _media
):
    pdf, png = pdf_bytes(), image_bytes("PNG")
    client.force_login(submitter)

    response = respond_page(
        client,
        waiting,
        message=ANSWER,
        attachments=[
            upload("采购合同.pdf", pdf, "application/pdf"),
            upload("审批单.png", png, "image/png"),
        ],
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == InvoiceStatus.IN_REVIEW
    answer = waiting.timeline.get(code="info_provided", note=ANSWER)
    rows = list(AnswerAttachment.objects.filter(invoice=waiting))
    assert [(r.original_name, r.content_type, r.size) for r in rows] == [
        ("采购合同.pdf", "application/pdf", len(pdf)),
        ("审批单.png", "image/png", len(png)),
    ]
    assert all(r.event_id == answer.pk and r.uploaded_by == submitter for r in rows)
    assert rows[0].sha256 == hashlib.sha256(pdf).hexdigest()
    assert len(stored_attachment_files(_media)) == 2
    audit = AuditEntry.all_rows.get(action="invoice.respond", object_id=waiting.pk)
    assert [a["name"] for a in audit.data["attachments"]] == [
        "采购合同.pdf",
        "审批单.png",
    ]
    # the submitter sees them on the timeline and downloads them as sent
    page = client.get(reverse("invoices:detail", args=[waiting.pk])).content.decode()
    assert "采购合同.pdf" in page and "审批单.png" in page
    url = reverse("invoices:attachment", args=[waiting.pk, rows[0].pk])
    assert url in page
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_answer_form_offers_several_supporting_files(client, submitter, waiting):
    client.force_login(submitter)
    page = client.get(reverse("invoices:detail", args=[waiting.pk])).content.decode()
    assert 'name="attachments"' in page and " multiple " in page
    assert "最多 5 个文件" in page  # the limit, in the reader's language


# ------------------------------------------------------------------ refused

REFUSED = {
    # zip bytes renamed .pdf
    "forged_pdf": (
        lambda: [upload("合同.pdf", zip_bytes(), "application/pdf")],
        "合同.pdf",
    ),
    # an HTML page named .png
    "html_as_png": (lambda: [upload("审批单.png", HTML, "image/png")], "审批单.png"),
    "empty": (lambda: [upload("空白.pdf", b"", "application/pdf")], "空白.pdf"),
    # over ANSWER_ATTACHMENT_MAX_BYTES (set to 4 KiB in the test)
    "oversize": (
        lambda: [upload("扫描件.pdf", pdf_bytes() + b"%" * 5000, "application/pdf")],
        "扫描件.pdf",
    ),
    # a sixth file
    "sixth_file": (
        lambda: [upload(f"附件{i}.pdf", pdf_bytes()) for i in range(1, 7)],
        "附件6.pdf",
    ),
    # a valid PDF first, then a forged one: the valid one is not kept either
    "good_then_forged": (
        lambda: [upload("好的.pdf", pdf_bytes()), upload("坏的.pdf", b"%PDF-1.7 junk")],
        "坏的.pdf",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_file_keeps_the_typed_answer_and_changes_nothing(
    case, client, submitter, waiting, settings, _media
):
    settings.ANSWER_ATTACHMENT_MAX_BYTES = 4096
    files, name = REFUSED[case]
    before = snapshot(waiting)
    client.force_login(submitter)

    response = respond_page(client, waiting, message=ANSWER, attachments=files())

    assert response.status_code == 200  # the page again, not a redirect
    page = response.content.decode()
    errors = page.split('id="respond-errors"', 1)[1].split("</div></div>", 1)[0]
    assert name in errors
    assert f">{ANSWER}</textarea>" in page
    assert snapshot(waiting) == before
    assert waiting.status == InvoiceStatus.NEEDS_INFO
    assert stored_attachment_files(_media) == []


def test_refusals_say_what_was_wrong_in_the_readers_language(
    client, submitter, waiting, settings
):
    settings.ANSWER_ATTACHMENT_MAX_BYTES = 4096
    client.force_login(submitter)
    cases = {
        "合同.pdf": (zip_bytes(), "不是 PDF、JPEG 或 PNG 文件"),
        "空白.pdf": (b"", "是空文件"),
        "扫描件.pdf": (pdf_bytes() + b"%" * 5000, "超过了每个文件"),
        "照片.jpg": (image_bytes("PNG"), "内容与文件名不符"),
    }
    for name, (data, words) in cases.items():
        page = respond_page(
            client, waiting, message=ANSWER, attachments=[upload(name, data)]
        ).content.decode()
        assert f"{name}" in page and words in page, name


def test_a_file_refused_after_storing_leaves_no_file_behind(
    client, submitter, reviewer, _media
):
    """The files are stored before the transaction; when the answer then fails
    (nobody is waiting for one any more), they are deleted again."""
    invoice = make_invoice(submitter.organization, submitter)
    from tests.invoices.submitter.helpers import to_review

    to_review(invoice)
    client.force_login(submitter)

    response = respond_page(
        client, invoice, message=ANSWER, attachments=[upload("合同.pdf", pdf_bytes())]
    )

    assert response.status_code == 302  # no answer form on the page: a message
    assert not AnswerAttachment.objects.exists()
    assert stored_attachment_files(_media) == []


def test_an_answer_without_text_keeps_nothing_and_shows_the_form(
    client, submitter, waiting, _media
):
    client.force_login(submitter)
    response = respond_page(
        client, waiting, message="", attachments=[upload("合同.pdf", pdf_bytes())]
    )
    assert response.status_code == 200
    assert 'id="respond-errors"' in response.content.decode()
    assert not AnswerAttachment.objects.exists()
    waiting.refresh_from_db()
    assert waiting.status == InvoiceStatus.NEEDS_INFO


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.pdf", "合同\u202egpj.pdf", "C:\\temp\\a.pdf", "a\x00.pdf"],
)
def test_hostile_file_names_end_up_as_plain_names(
    client, submitter, waiting, name, _media
):
    client.force_login(submitter)
    respond_page(
        client, waiting, message=ANSWER, attachments=[upload(name, pdf_bytes())]
    )
    item = AnswerAttachment.objects.get()
    assert item.original_name.endswith(".pdf")
    assert not set(item.original_name) & {"/", "\\", "\u202e", "\x00"}
    # the stored file's name is ours, never the sender's
    stored = Path(item.file.path)
    assert stored.is_relative_to(_media / "attachments")
    assert stored.name.startswith(str(waiting.pk))


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.pdf", "合同\u202egpj.pdf", "C:\\temp\\a.pdf", "a\x00.pdf", ""],
)
def test_the_check_itself_refuses_hostile_names_and_names_them_safely(name):
    with pytest.raises(AttachmentError) as refused:
        attachment_check(AttachmentFile(pdf_bytes(), name))
    assert refused.value.details["reason"] == "bad_filename"
    shown = refused.value.details["file"]
    assert shown and not set(shown) & {"/", "\\", "\u202e", "\x00"}


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's
    shape), with a valid header checksum."""
    png = bytearray(image_bytes("PNG", (1, 1)))
    ihdr = png.index(b"IHDR")
    png[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(png[ihdr : ihdr + 17])) & 0xFFFFFFFF
    png[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(png)


@pytest.mark.parametrize(
    "name,data",
    [
        ("炸弹.png", _png_claiming(20000, 20000)),  # past Pillow's own bound
        ("大图.png", _png_claiming(8000, 8000)),  # past ours (40 megapixels)
        ("截断.png", image_bytes("PNG", (200, 200))[:-40]),
        ("截断.jpg", image_bytes("JPEG", (200, 200))[:300]),
        ("坏的.pdf", b"%PDF-1.7\n" + b"x" * 200 + b"\n%%EOF\n"),
        ("伪装.jpg", b"\xff\xd8\xff" + HTML),
    ],
)
def test_damaged_and_bomb_images_and_pdfs_are_refused(
    client, submitter, waiting, name, data
):
    client.force_login(submitter)
    page = respond_page(
        client, waiting, message=ANSWER, attachments=[upload(name, data)]
    ).content.decode()
    assert name in page.split('id="respond-errors"', 1)[1]
    assert not AnswerAttachment.objects.exists()


def test_a_jpeg_is_accepted(client, submitter, waiting):
    client.force_login(submitter)
    response = respond_page(
        client,
        waiting,
        message=ANSWER,
        attachments=[upload("现场照片.jpeg", image_bytes("JPEG", (300, 200)))],
    )
    assert response.status_code == 302
    assert AnswerAttachment.objects.get().content_type == "image/jpeg"


# ----------------------------------------------------------------------- API


def test_the_api_takes_attachments_and_lists_them(submitter, waiting, _media):
    client = api_as(submitter)
    pdf = pdf_bytes()
    url = reverse("api:invoice-respond", args=[waiting.pk])

    response = client.post(
        url,
        {
            "message": ANSWER,
            "attachments": [
                upload("合同.pdf", pdf),
                upload("审批单.png", image_bytes()),
            ],
        },
        format="multipart",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == InvoiceStatus.IN_REVIEW
    assert [(a["name"], a["content_type"]) for a in body["attachments"]] == [
        ("合同.pdf", "application/pdf"),
        ("审批单.png", "image/png"),
    ]
    first = body["attachments"][0]
    assert first["size"] == len(pdf)
    assert first["sha256"] == hashlib.sha256(pdf).hexdigest()
    # existing fields unchanged, the new one added
    for key in ("id", "reference", "timeline", "lines", "checks", "corrected_fields"):
        assert key in body
    download = client.get(first["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    detail = client.get(reverse("api:invoice-detail", args=[waiting.pk])).json()
    assert detail["attachments"] == body["attachments"]


def test_the_api_refuses_a_forged_file_with_a_400_naming_it(submitter, waiting, _media):
    before = snapshot(waiting)
    response = api_as(submitter).post(
        reverse("api:invoice-respond", args=[waiting.pk]),
        {
            "message": ANSWER,
            "attachments": [
                upload("合同.pdf", pdf_bytes()),
                upload("发票.pdf", zip_bytes()),
            ],
        },
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "attachment_refused"
    assert body["details"]["file"] == "发票.pdf"
    assert "发票.pdf" in body["message"]
    assert snapshot(waiting) == before
    assert stored_attachment_files(_media) == []


def test_the_api_refuses_a_sixth_file(submitter, waiting):
    response = api_as(submitter).post(
        reverse("api:invoice-respond", args=[waiting.pk]),
        {
            "message": ANSWER,
            "attachments": [upload(f"附件{i}.pdf", pdf_bytes()) for i in range(6)],
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_attachments"
    assert not AnswerAttachment.objects.exists()


def test_the_api_answer_without_attachments_still_works_as_before(submitter, waiting):
    response = api_as(submitter).post(
        reverse("api:invoice-respond", args=[waiting.pk]),
        {"message": ANSWER},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["attachments"] == []


# -------------------------------------------------------------------- access


@pytest.fixture
def answered(client, submitter, waiting) -> AnswerAttachment:
    client.force_login(submitter)
    respond_page(
        client, waiting, message=ANSWER, attachments=[upload("合同.pdf", pdf_bytes())]
    )
    client.logout()
    return AnswerAttachment.objects.get()


def _get(client: Any, user: Any, item: AnswerAttachment) -> int:
    client.force_login(user)
    return client.get(
        reverse("invoices:attachment", args=[item.invoice_id, item.pk])
    ).status_code


def test_only_the_organization_and_the_review_staff_download(
    client, answered, submitter, reviewer, supervisor, other_organization, admin_user
):
    org = submitter.organization
    colleague = UserFactory(role="submitter", organization=org)
    other_submitter = UserFactory(role="submitter", organization=other_organization)
    own_org_reviewer = UserFactory(role="reviewer", organization=org)
    own_org_supervisor = UserFactory(role="supervisor", organization=org)

    assert _get(client, colleague, answered) == 200
    assert _get(client, reviewer, answered) == 200
    assert _get(client, supervisor, answered) == 200
    assert _get(client, other_submitter, answered) == 404
    assert _get(client, own_org_reviewer, answered) == 404
    assert _get(client, own_org_supervisor, answered) == 403
    assert _get(client, admin_user, answered) == 403
    client.logout()
    url = reverse("invoices:attachment", args=[answered.invoice_id, answered.pk])
    assert client.get(url).status_code == 302  # sign in first


def test_an_attachment_is_only_found_under_its_own_invoice(client, answered, submitter):
    other = make_invoice(submitter.organization, submitter)
    client.force_login(submitter)
    url = reverse("invoices:attachment", args=[other.pk, answered.pk])
    assert client.get(url).status_code == 404


def test_the_api_download_follows_the_same_rule(
    answered, other_organization, submitter
):
    url = reverse("api:invoice-attachment", args=[answered.invoice_id, answered.pk])
    other = UserFactory(role="submitter", organization=other_organization)
    own_org_reviewer = UserFactory(role="reviewer", organization=submitter.organization)
    assert api_as(other).get(url).status_code == 404
    assert api_as(own_org_reviewer).get(url).status_code == 404
    assert api_as(submitter).get(url).status_code == 200
