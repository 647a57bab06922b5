"""Files a submitter sends with an answer to a reviewer's question (issue 11): a
contract, an approval form. They are evidence, never invoices: nothing reads their
fields. Accepted: PDF (it must open with pdfium) and JPEG or PNG images (verified by
Pillow, bounded in pixels); at most ``ANSWER_ATTACHMENT_MAX_FILES`` files of at most
``ANSWER_ATTACHMENT_MAX_BYTES`` each. Anything else is refused with a message that
names the file.

``attachments_check`` reads and judges the files before any transaction opens;
``attachments_store`` writes them through the documents' storage (a local disk or
an object store), and ``attachments_discard`` deletes them again when the answer's
transaction fails.
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
import unicodedata
import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from invoiceportal.common.errors import ApplicationError

from .extraction.errors import ExtractionError
from .extraction.pdf_reader import pdf_opens
from .extraction.sniff import check_filename
from .models import AnswerAttachment, Invoice, TimelineEvent

logger = logging.getLogger(__name__)

# An image attachment is decoded once to prove it is whole: at most this many
# pixels (a 24-megapixel photo passes; a decompression bomb does not).
MAX_IMAGE_PIXELS = 40_000_000
MAX_SHOWN_NAME = 80

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
# What each accepted kind may be called.
EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",)}
IMAGE_FORMATS = {"JPEG": JPEG, "MPO": JPEG, "PNG": PNG}


class AttachmentError(ApplicationError):
    """A file sent with an answer was refused; ``details`` names it."""

    status_code = 400
    default_code = "attachment_refused"


@dataclass(frozen=True)
class AttachmentFile:
    """A file as received (``data`` may stop one byte past the size limit)."""

    data: bytes
    filename: str
    content_type: str = ""


@dataclass(frozen=True)
class CheckedAttachment:
    data: bytes
    name: str
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type][0]


def attachment_from_upload(upload: Any) -> AttachmentFile:
    """An uploaded file (Django's ``UploadedFile``) read up to one byte past the
    limit: an oversized file is refused without holding all of it in memory."""
    upload.seek(0)
    data = upload.read(settings.ANSWER_ATTACHMENT_MAX_BYTES + 1)
    return AttachmentFile(data, upload.name or "", upload.content_type or "")


def shown_name(name: str) -> str:
    """The name as it may appear in a message: no control or direction characters,
    shortened."""
    clean = "".join(
        ch
        for ch in unicodedata.normalize("NFC", str(name or ""))
        if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip()
    clean = posixpath.basename(clean.replace("\\", "/")) or clean
    if len(clean) > MAX_SHOWN_NAME:
        clean = clean[: MAX_SHOWN_NAME - 1] + "…"
    return clean or str(_("(no name)"))


def _refuse(reason: str, message: Any, name: str, **details: Any) -> AttachmentError:
    return AttachmentError(message, details={"file": name, "reason": reason, **details})


def _kind(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def _image_format(data: bytes) -> str | None:
    """Pillow's format of a whole, decodable JPEG or PNG of at most
    ``MAX_IMAGE_PIXELS``; None otherwise (bombs, truncated or forged files)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                if fmt not in IMAGE_FORMATS:
                    return None
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    return None
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                if fmt == "JPEG" or fmt == "MPO":
                    # Decoded at 1/8 scale: every block is still read.
                    img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                img.load()
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        MemoryError,
    ):
        return None
    return fmt


