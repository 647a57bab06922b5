"""The append-only, hash-chained audit log.

Append-only three times over: the model and its queryset refuse to change or delete
rows; a database trigger (migration 0002) refuses UPDATE and DELETE in PostgreSQL and
UPDATE in SQLite; and every row is chained to the previous one by a keyed hash (HMAC,
key outside the database), with signed checkpoints of the head written where the
database cannot rewrite them (``services.audit_checkpoint_write``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """A change or deletion of an audit entry was attempted."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AppendOnlyError("Audit entries are append-only.")


class AuditChainHead(models.Model):
    """One row: the last link of the chain. Locking it serialises the sealer (a
    short transaction after commit), never a caller's transaction.

    ``keyed_from`` is the first sequence number hashed with the HMAC key; entries
    before it were written by an older version with a plain SHA-256 chain (see
    migration 0002) and are verified that way.
    """

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    keyed_from = models.BigIntegerField(default=1)


class AuditEntryQuerySet(models.QuerySet):
    """Bulk changes are refused like single ones (``update()``, ``delete()``)."""

    update = _refuse
    delete = _refuse
    bulk_update = _refuse
    update_or_create = _refuse


class SealedEntryManager(models.Manager.from_queryset(AuditEntryQuerySet)):  # type: ignore[misc]
    """Sealed entries only (those with a place in the chain): what the log shows."""

    def get_queryset(self) -> AuditEntryQuerySet:
        return super().get_queryset().filter(seq__isnull=False)


class AuditEntry(models.Model):
    """One audited change. Written *unsealed* inside the change's transaction (no
    ``seq``, ``prev_hash`` or ``hash``; ``content_mac`` an HMAC of its content, so a
    row inserted without the key is never sealed), then sealed by
    ``services.audit_seal`` in a short transaction of its own after the commit: the
    only UPDATE the triggers allow sets those three columns once, content unchanged.
    """

    seq = models.BigIntegerField(
        unique=True, null=True, blank=True, verbose_name=_("sequence")
    )
    at = models.DateTimeField(verbose_name=_("time"), db_index=True)
    # A snapshot of who acted: the user's id (no database constraint, nothing done on
    # delete, so deleting a user never touches an audited row) and ``actor_repr``,
    # the username at the time. ``entry.actor`` raises DoesNotExist for a deleted
    # user unless read through ``select_related`` (then it is None).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_repr = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, verbose_name=_("action"), db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL until sealed, like seq and hash)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # "nonce:HMAC" of the content, set by ``audit_record``; unique, so a copied row
    # cannot be inserted; NULL on entries written before deferred sealing.
    content_mac = models.CharField(max_length=100, null=True, blank=True, unique=True)

    objects = SealedEntryManager()
    # Every row, sealed or not (the sealer and the verifier).
    all_rows = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            # The sealer's work list stays small and cheap to find.
            models.Index(
                fields=["id"],
                condition=models.Q(seq__isnull=True),
                name="audit_entry_unsealed",
            )
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse()
