"""Provisioning organizations and users. Every change is audited in its transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from invoiceportal.audit.services import audit_record
from invoiceportal.common.errors import ApplicationError, PermissionDeniedError

from .access import user_permissions_invalidate
from .lockout import lockout_clear_for_username
from .models import Organization, User
from .roles import Role, group_name
from .tokens import api_tokens_revoke
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
    user_id = user.pk
    transaction.on_commit(lambda: user_permissions_invalidate(user_id))


def _is_superuser(actor: User | None) -> bool:
    return bool(actor is not None and getattr(actor, "is_superuser", False))


def _check_may_manage(actor: User | None, target: User) -> None:
    """An administrator never edits a superuser; only a superuser (or the system,
    ``actor=None``) does. Everyone may edit their own profile."""
    if actor is None or actor.pk == target.pk or not target.is_superuser:
        return
    if not _is_superuser(actor):
        raise PermissionDeniedError(
            _("Only a superuser may change a superuser's account."),
            code="superuser_protected",
        )


def _validated_password(password: str, user: User) -> str:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    return password


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None = None,
    role: str = Role.SUBMITTER,
    organization: Organization | None = None,
    **fields: Any,
) -> User:
    """Create a user. Without ``password`` the user gets an unusable one and an
    email with a one-time link to choose it. Only a superuser (or the system) may give
    an initial password, for provisioning scripts; it is audited as such."""
    _check_role_organization(role, organization)
    extra = {k: v for k, v in fields.items() if k in USER_FIELDS}
    candidate = User(username=username, role=role, organization=organization, **extra)
    if password and actor is not None and not _is_superuser(actor):
        raise ValidationError(
            {
                "password": _(
                    "Only a superuser may give an initial password. Leave it empty: "
                    "the user receives an email with a link to choose one."
                )
            }
        )
    if password:
        _validated_password(password, candidate)
    elif not candidate.email:
        raise ValidationError(
            {
                "email": _(
                    "An email address is needed to send the link that lets the user "
                    "choose a password."
                )
            }
        )
    with transaction.atomic(durable=True):
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": _("This username is already taken.")})
        if password:
            candidate.set_password(password)
        else:
            candidate.set_unusable_password()
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
                "initial_password": bool(password),
                "password_link_sent": not password,
            },
        )
        if not password:
            _queue_password_link(candidate, first=True)
    return candidate


def _check_keeps_an_administrator(
    actor: User | None, before: User, after_role: str, after_active: bool
) -> None:
    """Nobody deactivates themself or gives up their own administrator role, and the
    last active administrator is never demoted or deactivated (nobody could undo it
    from the portal). Administrators are the active users of the administrator role;
    a superuser of another role is a provisioning account and does not count."""
    if actor is not None and actor.pk == before.pk:
        gives_up_admin = before.role == Role.ADMIN and after_role != Role.ADMIN
        if gives_up_admin or (before.is_active and not after_active):
            raise ApplicationError(
                _(
                    "You cannot remove your own administrator role or deactivate your "
                    "own account. Ask another administrator."
                ),
                code="self_demotion",
            )
    was_admin = before.is_active and before.role == Role.ADMIN
    stays_admin = after_active and after_role == Role.ADMIN
    if not was_admin or stays_admin:
        return
    # Locked, so two administrators demoting each other at once cannot both pass.
    others = (
        User.objects.select_for_update()
        .filter(is_active=True, role=Role.ADMIN)
        .exclude(pk=before.pk)
    )
    if not list(others.values_list("pk", flat=True)):
        raise ApplicationError(
            _(
                "This is the last active administrator: the portal would have nobody "
                "to run it. Make someone else an administrator first."
            ),
            code="last_administrator",
        )


def user_change_allowed(
    *, actor: User | None, user: User, role: str, is_active: bool
) -> None:
    """The administrator rules of ``user_update`` for a form that saves by itself
    (the Django admin): raises ``ApplicationError`` when the change is refused."""
    with transaction.atomic():
        _check_keeps_an_administrator(actor, user, role, is_active)


def user_update(*, actor: User | None, user: User, **changes: Any) -> User:
    """Change a user's profile, role, organization or active flag. Passwords are never
    set here: the owner changes theirs, others get a link (``user_send_password_link``).
    Deactivating a user revokes their API tokens and ends every session at once.
    Nobody demotes or deactivates themself or the last active administrator."""
    if changes.get("password"):
        raise ValidationError(
            {
                "password": _(
                    "Passwords are not set for someone else. Send the user a link "
                    "to choose a new password instead."
                )
            }
        )
    allowed = {*USER_FIELDS, "role", "organization"}
    changes = {k: v for k, v in changes.items() if k in allowed}
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_may_manage(actor, locked)
        before = {
            k: (
                getattr(locked, k).pk
                if k == "organization" and locked.organization
                else getattr(locked, k)
            )
            for k in changes
        }
        _check_keeps_an_administrator(
            actor,
            locked,
            changes.get("role", locked.role),
            changes.get("is_active", locked.is_active),
        )
        for key, value in changes.items():
            setattr(locked, key, value)
        _check_role_organization(locked.role, locked.organization)
        revoked = 0
        if before.get("is_active") and not locked.is_active:
            # Sessions end at once (the session hash changes), tokens are deleted.
            locked.auth_epoch = locked.auth_epoch + 1
            revoked = api_tokens_revoke(user=locked)
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
            data={"before": before, "after": after, "tokens_revoked": revoked},
        )
    return locked


def user_unlock(*, actor: User | None, user: User) -> int:
    """Lift the sign-in locks of a user's username, from every address (django-axes
    failures). Returns how many failure records were cleared; audited."""
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_may_manage(actor, locked)
        cleared = lockout_clear_for_username(locked.get_username())
        audit_record(
            actor=actor, action="user.unlock", obj=locked, data={"cleared": cleared}
        )
    return cleared


def _password_link(user: User) -> str:
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _queue_password_link(user: User, *, first: bool) -> None:
    """Mail a one-time link to choose a password, after the commit. The link is
    Django's password-reset token: it stops working once the password changed."""
    user_id = user.pk

    def send() -> None:
        target = User.objects.get(pk=user_id)
        with translation.override(target.language or settings.LANGUAGE_CODE):
            context = {"user": target, "link": _password_link(target), "first": first}
            subject = "".join(
                render_to_string(
                    "registration/set_password_subject.txt", context
                ).splitlines()
            )
            body = render_to_string("registration/set_password_email.txt", context)
        send_mail(subject, body, None, [target.email])

    transaction.on_commit(send)


