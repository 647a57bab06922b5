from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        from invoiceportal.invoices.lifecycle import register_timeline_messages

        from .queue.messages import QUEUE_MESSAGES
        from .schedules import ensure_schedules

        register_timeline_messages(QUEUE_MESSAGES)

        post_migrate.connect(ensure_schedules, sender=self)
