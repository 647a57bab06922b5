from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "invoiceportal.common"
    label = "common"
