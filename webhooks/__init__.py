"""Webhooks: the enterprise's systems hear about decisions (issue 13, section 4).

Owns the endpoints an organization's admins register, the outbox of events (written in
the same transaction as the change they report) and their deliveries (signed, sent by
the django-q2 worker, retried with backoff, logged and replayable).

Layer: above invoices, below reviews. It may import ``invoiceportal.invoices`` and the
lower layers (notifications, accounts, audit, common); ``reviews`` imports it (a missed
review deadline records ``task.breached`` through ``webhook_event_record``), never the
reverse. The invoice events arrive through ``register_transition_hook``.
"""
