"""Performance pages, daily rollups and the breach forecast (issue 13, parts 1-2).

Layer: top (alongside ``portal``). It may import ``reviews``, ``invoiceportal.invoices``
and anything lower (notifications, accounts, audit, common); nothing below imports it.
The supervisor board shows the forecast through a template include
(``insight/_forecast.html``), never through a Python import from ``reviews``.
"""
