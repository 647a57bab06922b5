"""Reviews: screening checks and rules, registry verification, the review queue, the
SLA clock, metrics and the review administration pages.

Owns ReviewTask and its transitions, CheckResult, rules, SLA policies and calendars.
Reacts to invoice changes through hooks registered in ``ReviewsConfig.ready``.
May import webhooks, ``invoiceportal.invoices`` and every lower layer; only ``portal``
and ``insight`` import it.
"""
