"""The audit log pages for administrators (read-only): filter, page through, open an
entry, verify the chain. URL namespace ``audit``, templates ``audit/*.html``.

Owns only the pages; the log itself (models, services, selectors) is
``invoiceportal.audit``. May import accounts (access decorators) and the audit layer.
"""
