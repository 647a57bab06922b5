"""Why a file was refused. Codes are stable (API clients match on them); messages are
translated when shown."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from invoiceportal.common.errors import ApplicationError


class ExtractionError(ApplicationError):
    """A file we refuse or cannot read. ``code`` is machine-readable, ``message`` is for
    the user (lazy-translated), ``details`` carries facts such as limits."""

    status_code = 400

    def __init__(self, code: str, message: Any, **details: Any) -> None:
        Exception.__init__(self, f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


class UnsafeFileError(ExtractionError):
    """The file is hostile or exceeds a limit (zip bomb, XXE, size, page count)."""


class UnreadableFileError(ExtractionError):
    """The file is safe but not an invoice we can read (corrupt, encrypted, not an
    invoice, no fields found)."""

    status_code = 422


# Codes and messages in one place so the API, the pages and the tests agree.
MESSAGES = {
    "empty_file": _("The file is empty."),
    "file_too_large": _("The file is larger than the limit of %(limit_mb)s MB."),
    "unsupported_type": _(
        "This kind of file is not accepted. "
        "Upload an XML, OFD, PDF, JPEG or PNG invoice."
    ),
    "content_type_mismatch": _(
        "The file's content does not match its name or declared type."
    ),
    "unsafe_xml": _(
        "The XML file contains entities or external references, which are not allowed."
    ),
    "malformed_xml": _("The XML file is not well formed."),
    "value_out_of_range": _(
        "The %(field)s in the file is not a value an invoice can have (too long or "
        "too large). Upload the invoice file as issued."
    ),
    "xml_too_complex": _(
        "The XML file has too many elements or is nested too deeply (at most "
        "%(max_elements)s elements and %(max_depth)s levels). Upload the invoice file "
        "as issued."
    ),
    "zip_bomb": _("The archive expands to more than the allowed size or entries."),
    "corrupt_archive": _("The archive is damaged and cannot be opened."),
    "encrypted_pdf": _("The PDF is password-protected. Upload an unprotected copy."),
    "corrupt_pdf": _("The PDF is damaged and cannot be opened."),
    "too_many_pages": _(
        "The PDF has %(pages)s pages; an invoice has at most %(limit)s."
    ),
    "corrupt_image": _("The image is damaged and cannot be opened."),
    "image_too_large": _("The image is too large (%(pixels)s pixels)."),
    "not_an_invoice": _("No invoice could be found in this document."),
    "extraction_timeout": _("Reading the document took too long."),
    "extraction_too_large": _(
        "Reading the document needed more than %(limit_mb)s MB of memory. Upload a "
        "smaller or simpler file."
    ),
    "bad_filename": _("The file name is not acceptable."),
    "nested_archive": _(
        "The archive contains another archive. Put the invoices directly in one ZIP."
    ),
    "unsafe_archive_path": _(
        "The archive contains entries with unsafe names (absolute paths or '..')."
    ),
    "encrypted_archive": _(
        "The archive is password-protected. Upload an unprotected archive."
    ),
    "batch_archive": _(
        "This is an archive of several files. Upload it as a batch, or upload the "
        "invoice file itself."
    ),
}


def refuse(code: str, *, unsafe: bool = False, **details: Any) -> ExtractionError:
    """Build the error for ``code``; raise the result."""
    template = MESSAGES[code]
    message = template % details if details and "%(" in str(template) else template
    cls = UnsafeFileError if unsafe else UnreadableFileError
    return cls(code, message, **details)
