"""Invoices: intake, extraction, the invoice lifecycle and the submitter's actions.

Owns Invoice, its documents, lines and timeline, the one status transition helper
(``lifecycle``), expedite requests, receipts, exports and who hears about an
invoice (``notify``). Lets higher layers react through ``hooks`` (registries),
never imports them. May import notifications, accounts, ``invoiceportal.audit``
and ``invoiceportal.common``.
"""