def user_send_password_link(*, actor: User | None, user: User) -> User:
    """An administrator's way to let someone (back) in: a one-time link by email."""
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        _check_may_manage(actor, locked)
        if not locked.email:
            raise ValidationError(
                {
                    "email": _(
                        "This user has no email address. Add one, then send the link."
                    )
                }
            )
        if not locked.is_active:
            raise ApplicationError(
                _("This account is disabled. Activate it before sending a link."),
                code="user_inactive",
            )
        audit_record(actor=actor, action="user.password_link_sent", obj=locked, data={})
        _queue_password_link(locked, first=False)
    return locked


PASSWORD_EVENTS = {
    "change": "user.password_change",
    "reset": "user.password_reset",
}


def user_password_set(
    *, actor: User | None, user: User, password: str, reason: str, address: str = ""
) -> User:
    """The owner's own password: changed on the page (``actor`` is the user) or
    chosen through an emailed link (``reason="reset"``, the link proved the owner).
    Every API token of the user is revoked; other sessions end with the old password
    hash. Nobody sets another person's password here."""
    if reason not in PASSWORD_EVENTS:
        raise ValueError(f"unknown password event {reason!r}")
    if actor is not None and actor.pk != user.pk:
        raise PermissionDeniedError(
            _("Only the account's owner chooses its password."),
            code="permission_denied",
        )
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        _validated_password(password, locked)
        locked.set_password(password)
        locked.save(update_fields=["password"])
        revoked = api_tokens_revoke(user=locked)
        audit_record(
            actor=locked,
            action=PASSWORD_EVENTS[reason],
            obj=locked,
            data={"address": address, "tokens_revoked": revoked},
        )
    if reason == "reset":
        lockout_clear_for_username(locked.get_username())
    user.password = locked.password
    return locked


def user_sign_out_everywhere(*, user: User, address: str = "") -> User:
    """End every session of the user (on every device) and revoke every API token."""
    with transaction.atomic(durable=True):
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.auth_epoch = F("auth_epoch") + 1
        locked.save(update_fields=["auth_epoch"])
        locked.refresh_from_db(fields=["auth_epoch"])
        revoked = api_tokens_revoke(user=locked)
        audit_record(
            actor=locked,
            action="auth.sign_out_everywhere",
            obj=locked,
            data={"address": address, "tokens_revoked": revoked},
        )
    user.auth_epoch = locked.auth_epoch
    return locked


def auth_sign_in_record(*, user: User, address: str, via: str) -> None:
    """Audit a successful sign-in (page, Django admin)."""
    with transaction.atomic():
        audit_record(
            actor=user,
            action="auth.sign_in",
            obj=user,
            data={"address": address, "via": via},
        )


def auth_sign_in_failed_record(
    *, username: str, address: str, via: str, locked: bool
) -> None:
    """Audit a refused sign-in: wrong credentials, or a lock in force."""
    known = User.objects.filter(username=username[:150]).first() if username else None
    with transaction.atomic():
        audit_record(
            actor=None,
            action="auth.sign_in_failed",
            obj=known,
            data={
                "username": username[:150],
                "address": address,
                "via": via,
                "locked": locked,
            },
        )


def user_set_language(*, user: User, language: str) -> User:
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
        audit_record(
            actor=user, action="user.language", obj=user, data={"language": language}
        )
    return user
