"""Writing, checkpointing and verifying the audit chain.

``audit_record`` is called inside the transaction of the change it records and
inserts the entry unsealed, taking no lock; ``audit_seal`` gives committed entries
their sequence number and chain hash in a short transaction of its own (issue 15:
no lock is held across a caller's transaction any more).

Each entry's hash is an HMAC (key ``settings.AUDIT_HMAC_KEY``, kept outside the
database) over the previous hash and the entry's content, so nobody who can only
write to the database can forge a link, not even for the last entry. The head row
holds the last sequence number and hash; the verifier compares it with the chain
(a tail cut off and the counter lowered to match still has to agree with the
signed checkpoints). ``audit_checkpoint_write`` appends a signed line with the head
to a file an operator ships off the host and logs the same line; the verifier
compares the chain with every checkpoint it is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

logger = logging.getLogger("invoiceportal.audit")

GENESIS = "0" * 64
CHECKPOINT_PREFIX = "audit-checkpoints"


def _key() -> bytes:
    return str(settings.AUDIT_HMAC_KEY).encode()


def _digest(prev_hash: str, payload: dict[str, Any], *, keyed: bool = True) -> str:
    body = json.dumps(
        payload, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False
    )
    message = (prev_hash + body).encode()
    if not keyed:  # entries written before the chain was keyed (migration 0002)
        return hashlib.sha256(message).hexdigest()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


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


def _content(entry: AuditEntry) -> dict[str, Any]:
    payload = _payload(entry)
    del payload["seq"]
    return payload


def _content_mac(entry: AuditEntry, nonce: str) -> str:
    body = json.dumps(
        _content(entry), sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False
    )
    message = f"audit-pending:{nonce}:{body}".encode()
    return f"{nonce}:{hmac.new(_key(), message, hashlib.sha256).hexdigest()}"


def _mac_valid(entry: AuditEntry) -> bool:
    nonce, _sep, _mac = (entry.content_mac or "").partition(":")
    return bool(nonce) and hmac.compare_digest(
        entry.content_mac or "", _content_mac(entry, nonce)
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction.

    The entry is inserted *unsealed* (no ``seq``/``hash`` yet, an HMAC of its
    content instead) and takes no lock: ``audit_seal`` links it to the chain in a
    short transaction of its own once the caller's commits (``on_commit``; the
    "audit-seal" schedule and ``manage.py audit_seal --every`` catch up after a
    crash). A rolled-back change leaves no entry. With ``AUDIT_SEAL_INLINE`` (SQLite,
    whose writers are serialised anyway, and the tests' never-committed
    transactions) the entry is sealed before returning, under the head lock.
    """
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("audit_record must run inside the change's transaction.")
    actor_obj = actor if getattr(actor, "pk", None) else None
    entry = AuditEntry(
        seq=None,
        at=timezone.now(),
        actor_id=actor_obj.pk if actor_obj is not None else None,
        actor_repr=str(getattr(actor_obj, "username", "") or "system"),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
    )
    entry.content_mac = _content_mac(entry, secrets.token_hex(16))
    entry.save()
    if settings.AUDIT_SEAL_INLINE:
        audit_seal()
        entry.refresh_from_db(fields=["seq", "prev_hash", "hash"])
    elif not any(func is _seal_after_commit for _s, func, _r in conn.run_on_commit):
        transaction.on_commit(_seal_after_commit)
    return entry


SEAL_BATCH = 500
_last_seal = float("-inf")  # time.monotonic() of the last after-commit pass here


def _seal_after_commit() -> None:
    """After a commit that wrote entries: one pass over the unsealed entries, unless
    this process made one less than ``AUDIT_SEAL_INTERVAL_SECONDS`` ago, and without
    waiting when another transaction holds the chain head (it is sealing). What is
    left is linked by the next pass of any process, the sealer process
    (``audit_seal --every``) or the "audit-seal" schedule. A request never waits for
    the chain, and under load the chain grows by one pass per process and interval
    instead of one locked pass (and one more commit to flush) per transaction."""
    global _last_seal
    now = time.monotonic()
    if now - _last_seal < settings.AUDIT_SEAL_INTERVAL_SECONDS:
        return
    _last_seal = now
    try:
        if _seal(batch=SEAL_BATCH, skip_if_busy=True) is None and (
            not AuditChainHead.objects.exists()
        ):
            audit_seal()  # the chain's first entry: the head row is made now
    except Exception:  # the sealer catches up; the change itself is committed
        logger.exception("Sealing the audit chain after a commit failed")


