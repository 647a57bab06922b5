"""The reviewer's workbench: the task page's document side and inline correction.

Owns: rendering an invoice's original document for reviewers (PDF pages and scans as
PNG, OFD pages drawn as SVG from their objects, 数电 XML as an invoice layout),
the render cache (Django's default storage, keyed by the document's SHA-256, the
page and the scale), where each extracted field was read on the page (field boxes),
inline correction of a misread field (audited, re-screened) and internal notes
between reviewers and supervisors (``ReviewNote``, never shown to submitters).

Layer: above ``reviews``. It may import ``reviews``, ``invoiceportal.invoices`` and
the lower layers (notifications, accounts, audit, common); nothing below imports it.
The task page (``reviews.queue``) reaches it only through its template tags.
"""
