"""The submitter's screens: the pages and API that show an invoice with its review.

Owns: the invoice list (with each open invoice's ETA), the invoice page and its live
status poll, the submitter's actions as page forms and API endpoints (withdraw,
respond, urgent handling, resubmit, feedback), uploads and manual entry, the CSV export
and receipts as downloads, the supervisors' urgent-handling and feedback pages, the
help centre, and ``/api/v1/invoices/`` (DESIGN.md section 7). URL namespace
``invoices``; templates ``invoices/*`` and ``help/*``.

Read models live in ``selectors`` (one per screen, used by page and API alike); the
business rules stay in the services of the layers below.

May import: ``invoiceportal.common``, ``invoiceportal.audit``, ``accounts``,
``invoiceportal.notifications``, ``invoiceportal.invoices`` and ``reviews``. Nothing
imports it except the project's URL configuration.
"""
