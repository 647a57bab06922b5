"""The review queue: tasks opened, claimed, released, decided, paused and resumed
(one transition table), SLA sweeps, supervisors' alerts, the queue, board and task pages
and their API. Part of the reviews layer: may import the rest of ``reviews``, webhooks,
``invoiceportal.invoices`` and every lower layer.
"""
