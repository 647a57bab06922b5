"""Accounts: organizations, users, roles and permissions, sign-in, lockout, tokens,
the profile page and the user management pages and API.

Owns who may do what (``roles.Perm``, ``access.capability_required``) for every layer
above. May import ``invoiceportal.audit`` and ``invoiceportal.common`` only.
"""
