"""Audit: the tamper-evident, hash-chained log of who did what.

Owns ``AuditEntry`` (with an actor snapshot), ``audit_record``, the chain verification
and checkpoints, and their commands. The pages that show the log live in
``portal/auditlog``. May import only ``invoiceportal.common``.
"""
