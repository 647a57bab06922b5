from __future__ import annotations

import uuid
from typing import Any

from invoiceportal.common.errors import NotFoundError

from .models import Invoice


def invoice_get_for_user(*, user: Any, invoice_id: uuid.UUID | str) -> Invoice:
    """The invoice if this user may see it; 404 for missing and for someone else's."""
    try:
        return Invoice.objects.visible_to(user).get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError) as exc:
        raise NotFoundError() from exc


def invoice_list_for_user(*, user: Any):
    return Invoice.objects.visible_to(user).select_related("organization")