def _lock_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # first entry ever
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def audit_seal(*, batch: int = SEAL_BATCH) -> int:
    """Link every committed unsealed entry to the chain, in the order they became
    visible (by id within one pass), and move the head; return how many.

    Each pass is a short transaction holding the head row lock (the only
    serialisation left, measured in milliseconds, never across a caller's work).
    An entry whose content does not match its HMAC (inserted or edited without the
    key) is left unsealed and logged; ``audit_verify_chain`` reports it.
    """
    return _seal(batch=batch, skip_if_busy=False) or 0


def _seal(*, batch: int, skip_if_busy: bool) -> int | None:
    """``audit_seal``; with ``skip_if_busy``, None instead of waiting when another
    transaction holds the head row (or there is none yet)."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    total = 0
    after = 0  # refused entries stay unsealed: the next pass starts past them
    while True:
        with transaction.atomic():
            if skip_if_busy and total == 0 and after == 0:
                head = (
                    AuditChainHead.objects.select_for_update(skip_locked=True)
                    .filter(pk=1)
                    .first()
                )
                if head is None:
                    return None
            else:
                head = _lock_head()
            rows = list(
                AuditEntry.all_rows.filter(seq__isnull=True, id__gt=after).order_by(
                    "id"
                )[:batch]
            )
            seq, prev = head.seq, head.hash
            sealed = []
            for row in rows:
                if not _mac_valid(row):
                    logger.error(
                        "AUDIT ENTRY REFUSED: id %s (%s) does not match its content "
                        "MAC; left unsealed.",
                        row.pk,
                        row.action,
                    )
                    continue
                seq += 1
                row.seq, row.prev_hash = seq, prev
                row.hash = _digest(prev, _payload(row), keyed=seq >= head.keyed_from)
                sealed.append((row.seq, row.prev_hash, row.hash, row.pk))
                prev = row.hash
            if sealed:
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608
                        "WHERE id = %s AND seq IS NULL",
                        sealed,
                    )
                AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
        total += len(sealed)
        if len(rows) < batch:
            return total
        after = rows[-1].pk


def audit_unsealed(*, older_than: float = 0.0) -> list[AuditEntry]:
    """Entries not (yet) in the chain, written more than ``older_than`` seconds ago."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than)
    return list(
        AuditEntry.all_rows.filter(seq__isnull=True, at__lte=cutoff).order_by("id")
    )


# ----------------------------------------------------------------- checkpoints


