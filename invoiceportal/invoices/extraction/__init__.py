"""Extraction: reading an invoice file (XML, OFD, PDF, image, QR) into an
``ExtractedInvoice`` of plain values, safely (size and content limits).

Pure functions over bytes; part of the invoices layer. May import
``invoiceportal.common`` and third-party readers, not the ORM models of other packages.
"""
