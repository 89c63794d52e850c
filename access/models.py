"""Agencies, the people who work in them and the role each person holds in each agency.

Each agency is its own secrecy domain (OSL 8 kap.): later layers decide what crosses between them.
This module knows nothing of cases.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AgencyKind(models.TextChoices):
    SOCIAL_SERVICES_ADULTS = "socialtjanst_vuxen", _("Socialtjänsten, vuxen")
    SOCIAL_SERVICES_CHILDREN = "socialtjanst_barn", _("Socialtjänsten, barn och unga")
    POLICE = "polis", _("Polisen")
    HEALTH_CARE = "halso_sjukvard", _("Hälso- och sjukvård")
    SCHOOL = "skola", _("Skola och förskola")
    NON_PROFIT = "ideell", _("Ideell organisation/kvinnojour")
    OTHER = "annan", _("Annan myndighet")


class Role(models.TextChoices):
    HANDLAGGARE = "handlaggare", _("Handläggare")
    SAMORDNARE = "samordnare", _("Samordnare")
    CHEF = "chef", _("Chef")
    GRANSKARE = "granskare", _("Granskare")
    SYSTEMADMINISTRATOR = "systemadministrator", _("Systemadministratör")


# Roles whose work is with case data; later issues grant case access only to these.
CASEWORK_ROLES = frozenset({Role.HANDLAGGARE, Role.SAMORDNARE})


def _save_with_its_audit_event(instance: models.Model, save: Any, *args: Any, **kwargs: Any) -> None:
    """Run ``save`` in a transaction, so the audit event its post_save signal writes (access/events.py)
    commits with the change or not at all, also when the caller opened no transaction (the shell, a
    command). Django makes deletes atomic itself (its Collector), with their signals inside."""
    using = kwargs.get("using") or router.db_for_write(type(instance), instance=instance)
    with transaction.atomic(using=using):
        save(*args, **kwargs)


class Agency(models.Model):
    code = models.SlugField(
        _("kod"),
        max_length=40,
        unique=True,
        help_text=_("Kort unik kod, till exempel halmstad-soc-vuxen."),
    )
    name = models.CharField(_("namn"), max_length=200, unique=True)
    kind = models.CharField(_("typ"), max_length=30, choices=AgencyKind.choices)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("myndighet")
        verbose_name_plural = _("myndigheter")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        _save_with_its_audit_event(self, super().save, *args, **kwargs)


class User(AbstractUser):
    """A person who works in Skyddsnät. Never a person subjected to violence.

    ``public_id`` is what URLs and exports use; the sequential primary key stays internal.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("användare")
        verbose_name_plural = pgettext_lazy("plural", "användare")

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        _save_with_its_audit_event(self, super().save, *args, **kwargs)

    def roles(self) -> set[str]:
        return set(self.memberships.active().values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return self.memberships.active().filter(role=role).exists()


# Roles that take effect only when a second person confirms the grant (access/administration.py).
CONFIRMED_ROLES = frozenset({Role.HANDLAGGARE, Role.SAMORDNARE, Role.GRANSKARE})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        """Memberships in force: confirmed, not ended, in an active agency. Every right follows these."""
        return self.filter(agency__is_active=True, confirmed_at__isnull=False, ended_at__isnull=True)

    def current(self) -> MembershipQuerySet:
        """Not ended: in force or waiting for its second person."""
        return self.filter(ended_at__isnull=True)

    def pending(self) -> MembershipQuerySet:
        """Granted by one person and waiting for a second to confirm."""
        return self.filter(confirmed_at__isnull=True, ended_at__isnull=True)


class Membership(models.Model):
    """One user's role in one agency. A user may belong to several agencies, one role in each."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("användare")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("myndighet")
    )
    role = models.CharField(_("roll"), max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Who granted the role and who confirmed it. A membership made outside the administration views (the
    # demo seed, a command, a test) is in force at once; access/administration.py makes its grants pending
    # (confirmed_at empty) until a second person confirms them.
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("beviljad av")
    )
    confirmed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("bekräftad av"),
    )
    confirmed_at = models.DateTimeField(_("bekräftad"), null=True, blank=True, default=timezone.now)
    # Ended memberships are kept, so the trail and the administrator can tell who held what when.
    ended_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("avslutad av")
    )
    ended_at = models.DateTimeField(_("avslutad"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = pgettext_lazy("plural", "medlemskap")
        ordering = ["agency__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_role_per_user_and_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.agency}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.ended_at is None:
            check_role_combination(self.user, self.role, exclude=self.pk)
        _save_with_its_audit_event(self, super().save, *args, **kwargs)

    @property
    def in_force(self) -> bool:
        return self.confirmed_at is not None and self.ended_at is None and self.agency.is_active


class RoleCombinationError(ValidationError):
    pass


def check_role_combination(user: User, role: str, *, exclude: int | None = None) -> None:
    """An account never holds systemadministratör beside a casework role: whoever manages the accounts
    must not also read the cases (access/administration.py). Raises RoleCombinationError."""
    current = Membership.objects.current().filter(user=user)
    if exclude is not None:
        current = current.exclude(pk=exclude)
    others = set(current.values_list("role", flat=True))
    if role == Role.SYSTEMADMINISTRATOR and others & CASEWORK_ROLES:
        raise RoleCombinationError(
            _("En systemadministratör kan inte samtidigt ha en roll som handläggare eller samordnare.")
        )
    if role in CASEWORK_ROLES and Role.SYSTEMADMINISTRATOR in others:
        raise RoleCombinationError(
            _("En handläggare eller samordnare kan inte samtidigt vara systemadministratör.")
        )


def auditor_scope(codes: list[str]) -> models.Q:
    """What the granskare of the agencies ``codes`` read: events of staff acting in those agencies,
    events about objects those agencies own, and events with no acting agency (logins, logouts, failed
    logins, lockouts) by users who are or were members of them.

    Events that belong to no agency at all, those of the system (a scheduled export, a command) and of
    users who were never a member anywhere (a superuser made at the command line), about no agency's
    object, are read by every granskare: otherwise nobody would ever see them. Not the row changes
    django-auditlog reports (``model.*``): those name rows of any agency's cases."""
    unaffiliated = models.Q(actor__isnull=True) | models.Q(
        actor__in=User.objects.filter(memberships__isnull=True).values("pk")
    )
    return (
        models.Q(agency_code__in=codes)
        | models.Q(object_agency__in=codes)
        | models.Q(agency_code="", actor__in=Membership.objects.filter(agency__code__in=codes).values("user"))
        | (models.Q(agency_code="", object_agency="") & unaffiliated & ~models.Q(action__startswith="model."))
    )


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def visible_to_auditor(self, user: User) -> AuditEventQuerySet:
        """The events a granskare may read, and the only way the compliance views reach the trail.

        Per agency in which ``user`` is an active granskare: the events of staff acting in that agency
        (``agency_code``), the events about objects that agency owns (``object_agency``), so its cases'
        readers from other agencies are seen too, and its members' events with no acting agency (logins).
        Several granskare roles give the union; no granskare role gives nothing (deny by default). The
        codes are read first, as literals, so each part of the condition can use its own index.
        """
        codes = list(
            Membership.objects.active()
            .filter(user=user, role=Role.GRANSKARE)
            .values_list("agency__code", flat=True)
        )
        if not codes:
            return self.none()
        return self.filter(auditor_scope(codes))


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail.

    It holds who did what to which public reference, when, from where and on what grounds; never a
    decrypted value. ``entry_hash`` covers every other field and the previous entry's hash, so editing,
    deleting or reordering an entry breaks the chain (see access/audit.py).
    """

    occurred_at = models.DateTimeField(_("tidpunkt"), db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("användare")
    )
    # Snapshots, so the trail still reads correctly after a user or agency is renamed or removed.
    actor_username = models.CharField(_("användarnamn"), max_length=150, blank=True)
    agency_code = models.CharField(_("myndighet"), max_length=40, blank=True)
    role = models.CharField(_("roll"), max_length=30, blank=True)
    action = models.CharField(_("händelse"), max_length=60, db_index=True)
    object_type = models.CharField(_("objekttyp"), max_length=40, blank=True)
    object_reference = models.CharField(_("referens"), max_length=64, blank=True)
    # The agency that owns the object (for a case: the owning agency), so its granskare sees every event
    # about its cases, also those by other agencies' users.
    object_agency = models.CharField(_("ägande myndighet"), max_length=40, blank=True)
    reason = models.CharField(_("grund"), max_length=300, blank=True)
    request_id = models.CharField(_("begäran"), max_length=64, blank=True)
    client_address = models.CharField(_("klientadress"), max_length=64, blank=True)
    details = models.JSONField(_("detaljer"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    # HMAC-SHA256 of entry_hash under a key derived from the audit signing key of ``mac_version``
    # (access/audit.py, event_mac), which never is in the database: whoever can write the database but
    # lacks the key cannot append, extend or rewrite the chain unseen. Empty on events written before
    # MACs, or where no signing key is configured.
    mac_version = models.CharField(max_length=20, blank=True, default="")
    mac = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("granskningshändelse")
        verbose_name_plural = pgettext_lazy("plural", "granskningshändelser")
        ordering = ["id"]
        # The granskare's searches walk the trail newest first within one of these, a page at a time.
        indexes = [
            models.Index(fields=["agency_code", "-id"], name="audit_actor_agency_newest"),
            models.Index(fields=["object_agency", "-id"], name="audit_owner_agency_newest"),
            models.Index(fields=["object_reference", "-id"], name="audit_reference_newest"),
            models.Index(fields=["actor", "-id"], name="audit_actor_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_reference}"


# The checkpoints and verification runs that guard the trail; defined apart, registered with this app.
# User administration's enrolment links and two-person account changes (access/administration.py).
from access.models_admin import AccountChange as AccountChange  # noqa: E402
from access.models_admin import EnrolmentLink as EnrolmentLink  # noqa: E402
from access.models_chain import AuditCheckpoint as AuditCheckpoint  # noqa: E402
from access.models_chain import AuditVerification as AuditVerification  # noqa: E402
