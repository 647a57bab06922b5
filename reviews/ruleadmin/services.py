"""Admin services of the rule pages: the seller watchlist and blocklist, and
restoring an earlier version of a rule.

Rules themselves change through ``reviews.rules.rule_update`` and the registry through
``reviews.registry_import.registry_import``; this module holds the small services those
modules do not: adding a seller to a list and removing it, restoring a rule version,
each audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.roles import Perm, user_can
from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from invoiceportal.common.taxid import TaxIdForm, classify_tax_id
from reviews.checks import normalize
from reviews.checks.catalog import RULES_BY_CODE
from reviews.models import Rule, RuleVersion, SellerList, SellerListEntry
from reviews.rules import (
    rule_change_allowed,
    rule_save_version,
    rules_ensure_defaults,
)


def _require_admin(actor: Any) -> None:
    if not user_can(actor, Perm.ADMINISTER):
        raise PermissionDeniedError(
            _("Only administrators can change the seller lists.")
        )


def seller_tax_id_clean(value: str) -> str:
    """The tax ID as lists store it (upper case, no spaces, half-width), or an
    ``ApplicationError`` saying which forms are accepted."""
    cleaned = normalize.tax_id(value)
    if not cleaned:
        raise ApplicationError(
            _("Enter the seller's taxpayer ID."), code="tax_id_required"
        )
    if classify_tax_id(cleaned) == TaxIdForm.INVALID:
        raise ApplicationError(
            _(
                "%(value)s is not a valid taxpayer ID. Enter the 18-character unified "
                "social credit code (check the last character), an older 15, 17 or "
                "20-character ID, or an 18-digit resident ID number."
            )
            % {"value": cleaned},
            code="invalid_tax_id",
        )
    return cleaned


def seller_list_entry_add(
    *, actor: Any, seller_tax_id: str, list_name: str, note: str = ""
) -> SellerListEntry:
    """Put a seller on the watchlist or the blocklist; refuses invalid tax IDs and a
    seller already on that list."""
    _require_admin(actor)
    if list_name not in SellerList.values:
        raise ApplicationError(
            _("Choose the watchlist or the blocklist."), code="invalid_list"
        )
    tax_id = seller_tax_id_clean(seller_tax_id)
    already = ApplicationError(
        _("%(tax_id)s is already on this list (%(list)s).")
        % {"tax_id": tax_id, "list": SellerList(list_name).label},
        code="already_listed",
    )
    try:
        with transaction.atomic(durable=True):
            if SellerListEntry.objects.filter(
                seller_tax_id=tax_id, list=list_name
            ).exists():
                raise already
            entry = SellerListEntry.objects.create(
                seller_tax_id=tax_id,
                list=list_name,
                note=(note or "").strip(),
                added_by=actor,
            )
            audit_record(
                actor=actor,
                action="seller_list.added",
                obj=entry,
                data={"seller_tax_id": tax_id, "list": list_name, "note": entry.note},
            )
    except IntegrityError:  # added by someone else at the same moment
        raise already from None
    return entry


def seller_list_entry_remove(*, actor: Any, entry_id: int) -> SellerListEntry:
    """Take a seller off a list; returns the removed entry (without a pk)."""
    _require_admin(actor)
    with transaction.atomic(durable=True):
        entry = SellerListEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise NotFoundError(
                _("This seller is no longer on the list: nothing to remove.")
            )
        data = {
            "seller_tax_id": entry.seller_tax_id,
            "list": entry.list,
            "note": entry.note,
        }
        audit_record(actor=actor, action="seller_list.removed", obj=entry, data=data)
        entry.delete()
    return entry


def rule_version_restore(
    *, actor: Any, code: str, version: int, change_note: str
) -> Rule:
    """Make a new version of the rule with an earlier version's parameters, outcome
    and enabled flag; the history keeps every version. Audited (``rule.restored``)
    in the same transaction.

    Refuses, changing nothing: a user who is not an admin, an unknown rule or
    version, an empty change note, parameters the catalog no longer accepts, and a
    version whose settings are already the rule's.
    """
    note = rule_change_allowed(
        actor=actor,
        code=code,
        change_note=change_note,
        note_missing=_("Say why this version is restored: a change note is required."),
    )
    spec = RULES_BY_CODE[code]
    rules_ensure_defaults()
    with transaction.atomic(durable=True):
        rule = Rule.objects.select_for_update().get(code=code)
        old = RuleVersion.objects.filter(rule=rule, version=version).first()
        if old is None:
            raise NotFoundError(
                _("Rule %(code)s has no version %(version)s.")
                % {"code": code, "version": version}
            )
        params = dict(old.params or {})
        if not spec.validate_params(params).ok:
            raise ApplicationError(
                _(
                    "Version %(version)s's parameters are no longer valid for this "
                    "rule: edit the rule instead. Nothing was changed."
                )
                % {"version": version},
                code="invalid_params",
            )
        after = {
            "enabled": old.enabled,
            "outcome_on_fail": old.outcome_on_fail,
            "params": params,
        }
        rule_save_version(
            rule,
            actor=actor,
            settings=after,
            note=note,
            action="rule.restored",
            data={"code": code, "restored_version": version},
            no_change=_(
                "Version %(version)s has the rule's current settings: nothing to "
                "restore."
            )
            % {"version": version},
        )
    return rule
