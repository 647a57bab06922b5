"""Reads for the audit log page: filtered entries a page at a time (keyset on
``seq``, newest first), one entry, the chain verification in plain words. No
writes: the page is read-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEntry
from .services import (
    ChainReport,
    audit_checkpoints_read,
    audit_verify_chain,
    checkpoint_path,
)

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # a username (as it was at the time), or a user id
    action: str = ""  # exact, or a prefix ending in "." ("user.")
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    newer: int | None  # pass as ``after`` for the newer page
    older: int | None  # pass as ``before`` for the older page


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_entries_filtered(filters: AuditFilters) -> QuerySet[AuditEntry]:
    rows = AuditEntry.objects.all()
    actor = filters.actor.strip()
    if actor:
        match = Q(actor_repr__iexact=actor)
        if actor.isdigit():
            match |= Q(actor_id=int(actor))
        rows = rows.filter(match)
    action = filters.action.strip()
    if action.endswith("."):
        rows = rows.filter(action__startswith=action)
    elif action:
        rows = rows.filter(action=action)
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type.strip())
    if filters.object_id.strip():
        rows = rows.filter(object_id=filters.object_id.strip())
    if filters.date_from:
        rows = rows.filter(at__gte=_day_start(filters.date_from))
    if filters.date_to:
        rows = rows.filter(at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    return rows


def audit_page(
    filters: AuditFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One page of matching entries, newest first. ``before``: entries older than
    that sequence number; ``after``: the page of entries just newer than it. Pages
    stay stable while new entries arrive (keyset, no offset)."""
    rows = audit_entries_filtered(filters).select_related("actor")
    if after is not None:
        chunk = list(rows.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_newer = len(chunk) > size
        entries = list(reversed(chunk[:size]))
        has_older = rows.filter(seq__lte=after).exists()
    else:
        if before is not None:
            rows = rows.filter(seq__lt=before)
        chunk = list(rows.order_by("-seq")[: size + 1])
        has_older = len(chunk) > size
        entries = chunk[:size]
        has_newer = before is not None and (
            audit_entries_filtered(filters).filter(seq__gte=before).exists()
        )
    return AuditPage(
        entries=entries,
        newer=entries[0].seq if entries and has_newer else None,
        older=entries[-1].seq if entries and has_older else None,
    )


def audit_choices() -> tuple[list[str], list[str]]:
    """The actions and object types present in the log, for the filter's lists."""
    entries = AuditEntry.objects.order_by()
    actions = entries.values_list("action", flat=True).distinct()
    types = entries.exclude(object_type="").values_list("object_type", flat=True)
    return sorted(actions), sorted(types.distinct())


def audit_entry_get(seq: int) -> AuditEntry | None:
    return AuditEntry.objects.select_related("actor").filter(seq=seq).first()


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    headline: str
    explanation: str
    report: ChainReport
    checkpoints_found: bool


def _explain(report: ChainReport) -> str:
    seq = report.first_bad_seq
    texts: dict[str, Any] = {
        "gap": _(
            "Entry %(seq)s is missing: the sequence numbers jump there, so an entry "
            "was removed."
        ),
        "previous_hash": _(
            "Entry %(seq)s does not link to the entry before it: an entry before it "
            "was changed, removed or inserted."
        ),
        "content": _(
            "Entry %(seq)s was changed after it was written: what it says no longer "
            "matches its hash."
        ),
        "truncated": _(
            "Entries are missing at the end of the log, from entry %(seq)s on: the "
            "log was cut short."
        ),
        "head_mismatch": _(
            "The stored head of the chain does not agree with its last entry (entry "
            "%(seq)s): entries were removed or added past it, or the head was changed."
        ),
        "checkpoint_mismatch": _(
            "Entry %(seq)s differs from the signed checkpoint taken of the log: it "
            "was changed after the checkpoint."
        ),
        "checkpoint_signature": _(
            "A checkpoint (of entry %(seq)s) has a wrong signature: it was forged or "
            "signed with another key."
        ),
        "checkpoint_unreadable": _(
            "The checkpoint file has lines that are not checkpoints: it was damaged "
            "or edited."
        ),
    }
    text = texts.get(report.problem) or _("The chain does not verify.")
    return str(text) % {"seq": seq if seq is not None else "?"}


def audit_chain_verdict() -> ChainVerdict:
    """Run the chain verification (with the checkpoint file when there is one) and
    say the result in plain words."""
    path = checkpoint_path()
    found = path.exists()
    report = audit_verify_chain(
        checkpoints=audit_checkpoints_read(path) if found else None
    )
    if report.ok:
        headline = _("The audit log is intact.")
        explanation = _(
            "%(count)s entries checked: each is linked to the one before it and "
            "matches its hash, and the stored head agrees with the last one."
        ) % {"count": report.checked}
        if report.checkpoints:
            explanation += " " + _(
                "%(count)s signed checkpoints agree with the log."
            ) % {"count": report.checkpoints}
        else:
            explanation += " " + _(
                "No signed checkpoint was found to compare with, so entries cut off "
                "at the very end could not be detected."
            )
        return ChainVerdict(True, headline, explanation, report, found)
    headline = _("The audit log is broken at entry %(seq)s.") % {
        "seq": report.first_bad_seq if report.first_bad_seq is not None else "?"
    }
    return ChainVerdict(False, headline, _explain(report), report, found)
