"""The SMS channel: an interface and a default backend that only logs.

Choose a backend with the setting ``SMS_BACKEND`` (a dotted path to a class with
``send(*, phone, text)``); a provider's backend raises on failure so that delivery is
retried.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_SMS_BACKEND = "invoiceportal.notifications.sms.LoggingSmsBackend"


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class LoggingSmsBackend:
    """Writes the message to the log instead of sending it."""

    def send(self, *, phone: str, text: str) -> None:
        masked = phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
        logger.info("SMS to %s: %s", masked, text)


def get_sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND or DEFAULT_SMS_BACKEND)()
