from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "invoiceportal.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from .admin_log import audit_admin_log_entry

        post_save.connect(
            audit_admin_log_entry, sender=LogEntry, dispatch_uid="audit-admin-log"
        )
