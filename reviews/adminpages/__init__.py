"""Administrator pages and API for SLA policies, the business calendar, rejection
reasons and canned replies (issue 10).

Part of the reviews layer: may import the rest of ``reviews`` (its models and queue
services) and every lower layer (invoices, notifications, accounts, audit, common).
"""
