"""Provisioning organizations and users. Every change is audited in its transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from invoiceportal.audit.services import audit_record

from .models import Organization, User
from .roles import Role, group_name
from .validators import validate_uscc

USER_FIELDS = ("email", "first_name", "last_name", "phone", "language", "is_active")


def _validate_tax_id(tax_id: str) -> str:
    tax_id = tax_id.strip().upper()
    try:
        validate_uscc(tax_id)
    except ValidationError as exc:
        raise ValidationError({"tax_id": exc.messages}) from exc
    return tax_id


def organization_create(
    *, actor: User | None, name: str, tax_id: str, is_active: bool = True
) -> Organization:
    tax_id = _validate_tax_id(tax_id)
    with transaction.atomic(durable=True):
        if Organization.objects.filter(tax_id=tax_id).exists():
            raise ValidationError(
                {"tax_id": _("An organization with this taxpayer ID already exists.")}
            )
        org = Organization.objects.create(
            name=name.strip(), tax_id=tax_id, is_active=is_active
        )
        audit_record(
            actor=actor,
            action="organization.create",
            obj=org,
            data={"name": org.name, "tax_id": org.tax_id},
        )
    return org


def organization_update(
    *, actor: User | None, organization: Organization, **changes: Any
) -> Organization:
    allowed = {"name", "tax_id", "is_active"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    if "tax_id" in changes:
        changes["tax_id"] = _validate_tax_id(changes["tax_id"])
    with transaction.atomic(durable=True):
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if (
            "tax_id" in changes
            and Organization.objects.filter(tax_id=changes["tax_id"])
            .exclude(pk=org.pk)
            .exists()
        ):
            raise ValidationError(
                {"tax_id": _("An organization with this taxpayer ID already exists.")}
            )
        before = {k: getattr(org, k) for k in changes}
        for key, value in changes.items():
            setattr(org, key, value)
        org.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            action="organization.update",
            obj=org,
            data={"before": before, "after": changes},
        )
    return org


def _check_role_organization(role: str, organization: Organization | None) -> None:
    if role == Role.SUBMITTER and organization is None:
        raise ValidationError(
            {"organization": _("A submitter must belong to an organization.")}
        )


def user_sync_groups(user: User) -> None:
    """Make group membership and staff status follow ``user.role``."""
    groups = list(Group.objects.filter(name=group_name(user.role)))
    user.groups.set(groups)
    is_staff = user.is_superuser or user.role == Role.ADMIN
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        User.objects.filter(pk=user.pk).update(is_staff=is_staff)


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str = Role.SUBMITTER,
    organization: Organization | None = None,
    **fields: Any,
) -> User:
    _check_role_organization(role, organization)
    extra = {k: v for k, v in fields.items() if k in USER_FIELDS}
    candidate = User(username=username, role=role, organization=organization, **extra)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    with transaction.atomic(durable=True):
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("This username is already taken.")})
        candidate.set_password(password)
        candidate.save()
        user_sync_groups(candidate)
        audit_record(
            actor=actor,
            action="user.create",
            obj=candidate,
            data={
                "username": username,
                "role": role,
                "organization": organization.pk if organization else None,
            },
        )
    return candidate


def user_update(*, actor: User | None, user: User, **changes: Any) -> User:
    password = changes.pop("password", None)
    allowed = {*USER_FIELDS, "role", "organization"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {
            k: (
                getattr(locked, k).pk
                if k == "organization" and locked.organization
                else getattr(locked, k)
            )
            for k in changes
        }
        for key, value in changes.items():
            setattr(locked, key, value)
        _check_role_organization(locked.role, locked.organization)
        if password:
            try:
                validate_password(password, user=locked)
            except ValidationError as exc:
                raise ValidationError({"password": exc.messages}) from exc
            locked.set_password(password)
        locked.save()
        user_sync_groups(locked)
        after = {
            k: (v.pk if k == "organization" and v is not None else v)
            for k, v in changes.items()
        }
        audit_record(
            actor=actor,
            action="user.update",
            obj=locked,
            data={"before": before, "after": after, "password_changed": bool(password)},
        )
    return locked


def user_set_language(*, user: User, language: str) -> User:
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        audit_record(
            actor=user, action="user.language", obj=user, data={"language": language}
        )
    return user
