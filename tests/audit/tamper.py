"""What an attacker with write access to the database (but not the HMAC key) does:
switch the append-only triggers off for the transaction and rewrite rows with SQL,
hashing them the only way open to them (the unkeyed SHA-256 of the old chain).

Everything happens inside the test's transaction: dropping a SQLite trigger and
disabling a PostgreSQL trigger are both rolled back with it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from invoiceportal.audit.models import AuditEntry


def triggers_off() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_head_forward_only")


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def unkeyed_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain's documented layout, without the key the attacker does not hold."""
    payload = {
        "seq": row["seq"],
        "at": row["at"].isoformat(),
        "actor": row["actor_id"],
        "actor_repr": row["actor_repr"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "data": row["data"],
    }
    body = json.dumps(
        payload, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def rows() -> list[dict[str, Any]]:
    return list(
        AuditEntry.objects.order_by("seq").values(
            "seq",
            "at",
            "actor_id",
            "actor_repr",
            "action",
            "object_type",
            "object_id",
            "data",
            "prev_hash",
            "hash",
        )
    )


def rewrite_from(seq: int, data: dict[str, Any] | None = None) -> None:
    """Give entry ``seq`` new ``data`` (if any) and re-link it and every entry after
    it, then move the head to the new last hash."""
    triggers_off()
    prev = None
    for row in rows():
        if row["seq"] < seq:
            prev = row["hash"]
            continue
        if row["seq"] == seq and data is not None:
            row["data"] = data
        row["prev_hash"] = prev if prev is not None else row["prev_hash"]
        row["hash"] = unkeyed_hash(row["prev_hash"], row)
        sql(
            "UPDATE audit_auditentry SET data = %s, prev_hash = %s, hash = %s "
            "WHERE seq = %s",
            [json.dumps(row["data"]), row["prev_hash"], row["hash"], row["seq"]],
        )
        prev = row["hash"]
    sql("UPDATE audit_auditchainhead SET hash = %s WHERE id = 1", [prev])


def truncate_after(seq: int) -> None:
    """Delete the entries after ``seq`` and lower the head to match."""
    triggers_off()
    last = AuditEntry.objects.get(seq=seq)
    sql("DELETE FROM audit_auditentry WHERE seq > %s", [seq])
    sql(
        "UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE id = 1",
        [seq, last.hash],
    )
