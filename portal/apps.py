from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal pages"

    def ready(self) -> None:
        # /metrics figures read from every layer's tables (issue 13, H5).
        from .ops_metrics import register

        register()
