from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from invoiceportal.common.models import TimeStampedModel

from .roles import PERMISSION_LABELS, Role
from .validators import validate_uscc


class Organization(TimeStampedModel):
    """An enterprise that submits invoices, identified by its USCC."""

    name = models.CharField(_("name"), max_length=200)
    tax_id = models.CharField(
        _("taxpayer ID"),
        max_length=18,
        unique=True,
        validators=[validate_uscc],
        help_text=_("18-character Unified Social Credit Code."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_id})"


class User(AbstractUser):
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("organization"),
    )
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.SUBMITTER
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # Raised by "sign out everywhere": every session signed in before ends (it is part
    # of the session hash, like the password).
    auth_epoch = models.PositiveIntegerField(_("sign-in generation"), default=0)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [(p.value, label) for p, label in PERMISSION_LABELS.items()]

    # The permission codenames ("app.codename") primed for this request from the shared
    # cache (accounts.access.user_permissions_prime); None: ask the backends.
    primed_permissions: frozenset[str] | None = None

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        if obj is None and self.primed_permissions is not None:
            if not self.is_active:
                return False
            return self.is_superuser or perm in self.primed_permissions
        return super().has_perm(perm, obj)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password), extended with
        ``auth_epoch`` once it was raised, so existing sessions survive until then."""
        if not self.auth_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.auth_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def effective_role(self) -> str:
        """A superuser is an admin everywhere."""
        return Role.ADMIN if self.is_superuser else self.role

    def get_effective_role_display(self) -> str:
        return str(Role(self.effective_role).label)
