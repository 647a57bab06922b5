from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from invoiceportal.invoices.hooks import register_transition_hook

        from .services import webhook_record_invoice_change
        from .tasks import ensure_schedules

        register_transition_hook(webhook_record_invoice_change)
        post_migrate.connect(ensure_schedules, sender=self)
