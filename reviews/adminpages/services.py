"""Admin services: SLA policies, rejection reasons and canned replies.

Each change is checked, saved and audited in one transaction. The business calendar's
services are in ``calendar_admin``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from reviews.models import CannedReply, RejectionReason, SLAPolicy

MAX_TARGET_MINUTES = 60 * 24 * 365  # a year of wall-clock minutes: surely a typo


def require_admin(actor: Any) -> None:
    if not user_can(actor, Perm.ADMINISTER):
        raise PermissionDeniedError(
            _("Only administrators can change the portal's settings.")
        )


def _field_error(field: str, message: Any, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, details={field: [str(message)]})


# ------------------------------------------------------------------ SLA policies


def sla_target_clean(minutes: int | None) -> int:
    if minutes is None or minutes <= 0:
        raise _field_error(
            "target_business_minutes",
            _("The target must be more than zero business minutes."),
            "sla_target_not_positive",
        )
    if minutes > MAX_TARGET_MINUTES:
        raise _field_error(
            "target_business_minutes",
            _("The target may be at most %(max)s business minutes.")
            % {"max": MAX_TARGET_MINUTES},
            "sla_target_too_long",
        )
    return int(minutes)


def sla_warn_clean(percent: int | None) -> int:
    if percent is None or not 1 <= percent <= 100:
        raise _field_error(
            "warn_at_percent",
            _("The warning share is a percentage from 1 to 100."),
            "sla_warn_out_of_range",
        )
    return int(percent)


def sla_policy_update(
    *,
    actor: Any,
    priority: int,
    name: str | None = None,
    target_business_minutes: int | None = None,
    warn_at_percent: int | None = None,
    min_amount: Decimal | None = None,
    clear_min_amount: bool = False,
) -> SLAPolicy:
    """Change a priority's policy (only what is given). Tasks opened from now on take
    the new values; open tasks keep the target they were opened with."""
    require_admin(actor)
    changes: dict[str, Any] = {}
    if name is not None:
        name = name.strip()
        if not name:
            raise _field_error("name", _("Give the policy a name."), "name_required")
        changes["name"] = name
    if target_business_minutes is not None:
        changes["target_business_minutes"] = sla_target_clean(target_business_minutes)
    if warn_at_percent is not None:
        changes["warn_at_percent"] = sla_warn_clean(warn_at_percent)
    if min_amount is not None:
        if min_amount < 0:
            raise _field_error(
                "min_amount",
                _("The amount cannot be negative."),
                "min_amount_negative",
            )
        changes["min_amount"] = min_amount
    elif clear_min_amount:
        changes["min_amount"] = None
    with transaction.atomic(durable=True):
        policy = SLAPolicy.objects.select_for_update().filter(priority=priority).first()
        if policy is None:
            raise NotFoundError(_("There is no SLA policy for this priority."))
        before = {field: getattr(policy, field) for field in changes}
        changed = {f: v for f, v in changes.items() if before[f] != v}
        if not changed:
            return policy
        for field, value in changed.items():
            setattr(policy, field, value)
        policy.effective_from = timezone.now()
        policy.changed_by = actor
        policy.save(update_fields=[*changed, "effective_from", "changed_by"])
        audit_record(
            actor=actor,
            action="sla_policy.changed",
            obj=policy,
            data={
                "priority": policy.priority,
                "before": {f: before[f] for f in changed},
                "after": changed,
                "effective_from": policy.effective_from,
            },
        )
    return policy


# ------------------------------------------------------------- reasons, replies


def _code_clean(code: str) -> str:
    cleaned = slugify(code or "").replace("-", "_")
    if not cleaned or cleaned != (code or "").strip():
        raise _field_error(
            "code",
            _(
                "Use lower-case letters, digits and underscores for the code "
                "(for example wrong_buyer)."
            ),
            "invalid_code",
        )
    return cleaned


def _text_clean(field: str, value: str | None, label: Any) -> str:
    value = (value or "").strip()
    if not value:
        raise _field_error(
            field, _("%(field)s is required.") % {"field": label}, "required"
        )
    return value


REASON_TEXTS = {
    "label_zh": _("The Chinese label"),
    "label_en": _("The English label"),
}
REPLY_TEXTS = {
    "title_zh": _("The Chinese title"),
    "title_en": _("The English title"),
    "body_zh": _("The Chinese text"),
    "body_en": _("The English text"),
}


def _duplicate(code: str) -> ApplicationError:
    return _field_error(
        "code",
        _("The code %(code)s is already taken: choose another.") % {"code": code},
        "duplicate_code",
    )


def _last_active_reason(reason: RejectionReason) -> None:
    others = (
        RejectionReason.objects.select_for_update()
        .filter(is_active=True)
        .exclude(pk=reason.pk)
    )
    if not others.exists():
        raise _field_error(
            "is_active",
            _(
                "This is the last active rejection reason: reviewers could not reject. "
                "Add or reactivate another one first."
            ),
            "last_active_reason",
        )


def _coded_create(
    model: type[Any],
    *,
    actor: Any,
    code: str,
    texts: dict[str, str],
    labels: dict[str, Any],
    flags: dict[str, Any],
    action: str,
) -> Any:
    """Create a row named by a new ``code``: the code and the ``texts`` cleaned
    (``labels`` name them in errors), a taken code refused; saved with ``flags`` and
    audited as ``action`` in one transaction."""
    require_admin(actor)
    code = _code_clean(code)
    cleaned = {f: _text_clean(f, v, labels[f]) for f, v in texts.items()}
    try:
        with transaction.atomic(durable=True):
            if model.objects.filter(code=code).exists():
                raise _duplicate(code)
            row = model.objects.create(code=code, **cleaned, **flags)
            audit_record(
                actor=actor,
                action=action,
                obj=row,
                data={"code": code, **cleaned, **flags},
            )
    except IntegrityError:  # created by someone else at the same moment
        raise _duplicate(code) from None
    return row


def rejection_reason_create(
    *,
    actor: Any,
    code: str,
    label_zh: str,
    label_en: str,
    comment_required: bool = False,
    is_active: bool = True,
    position: int = 0,
) -> RejectionReason:
    return _coded_create(
        RejectionReason,
        actor=actor,
        code=code,
        texts={"label_zh": label_zh, "label_en": label_en},
        labels=REASON_TEXTS,
        flags={
            "comment_required": comment_required,
            "is_active": is_active,
            "position": position,
        },
        action="rejection_reason.created",
    )


def _coded_update(
    model: type[Any],
    *,
    actor: Any,
    code: str,
    changes: dict[str, Any],
    texts: dict[str, Any],
    flags: set[str],
    missing: Any,
    action: Callable[[Any, dict[str, Any]], str],
    check: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Any:
    """Change the fields of a row found by its ``code`` (which never changes):
    ``texts`` are cleaned, anything else than ``texts`` and ``flags`` is refused;
    nothing changed writes nothing; otherwise saved and audited as ``action(row,
    changed)`` in one transaction. ``check`` may refuse the change first."""
    require_admin(actor)
    unknown = set(changes) - ({*texts} | flags)
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            code="read_only_field",
        )
    for field in texts:
        if field in changes:
            changes[field] = _text_clean(field, changes[field], texts[field])
    with transaction.atomic(durable=True):
        row = model.objects.select_for_update().filter(code=code).first()
        if row is None:
            raise NotFoundError(missing)
        changed = {f: v for f, v in changes.items() if getattr(row, f) != v}
        if not changed:
            return row
        if check is not None:
            check(row, changed)
        before = {f: getattr(row, f) for f in changed}
        for field, value in changed.items():
            setattr(row, field, value)
        row.save(update_fields=list(changed))
        audit_record(
            actor=actor,
            action=action(row, changed),
            obj=row,
            data={"code": code, "before": before, "after": changed},
        )
    return row


def _reason_action(reason: RejectionReason, changed: dict[str, Any]) -> str:
    if set(changed) == {"is_active"}:
        return (
            "rejection_reason.reactivated"
            if reason.is_active
            else "rejection_reason.retired"
        )
    return "rejection_reason.changed"


def _reason_check(reason: RejectionReason, changed: dict[str, Any]) -> None:
    if changed.get("is_active") is False:
        _last_active_reason(reason)


def rejection_reason_update(
    *, actor: Any, code: str, **changes: Any
) -> RejectionReason:
    """Change labels, ``comment_required``, ``is_active`` (retire or reactivate) or
    ``position``; the code never changes (decided tasks refer to it)."""
    return _coded_update(
        RejectionReason,
        actor=actor,
        code=code,
        changes=changes,
        texts=REASON_TEXTS,
        flags={"comment_required", "is_active", "position"},
        missing=_("There is no rejection reason with this code."),
        action=_reason_action,
        check=_reason_check,
    )


def canned_reply_create(
    *,
    actor: Any,
    code: str,
    title_zh: str,
    title_en: str,
    body_zh: str,
    body_en: str,
    is_active: bool = True,
    position: int = 0,
) -> CannedReply:
    return _coded_create(
        CannedReply,
        actor=actor,
        code=code,
        texts={
            "title_zh": title_zh,
            "title_en": title_en,
            "body_zh": body_zh,
            "body_en": body_en,
        },
        labels=REPLY_TEXTS,
        flags={"is_active": is_active, "position": position},
        action="canned_reply.created",
    )


def canned_reply_update(*, actor: Any, code: str, **changes: Any) -> CannedReply:
    return _coded_update(
        CannedReply,
        actor=actor,
        code=code,
        changes=changes,
        texts=REPLY_TEXTS,
        flags={"is_active", "position"},
        missing=_("There is no canned reply with this code."),
        action=lambda reply, changed: "canned_reply.changed",
    )
