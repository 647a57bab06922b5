"""The pages and API that compose the layers below them.

Owns: the screens that need both an invoice and its review (the submitter's
invoice pages and API, help), the audit log pages, and the commands that seed
and serve the whole portal. May import every other package (common, audit,
accounts, notifications, invoices, webhooks, reviews); nothing imports it except
the project's URL configuration and settings.
"""