def attachment_check(file: AttachmentFile) -> CheckedAttachment:
    """One file judged by its bytes (its name must agree); ``AttachmentError``
    naming the file when refused."""
    shown = shown_name(file.filename)
    try:
        name = check_filename(file.filename or "")
    except ExtractionError:
        raise _refuse(
            "bad_filename",
            _(
                "%(name)s: the file name is not acceptable. Rename the file and "
                "send it again."
            )
            % {"name": shown},
            shown,
        ) from None
    data = file.data
    limit = settings.ANSWER_ATTACHMENT_MAX_BYTES
    if not data:
        raise _refuse(
            "empty_file",
            _("%(name)s is empty. Send the file again.") % {"name": shown},
            shown,
        )
    if len(data) > limit:
        limit_mb = f"{limit / (1024 * 1024):g}"
        raise _refuse(
            "file_too_large",
            _("%(name)s is larger than the limit of %(limit_mb)s MB per file.")
            % {"name": shown, "limit_mb": limit_mb},
            shown,
            limit_bytes=limit,
        )
    kind = _kind(data)
    if kind is None:
        raise _refuse(
            "unsupported_type",
            _(
                "%(name)s is not a PDF, JPEG or PNG file. Only these can be sent "
                "with an answer."
            )
            % {"name": shown},
            shown,
        )
    if not name.lower().endswith(EXTENSIONS[kind]):
        raise _refuse(
            "content_type_mismatch",
            _(
                "%(name)s: the file's content does not match its name. Name a PDF "
                ".pdf, a JPEG .jpg and a PNG .png."
            )
            % {"name": shown},
            shown,
        )
    if kind == PDF:
        readable = pdf_opens(data)
    else:
        readable = IMAGE_FORMATS.get(_image_format(data) or "") == kind
    if not readable:
        raise _refuse(
            "unreadable_file",
            _(
                "%(name)s is damaged, protected by a password or too large an image "
                "and cannot be opened. Send a readable copy."
            )
            % {"name": shown},
            shown,
        )
    return CheckedAttachment(
        data=data,
        name=name,
        content_type=kind,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def attachments_check(files: Sequence[AttachmentFile]) -> list[CheckedAttachment]:
    """Every file checked, in order; the first refusal stops the answer."""
    allowed = settings.ANSWER_ATTACHMENT_MAX_FILES
    if len(files) > allowed:
        extra = ", ".join(shown_name(f.filename) for f in files[allowed:])
        raise AttachmentError(
            _(
                "At most %(count)s files can be sent with one answer; leave out "
                "%(names)s."
            )
            % {"count": allowed, "names": extra},
            code="too_many_attachments",
            details={"max_files": allowed, "files": extra},
        )
    return [attachment_check(f) for f in files]


# ------------------------------------------------------------------- storage


def _storage() -> Any:
    return AnswerAttachment._meta.get_field("file").storage


def attachments_store(
    checked: Iterable[CheckedAttachment], *, invoice_id: Any
) -> list[str]:
    """Write the files (outside any transaction: no lock is held while an object
    store answers); the stored names, in order. A failure deletes what was written."""
    field = AnswerAttachment._meta.get_field("file")
    stored: list[str] = []
    try:
        for item in checked:
            name = f"{invoice_id}-{uuid.uuid4().hex[:12]}{item.extension}"
            stored.append(
                _storage().save(
                    field.generate_filename(None, name), ContentFile(item.data)
                )
            )
    except BaseException:
        attachments_discard(stored)
        raise
    return stored


def attachments_discard(names: Iterable[str]) -> None:
    for name in names:
        try:
            _storage().delete(name)
        except Exception:  # the store is down: an orphan file, not a lost answer
            logger.exception("Could not delete the orphan attachment %s", name)


def attachments_record(
    checked: Sequence[CheckedAttachment],
    stored: Sequence[str],
    *,
    invoice: Invoice,
    event: TimelineEvent,
    user: Any,
) -> list[AnswerAttachment]:
    """The rows of stored files, in the answer's transaction."""
    rows = []
    for item, name in zip(checked, stored, strict=True):
        row = AnswerAttachment(
            invoice=invoice,
            event=event,
            original_name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=user if getattr(user, "pk", None) else None,
            uploaded_at=event.at,
        )
        row.file.name = name
        rows.append(row)
    return AnswerAttachment.objects.bulk_create(rows)


# ------------------------------------------------------------------- reading


def answer_attachments(invoice: Invoice) -> list[AnswerAttachment]:
    """The invoice's answer attachments, oldest first (one query)."""
    return list(
        AnswerAttachment.objects.filter(invoice=invoice)
        .select_related("event", "event__actor")
        .order_by("uploaded_at", "id")
    )
