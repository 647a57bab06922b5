"""Verification (查验) of an invoice against the registry of issued invoices.

``Verifier`` is the interface; the default backend reads the registry that admins
import (``RegistryRecord``), the HTTP backend asks a provider's API. A verifier that
cannot answer says ``unavailable``: screening then sends the invoice to review and
never rejects it (domain/einvoice.md section 7).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from invoiceportal.invoices.extraction.types import DIGITAL_KINDS, ExtractedInvoice

from .checks.base import (
    REGISTRY_NOT_FOUND,
    REGISTRY_UNAVAILABLE,
    RegistryLookup,
    RegistryRecord,
    RegistryStatus,
)

logger = logging.getLogger(__name__)

Answer = RegistryRecord | RegistryLookup

# 数电 kinds, rail e-tickets and air itineraries included: 查验 by number, date and
# 价税合计, no code (domain/einvoice.md sections 7 and 11).
DIGITAL = DIGITAL_KINDS


class Verifier(Protocol):
    def verify(self, extracted: ExtractedInvoice) -> Answer:
        """The registry's record of this invoice, ``not_found`` or ``unavailable``."""


def identities_of(extracted: ExtractedInvoice) -> set[str]:
    code, number = extracted.code.strip(), extracted.number.strip()
    keys = {number} if number and not code else set()
    if code and number:
        keys.add(f"{code}:{number}")
    return keys


class LocalRegistryVerifier:
    """Reads the registry admins import with ``manage.py import_registry``."""

    def verify(self, extracted: ExtractedInvoice) -> Answer:
        from .context import registry_lookup

        return registry_lookup(identities_of(extracted))


@dataclass
class HttpVerifier:
    """A provider's 查验 API: POST JSON, answer JSON with a ``status`` and fields.

    Request: ``{code, number, issue_date, amount, check_code_last6, total_amount}``
    (what the national platform asks for each kind). Response: ``{"status": "normal"
    | "void" | "red_flushed" | "not_found", ...fields}``. Timeouts, connection errors
    and 5xx answers are retried with a growing pause, then answer ``unavailable``.
    """

    url: str
    api_key: str = ""
    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 0.5

    def _payload(self, extracted: ExtractedInvoice) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "code": extracted.code,
            "number": extracted.number,
            "issue_date": extracted.issue_date.isoformat()
            if extracted.issue_date
            else "",
        }
        if extracted.kind in DIGITAL:
            payload["total_amount"] = str(extracted.total_amount or "")
        elif extracted.check_code:
            payload["check_code_last6"] = extracted.check_code[-6:]
        else:
            payload["amount"] = str(extracted.amount or "")
        return payload

    def _request(self, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - URL is admin configuration
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                **({"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.read(1_000_000)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(1_000_000) if exc.fp else b""

    def verify(self, extracted: ExtractedInvoice) -> Answer:
        body = json.dumps(self._payload(extracted)).encode()
        for attempt in range(1, self.attempts + 1):
            try:
                status, content = self._request(body)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                logger.warning("verifier attempt %s failed: %s", attempt, exc)
            else:
                if status == 404:
                    return REGISTRY_NOT_FOUND
                if 200 <= status < 300:
                    return parse_provider_answer(content)
                logger.warning("verifier attempt %s answered HTTP %s", attempt, status)
                if 400 <= status < 500 and status != 429:
                    return REGISTRY_UNAVAILABLE
            if attempt < self.attempts:
                time.sleep(self.backoff * attempt)
        return REGISTRY_UNAVAILABLE


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def parse_provider_answer(content: bytes) -> Answer:
    """Map a provider's JSON answer; anything unreadable is ``unavailable``."""
    try:
        data = json.loads(content)
        status = str(data.get("status", "")).strip().lower()
    except (ValueError, AttributeError):
        return REGISTRY_UNAVAILABLE
    if status == "not_found":
        return REGISTRY_NOT_FOUND
    try:
        registry_status = RegistryStatus(status)
    except ValueError:
        return REGISTRY_UNAVAILABLE
    try:
        issue_date = (
            dt.date.fromisoformat(data["issue_date"])
            if data.get("issue_date")
            else None
        )
    except (TypeError, ValueError):
        issue_date = None
    return RegistryRecord(
        status=registry_status,
        code=str(data.get("code", "")),
        number=str(data.get("number", "")),
        issue_date=issue_date,
        seller_tax_id=str(data.get("seller_tax_id", "")),
        seller_name=str(data.get("seller_name", "")),
        buyer_tax_id=str(data.get("buyer_tax_id", "")),
        buyer_name=str(data.get("buyer_name", "")),
        amount=_decimal(data.get("amount")),
        tax_amount=_decimal(data.get("tax_amount")),
        total_amount=_decimal(data.get("total_amount")),
        check_code=str(data.get("check_code", "")),
        red_flushed_amount=_decimal(data.get("red_flushed_amount")),
    )


def get_verifier() -> Verifier:
    """The configured backend: ``VERIFIER_BACKEND`` (dotted path) with its options."""
    return import_string(settings.VERIFIER_BACKEND)(**settings.VERIFIER_OPTIONS)
