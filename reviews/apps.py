from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        from invoiceportal.common.health import register_readiness_warning
        from invoiceportal.invoices.lifecycle import register_timeline_messages

        from .adminpages.calendar_admin import calendar_readiness_warning
        from .queue.messages import QUEUE_MESSAGES
        from .schedules import ensure_schedules

        register_timeline_messages(QUEUE_MESSAGES)
        register_readiness_warning("business_calendar", calendar_readiness_warning)

        post_migrate.connect(ensure_schedules, sender=self)
