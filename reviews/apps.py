from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")

    def ready(self) -> None:
        from invoiceportal.common.health import register_readiness_warning
        from invoiceportal.invoices.notify import register_staff_link

        from .adminpages.calendar_admin import calendar_readiness_warning
        from .invoice_hooks import register_invoice_hooks
        from .notification_links import review_task_link
        from .schedules import ensure_schedules

        register_invoice_hooks()
        register_staff_link(review_task_link)
        register_readiness_warning("business_calendar", calendar_readiness_warning)

        post_migrate.connect(ensure_schedules, sender=self)
