"""Roles are groups of permissions. ``User.role`` picks the group; permission checks go
through ``user.has_perm`` so a Django superuser is an admin everywhere."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUBMITTER = "submitter", _("Submitter")
    REVIEWER = "reviewer", _("Reviewer")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class Perm(StrEnum):
    """Permission codenames (on the User model), one per capability."""

    SUBMIT = "submit_invoice"
    REVIEW = "review_invoice"
    SUPERVISE = "supervise_reviews"
    ADMINISTER = "administer_portal"

    @property
    def full(self) -> str:
        return f"accounts.{self.value}"


PERMISSION_LABELS = {
    Perm.SUBMIT: "Can submit invoices and follow their own organization's invoices",
    Perm.REVIEW: "Can claim and decide review tasks",
    Perm.SUPERVISE: "Can supervise the review queue",
    Perm.ADMINISTER: "Can administer organizations, users and rules",
}

ROLE_PERMISSIONS: dict[str, tuple[Perm, ...]] = {
    Role.SUBMITTER: (Perm.SUBMIT,),
    Role.REVIEWER: (Perm.REVIEW,),
    Role.SUPERVISOR: (Perm.REVIEW, Perm.SUPERVISE),
    Role.ADMIN: (Perm.ADMINISTER, Perm.SUPERVISE),
}


def group_name(role: str) -> str:
    return f"role:{role}"


def sync_role_groups(**kwargs: Any) -> None:
    """Create one group per role with exactly its permissions (post_migrate)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from .models import User

    ct = ContentType.objects.get_for_model(User)
    perms = {}
    for perm in Perm:
        perms[perm], _created = Permission.objects.get_or_create(
            content_type=ct,
            codename=perm.value,
            defaults={"name": PERMISSION_LABELS[perm]},
        )
    for role, role_perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        group.permissions.set([perms[p] for p in role_perms])


def user_can(user: Any, perm: Perm) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(perm.full))
