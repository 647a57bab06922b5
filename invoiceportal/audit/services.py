"""Writing and verifying the audit chain.

``audit_record`` is called inside the transaction of the change it records, after the
change's own locks (the chain head is always the last lock taken).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _digest(prev_hash: str, payload: dict[str, Any]) -> str:
    body = json.dumps(
        payload, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _payload(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_repr": entry.actor_repr,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "data": entry.data,
    }


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the change's transaction.")
    seq, prev_hash = _claim_next_seq()
    actor_obj = actor if getattr(actor, "pk", None) else None
    entry = AuditEntry(
        seq=seq,
        at=timezone.now(),
        actor=actor_obj,
        actor_repr=str(getattr(actor_obj, "username", "") or "system"),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        prev_hash=prev_hash,
    )
    entry.hash = _digest(prev_hash, _payload(entry))
    entry.save()
    AuditChainHead.objects.filter(pk=1).update(hash=entry.hash)
    return entry


def _claim_next_seq() -> tuple[int, str]:
    """Take the next sequence number and the previous hash in one statement; the
    row lock it takes serialises appends until the transaction ends."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"  # noqa: S608
        )
        row = cursor.fetchone()
    if row is None:  # first entry ever
        AuditChainHead.objects.get_or_create(pk=1)
        return _claim_next_seq()
    return int(row[0]), str(row[1])


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def audit_verify_chain(entries: Iterable[AuditEntry] | None = None) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = (
        entries
        if entries is not None
        else AuditEntry.objects.order_by("seq").iterator()
    )
    for entry in rows:
        if entry.seq != expected_seq:
            return ChainReport(checked, entry.seq, "gap in sequence")
        if entry.prev_hash != prev:
            return ChainReport(checked, entry.seq, "previous hash does not match")
        if _digest(prev, _payload(entry)) != entry.hash:
            return ChainReport(checked, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and entries is None and head.seq != checked:
        return ChainReport(checked, checked + 1, "entries missing at the end")
    return ChainReport(checked, None)
