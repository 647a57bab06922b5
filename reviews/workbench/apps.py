from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    name = "reviews.workbench"
    label = "workbench"
    verbose_name = _("Review workbench")

    def ready(self) -> None:
        from invoiceportal.invoices.lifecycle import register_timeline_messages

        from .services import WORKBENCH_MESSAGES

        register_timeline_messages(WORKBENCH_MESSAGES)
