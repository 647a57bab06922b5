from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "invoiceportal.invoices"
    label = "invoices"
    verbose_name = _("Invoices")

    def ready(self) -> None:
        from .notify import register_notification_sources
        from .worker_start import connect_worker_start

        register_notification_sources()
        connect_worker_start()