class AuditChainError(RuntimeError):
    def __init__(self, message: str, report: ChainReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Checkpoint:
    """The signed head of the chain at one moment."""

    seq: int
    hash: str
    keyed_from: int
    at: str
    sig: str = ""

    def signed_body(self) -> str:
        body = {k: v for k, v in asdict(self).items() if k != "sig"}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def signature(self) -> str:
        message = ("audit-checkpoint:" + self.signed_body()).encode()
        return hmac.new(_key(), message, hashlib.sha256).hexdigest()

    @property
    def valid(self) -> bool:
        return hmac.compare_digest(self.sig, self.signature())

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class CheckpointFile:
    checkpoints: list[Checkpoint]
    unreadable: list[int]  # line numbers that are not a checkpoint


def checkpoint_file_name() -> str:
    """One file per database (its name from the settings, which the database
    cannot change): environments or test databases sharing a directory never mix
    their checkpoints."""
    name = Path(str(connection.settings_dict.get("NAME") or "default")).name
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "default"
    return f"{CHECKPOINT_PREFIX}-{label}.jsonl"


def checkpoint_path(directory: Path | str | None = None) -> Path:
    return Path(directory or settings.AUDIT_CHECKPOINT_DIR) / checkpoint_file_name()


def audit_checkpoints_read(path: Path | str) -> CheckpointFile:
    """Every checkpoint line of ``path`` (a file, or a directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / checkpoint_file_name()
    checkpoints, unreadable = [], []
    if not path.exists():
        return CheckpointFile([], [])
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                checkpoints.append(
                    Checkpoint(
                        seq=int(fields["seq"]),
                        hash=str(fields["hash"]),
                        keyed_from=int(fields["keyed_from"]),
                        at=str(fields["at"]),
                        sig=str(fields["sig"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                unreadable.append(number)
    return CheckpointFile(checkpoints, unreadable)


def _head_snapshot() -> tuple[int, str, int]:
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return 0, GENESIS, 1
    return head.seq, head.hash, head.keyed_from


def audit_checkpoint_write(
    *, directory: Path | str | None = None, force: bool = False
) -> Checkpoint | None:
    """Sign the chain's head, append it to the checkpoint file and log it.

    Before signing, the entries written since the last checkpoint in the file are
    checked to extend it (cheap: only the new entries are read; the first checkpoint
    verifies the whole chain); a head that does not is logged as an error, not
    signed, and raises ``AuditChainError``.
    Nothing is written when the head has not moved since the last checkpoint, unless
    ``force``.
    """
    path = checkpoint_path(directory)
    audit_seal()  # catch up: sign what is committed
    seq, head_hash, keyed_from = _head_snapshot()
    earlier = [c for c in audit_checkpoints_read(path).checkpoints if c.valid]
    last = max(earlier, key=lambda c: c.seq, default=None)
    if last is not None and not force and (last.seq, last.hash) == (seq, head_hash):
        return None
    # The first checkpoint verifies the whole chain; later ones what is new.
    report = audit_verify_chain(since=last, head=(seq, head_hash, keyed_from))
    if not report.ok:
        extends = f"extend the checkpoint of entry {last.seq}" if last else "verify"
        message = (
            f"AUDIT CHECKPOINT REFUSED: the chain does not {extends}: "
            f"{report.reason} (entry {report.first_bad_seq})."
        )
        logger.error(message)
        raise AuditChainError(message, report)
    unsigned = Checkpoint(
        seq=seq,
        hash=head_hash,
        keyed_from=keyed_from,
        at=timezone.now().isoformat(),
    )
    checkpoint = Checkpoint(**{**asdict(unsigned), "sig": unsigned.signature()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (checkpoint.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("AUDIT CHECKPOINT %s", checkpoint.line())
    return checkpoint


# ------------------------------------------------------------------ verifying


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    reason: str = ""
    # gap | previous_hash | content | truncated | head_mismatch |
    # checkpoint_mismatch | checkpoint_signature | checkpoint_unreadable |
    # unsealed (entries left out of the chain longer than AUDIT_SEAL_MAX_DELAY_SECONDS)
    problem: str = ""
    legacy: int = 0  # entries verified with the plain SHA-256 of before migration 0002
    checkpoints: int = 0  # checkpoints compared

    @property
    def ok(self) -> bool:
        return not self.problem


def _bad(checked: int, seq: int | None, problem: str, reason: str) -> ChainReport:
    return ChainReport(checked, seq, reason, problem)


def audit_verify_chain(
    *,
    checkpoints: Iterable[Checkpoint] | CheckpointFile | None = None,
    since: Checkpoint | None = None,
    head: tuple[int, str, int] | None = None,
) -> ChainReport:
    """Recompute every link in order and compare the chain with its stored head and
    with the signed ``checkpoints`` given; report the first problem found.

    ``since`` verifies only the entries after a trusted checkpoint, up to ``head``
    (a snapshot of the head row; read here when not given): the checkpoint
    writer's incremental check.
    """
    unreadable: list[int] = []
    if isinstance(checkpoints, CheckpointFile):
        unreadable = checkpoints.unreadable
        checkpoints = checkpoints.checkpoints
    marks = list(checkpoints or [])
    if unreadable:
        return _bad(
            0,
            None,
            "checkpoint_unreadable",
            f"checkpoint file lines {unreadable} are not checkpoints",
        )
    for mark in marks:
        if not mark.valid:
            return _bad(
                0,
                mark.seq,
                "checkpoint_signature",
                f"the checkpoint of entry {mark.seq} at {mark.at} has a wrong "
                "signature (forged, or another key)",
            )
    # The head first: every entry up to it is committed (they share a transaction).
    head_seq, head_hash, keyed_from = head or _head_snapshot()
    last = head_seq
    if since is not None:
        marks.append(since)
    for mark in marks:
        if mark.keyed_from != keyed_from:
            return _bad(
                0,
                mark.seq,
                "checkpoint_mismatch",
                f"the chain is keyed from entry {keyed_from}, the checkpoint of "
                f"entry {mark.seq} says {mark.keyed_from}",
            )
    if since is not None and head_seq < since.seq:
        return _bad(
            0,
            head_seq + 1,
            "truncated",
            f"the head (entry {head_seq}) is behind the checkpoint of entry "
            f"{since.seq}",
        )
    by_seq = {mark.seq: mark for mark in marks}
    prev, expected_seq = GENESIS, 1
    if since is not None:
        prev, expected_seq = since.hash, since.seq + 1
    checked = legacy = 0
    rows = (
        AuditEntry.objects.filter(seq__gte=expected_seq, seq__lte=last)
        .order_by("seq")
        .iterator(chunk_size=2000)
    )
    for entry in rows:
        if entry.seq != expected_seq:
            return _bad(checked, expected_seq, "gap", "gap in sequence")
        if entry.prev_hash != prev:
            return _bad(
                checked, entry.seq, "previous_hash", "previous hash does not match"
            )
        keyed = entry.seq >= keyed_from
        if _digest(prev, _payload(entry), keyed=keyed) != entry.hash:
            return _bad(
                checked, entry.seq, "content", "content does not match its hash"
            )
        mark = by_seq.get(entry.seq)
        if mark is not None and mark.hash != entry.hash:
            return _bad(
                checked,
                entry.seq,
                "checkpoint_mismatch",
                f"entry {entry.seq} differs from its signed checkpoint of {mark.at}",
            )
        legacy += not keyed
        prev = entry.hash
        expected_seq += 1
        checked += 1
    end = expected_seq - 1
    if end < last:
        return _bad(
            checked,
            end + 1,
            "truncated",
            f"entries missing at the end (truncated): the head says {last}",
        )
    if (head_seq, head_hash) != (end, prev):
        return _bad(
            checked,
            end,
            "head_mismatch",
            f"the stored head (entry {head_seq}) does not match the last entry",
        )
    # Entries past the head (or a head row deleted under them). Read the highest
    # entry before the head again: an append commits both at once, so a later head
    # is always at least as far.
    highest = AuditEntry.objects.aggregate(highest=models.Max("seq"))["highest"] or 0
    if head is None and highest > _head_snapshot()[0]:
        return _bad(
            checked,
            head_seq + 1,
            "head_mismatch",
            f"entries up to {highest} lie past the stored head (entry {head_seq}); "
            "the head row was changed or deleted",
        )
    beyond = [mark for mark in marks if mark.seq > end]
    if beyond:
        mark = max(beyond, key=lambda m: m.seq)
        return _bad(
            checked,
            end + 1,
            "truncated",
            f"entries missing at the end (truncated): a checkpoint of {mark.at} "
            f"signed entry {mark.seq}, the chain ends at {end}",
        )
    if head is None:
        late = audit_unsealed(older_than=settings.AUDIT_SEAL_MAX_DELAY_SECONDS)
        if late:
            forged = [e.pk for e in late if not _mac_valid(e)]
            detail = (
                f"; {len(forged)} of them do not match their content MAC (inserted "
                f"or edited without the key): ids {forged[:10]}"
                if forged
                else " (is the sealer running? manage.py audit_seal)"
            )
            return _bad(
                checked,
                None,
                "unsealed",
                f"{len(late)} entries written more than "
                f"{settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s ago are not in the chain, "
                f"the oldest id {late[0].pk} ({late[0].action}, {late[0].at})"
                f"{detail}",
            )
    return ChainReport(checked, None, legacy=legacy, checkpoints=len(marks))
