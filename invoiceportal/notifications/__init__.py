"""Notifications: in-app, email and SMS messages to users, and their preferences.

Owns recipients, message kinds and texts, links, delivery and retries, the centre and
badge. Knows nothing of invoices: a higher layer passes an opaque subject key and a link
(``invoiceportal.invoices.notify``) and registers catch-up sweeps and subject scopes.
May import accounts, ``invoiceportal.audit`` and ``invoiceportal.common``.
"""
