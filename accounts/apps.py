from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from . import signals  # noqa: F401 - audits sign-ins and refused sign-ins
        from .api import schema  # noqa: F401 - registers the OpenAPI auth schemes
        from .roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self)
