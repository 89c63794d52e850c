"""What user administration keeps: one-time enrolment links and account changes waiting for a second person.

An enrolment link is the only way to bind an authenticator: a new user gets one, and so does a user whose
login is reset. The database holds only a hash of the link's secret, so a dump yields no usable link.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class EnrolmentPurpose(models.TextChoices):
    INVITATION = "invitation", _("Nytt konto")
    RESET = "reset", _("Återställd inloggning")


class EnrolmentLinkQuerySet(models.QuerySet["EnrolmentLink"]):
    def usable(self) -> EnrolmentLinkQuerySet:
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class EnrolmentLink(models.Model):
    """A single-use, short-lived link that lets one user choose a password and bind an authenticator."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("användare")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(_("syfte"), max_length=20, choices=EnrolmentPurpose.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("skapad av"),
    )
    created_at = models.DateTimeField(_("skapad"), default=timezone.now)
    expires_at = models.DateTimeField(_("giltig till"))
    used_at = models.DateTimeField(_("använd"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    objects = EnrolmentLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("aktiveringslänk")
        verbose_name_plural = _("aktiveringslänkar")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.public_id}"

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class AccountChangeKind(models.TextChoices):
    LOGIN_RESET = "login_reset", _("Återställ inloggning")
    EMAIL = "email", _("Ändra e-postadress")


class AccountChange(models.Model):
    """A change to someone's account that takes effect only when a second person confirms it.

    Resetting a login and changing the address enrolment links go to are the two ways to take over an
    account; with both behind a second person, one administrator alone cannot make himself someone else.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("användare")
    )
    kind = models.CharField(_("ändring"), max_length=20, choices=AccountChangeKind.choices)
    new_email = models.EmailField(_("ny e-postadress"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("begärd av")
    )
    requested_at = models.DateTimeField(_("begärd"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bekräftad av"),
    )
    confirmed_at = models.DateTimeField(_("bekräftad"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("avbruten"), null=True, blank=True)

    class Meta:
        verbose_name = _("kontoändring")
        verbose_name_plural = _("kontoändringar")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    @property
    def pending(self) -> bool:
        return self.confirmed_at is None and self.cancelled_at is None
