"""Importing the registry of issued invoices from CSV.

Columns: code, number, issue_date, seller_tax_id, buyer_tax_id, amount, tax_amount,
total_amount, check_code, status (normal | void | red_flushed). A bad row is reported
with its line number and skipped; good rows are stored in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.csvtext import decode_csv_bytes
from invoiceportal.common.errors import PermissionDeniedError

from .checks.registry import REGISTRY_FIELDS
from .models import RegistryRecord, registry_identity

COLUMNS = (*REGISTRY_FIELDS, "status")
STATUSES = {"normal", "void", "red_flushed"}
MAX_ROWS = 200_000


@dataclass
class RowError:
    line: int
    message_en: str
    message_zh: str


@dataclass
class ParsedRegistry:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _money(value: str) -> Decimal | None:
    value = value.strip().replace(",", "")
    if not value:
        return None
    amount = Decimal(value)
    if not amount.is_finite() or amount.as_tuple().exponent < -2:
        raise InvalidOperation
    return amount


def parse_registry_csv(data: bytes) -> ParsedRegistry:
    """Read the CSV (UTF-8, with or without BOM, or GB18030); never raises."""
    parsed = ParsedRegistry()
    try:
        text = decode_csv_bytes(data)
    except UnicodeDecodeError:
        parsed.errors.append(
            RowError(
                0,
                "The file is not UTF-8 or GB18030 text.",
                "文件不是 UTF-8 或 GB18030 编码的文本。",
            )
        )
        return parsed
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        parsed.errors.append(
            RowError(
                1,
                f"Missing columns: {', '.join(missing)}.",
                f"缺少列：{'、'.join(missing)}。",
            )
        )
        return parsed
    reader.fieldnames = header
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            parsed.errors.append(
                RowError(line, f"More than {MAX_ROWS} rows.", f"超过 {MAX_ROWS} 行。")
            )
            break
        row = {k: (v or "").strip() for k, v in raw.items() if k in COLUMNS}
        problem = _row_problem(row)
        if problem:
            parsed.errors.append(RowError(line, *problem))
            continue
        parsed.rows.append(row)
    return parsed


def _row_problem(row: dict[str, Any]) -> tuple[str, str] | None:
    if not row["number"].isdigit() or len(row["number"]) not in (8, 20):
        return ("number must be 8 or 20 digits.", "发票号码应为 8 位或 20 位数字。")
    if row["code"] and (not row["code"].isdigit() or len(row["code"]) not in (10, 12)):
        return ("code must be 10 or 12 digits.", "发票代码应为 10 位或 12 位数字。")
    status = row["status"].lower() or "normal"
    if status not in STATUSES:
        return (
            "status must be normal, void or red_flushed.",
            "状态应为 normal、void 或 red_flushed。",
        )
    row["status"] = status
    try:
        row["issue_date"] = dt.date.fromisoformat(row["issue_date"])
    except ValueError:
        return ("issue_date must be YYYY-MM-DD.", "开票日期格式应为 YYYY-MM-DD。")
    try:
        for key in ("amount", "tax_amount", "total_amount"):
            row[key] = _money(row[key])
    except InvalidOperation:
        return (
            "amounts must be numbers with at most 2 decimals.",
            "金额应为最多两位小数的数字。",
        )
    return None


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: list[RowError]


def registry_import(*, actor: Any, data: bytes) -> ImportReport:
    """Insert or update the registry from CSV bytes; bad rows are reported.

    ``actor`` None is the command line (``manage.py import_registry``)."""
    if actor is not None and not user_can(actor, Perm.ADMINISTER):
        raise PermissionDeniedError(_("Only administrators can import the registry."))
    parsed = parse_registry_csv(data)
    created = updated = 0
    with transaction.atomic(durable=True):
        for row in parsed.rows:
            identity = registry_identity(code=row["code"], number=row["number"])
            _obj, was_created = RegistryRecord.objects.update_or_create(
                identity=identity, defaults=row
            )
            created += was_created
            updated += not was_created
        audit_record(
            actor=actor,
            action="registry.import",
            data={"created": created, "updated": updated, "errors": len(parsed.errors)},
        )
    return ImportReport(created, updated, parsed.errors)
