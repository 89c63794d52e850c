"""The case record.

Every identifying value and every free text is stored sealed (``*_sealed`` columns, AES-256-GCM under
the case's data key, see cases/crypto.py and cases/vault.py). What stays in plaintext is what the system
must query without keys and what identifies nobody: the opaque reference, the owning agency, status and
dates, the protected-identity level (access control needs it) and the blind index.

Special-category categories (flags, forms of violence, context) are sealed on the case; their countable
copy lives sealed in one StatisticsBlock per half-year (cases/statistics.py), with no row per case.
"""

from __future__ import annotations

import datetime
import secrets
import uuid
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.choices import (
    CaseStatus,
    DisclosureEnd,
    IdentityNumberKind,
    InformationCategory,
    LegalBasis,
    MeasureKind,
    ProtectedIdentity,
    RiskInstrument,
    RiskLevel,
)

# No 0/O, 1/I/L: references are read aloud over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    """An opaque, random case reference such as ``VR-7K3F-Q9`` (about 2^30 possibilities)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"VR-{chars[:4]}-{chars[4:]}"


class CaseQuerySet(models.QuerySet["Case"]):
    def _reached_by(self, user: User) -> tuple[CaseQuerySet, QuerySet[Any], QuerySet[Any]] | None:
        """The three ways a user reaches a case, the one definition both methods below build on:
        the cases of an agency where they do casework, the cases disclosed to such an agency (a
        disclosure in force, backed by that agency's own guardian grant), and their own unexpired
        emergency accesses. The last two are queries of case ids. None: the user reaches nothing."""
        if not user.is_authenticated or not user.is_active:
            return None
        agencies = Membership.objects.active().filter(user=user, role__in=CASEWORK_ROLES).values("agency")
        # The recipient agency's own guardian grant must back the disclosure (group "myndighet:<code>").
        recipient_grant = CaseGroupObjectPermission.objects.filter(
            content_object=OuterRef("case"),
            permission__codename="view_case",
            group__name=Concat(Value("myndighet:"), OuterRef("recipient__code")),
        )
        owned = Case.objects.filter(agency__in=agencies).order_by()
        disclosed = (
            Disclosure.objects.active()
            .filter(recipient__in=agencies)
            .filter(Exists(recipient_grant))
            .order_by()
            .values("case")
        )
        emergency = EmergencyAccess.objects.active().filter(user=user).order_by().values("case")
        return owned, disclosed, emergency

    def visible_to(self, user: User) -> CaseQuerySet:
        """The one scoping of every case list and search: the cases ``user`` reaches (``_reached_by``).

        Built as ``pk IN (owned UNION disclosed UNION emergency)``: each part is an indexed lookup, and
        the union has no duplicates, so a user with several memberships never sees a case twice. (An
        OR of three correlated ``Exists`` made the database test every case in the table.)
        """
        reached = self._reached_by(user)
        if reached is None:
            return self.none()
        owned, disclosed, emergency = reached
        return self.filter(pk__in=owned.values("pk").union(disclosed, emergency))

    def identity_visible_to(self, user: User) -> CaseQuerySet:
        """The cases whose identity ``user`` may read: the scoping of every search by personnummer or
        samordningsnummer, so a number is matched only where the user could already see it.

        Owned cases; cases disclosed to one of the user's casework agencies with the identity category
        (the recipient agency's own ``view_case_identity`` grant, which follows the disclosures in force);
        emergency accesses. Outside the owning agency never a case with a protected identity
        (cases/permissions.py hides it there). One query, of the same shape whether or not anything
        matches, so a hit outside this scope costs what a miss costs.
        """
        reached = self._reached_by(user)
        if reached is None:
            return self.none()
        owned, disclosed, emergency = reached
        identity_grant = CaseGroupObjectPermission.objects.filter(
            content_object=OuterRef("case"),
            permission__codename="view_case_identity",
            group__name=Concat(Value("myndighet:"), OuterRef("recipient__code")),
        )
        unprotected = Q(case__person__protected_identity=ProtectedIdentity.NONE)
        # The disclosure in force must itself carry the identity category: a grant outlives an expired
        # disclosure until the daily job drops it. (A JSON list of codes; icontains on the quoted code
        # works the same on SQLite and PostgreSQL.)
        with_identity = Q(categories__icontains=f'"{InformationCategory.IDENTITY.value}"')
        disclosed_identity = disclosed.filter(with_identity, unprotected, Exists(identity_grant))
        emergency_identity = emergency.filter(unprotected)
        return self.filter(pk__in=owned.values("pk").union(disclosed_identity, emergency_identity))

    def findable_by_number(self, user: User) -> CaseQuerySet:
        """The cases the emergency search may find for ``user`` by identity number: those whose
        identity the user may read (``identity_visible_to``), and those the user does not reach at all
        whose person has no protected identity (what an emergency access is for). Never a case the user
        holds without the identity category, never a protected identity outside the owning agency.
        One query of the same shape whatever it finds, so a withheld case costs what a miss costs."""
        if self._reached_by(user) is None:
            return self.none()
        unreached = Q(person__protected_identity=ProtectedIdentity.NONE) & ~Q(
            pk__in=Case.objects.visible_to(user).values("pk")
        )
        return self.filter(Q(pk__in=Case.objects.identity_visible_to(user).values("pk")) | unreached)

    def reached_ids(self, user: User, ordering: tuple[str, ...]) -> QuerySet[Any]:
        """Rows of (id, *ordering columns) of the cases ``user`` reaches, in ``ordering``: a union of
        the three ways in, each part carrying the ordering columns (the query behind ``page_for``)."""
        columns = ["pk", *(name.lstrip("-") for name in ordering)]
        reached = self._reached_by(user)
        if reached is None:
            return Case.objects.none().values_list(*columns)
        owned, disclosed, emergency = reached
        return (
            owned.values_list(*columns)
            .union(
                Case.objects.filter(pk__in=disclosed).order_by().values_list(*columns),
                Case.objects.filter(pk__in=emergency).order_by().values_list(*columns),
            )
            .order_by(*ordering)
        )

    def page_for(
        self, user: User, number: int | str | None, *, ordering: tuple[str, ...], per_page: int
    ) -> Page[Case]:
        """One page of the cases ``user`` reaches (exactly ``visible_to(user)``), in ``ordering`` (plain
        columns of Case), with agency, responsible and person loaded.

        Three queries whatever the page: the count, the page's ids, then those rows. The count and
        the ids come from a union of the three ways in (``_reached_by``), each part carrying the
        ordering columns, so the database sorts the few thousand cases a user reaches instead of
        matching a million cases against them (see benchmark_case_list). The rows are loaded by the
        ids that query just returned, never by anything the caller passes in.
        """
        page = Paginator(self.reached_ids(user, ordering), per_page).get_page(number)
        page_ids: list[uuid.UUID] = [row[0] for row in page.object_list]
        rows = self.filter(pk__in=page_ids).select_related("agency", "responsible", "person")
        by_id = {case.pk: case for case in rows}
        # A case deleted between the two queries (gallring) simply drops out of the page.
        rows_page = cast("Page[Case]", page)
        rows_page.object_list = [by_id[pk] for pk in page_ids if pk in by_id]
        return rows_page

    def open(self) -> CaseQuerySet:
        return self.exclude(status=CaseStatus.CLOSED)


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("ärendereferens"), max_length=16, unique=True, default=new_reference)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="cases", verbose_name=_("myndighet")
    )
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField(_("öppnat"))
    closed_on = models.DateField(_("avslutat"), null=True, blank=True)
    last_entry_on = models.DateField(_("senaste anteckning"))
    responsible = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responsible_cases",
        verbose_name=_("ansvarig handläggare"),
    )
    legal_hold = models.BooleanField(_("bevarandebeslut"), default=False)
    # Contexts, forms of violence, HRV subtypes, relations, flags and children, as sealed JSON.
    classification_sealed = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("ärende")
        verbose_name_plural = pgettext_lazy("plural", "ärenden")
        ordering = ["-opened_on", "reference"]
        # No model-wide permissions at all: case access is granted per case (django-guardian, direct
        # foreign-key tables below), so nobody can be given "view every case" by a checkbox.
        default_permissions = ()
        permissions = [
            ("view_case", "Se att ärendet finns"),
            ("view_case_identity", "Se identitet och kontaktuppgifter"),
            ("view_case_violence", "Se våldsbild och händelser"),
            ("view_case_summary", "Se sammanfattning och bidrag"),
            ("view_case_risk", "Se riskbedömningar"),
            ("view_case_measures", "Se skyddsinsatser"),
            ("view_case_children", "Se barn i hushållet"),
            ("contribute_to_case", "Skriva myndighetens eget bidrag"),
        ]
        indexes = [
            models.Index(fields=["agency", "status"]),
            models.Index(fields=["status", "last_entry_on"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.CLOSED) | Q(closed_on__isnull=False),
                name="closed_case_has_date",
            )
        ]

    def __str__(self) -> str:
        # The reference only: str() ends up in logs, admin and error pages.
        return self.reference


class CaseKey(models.Model):
    """A case's data key, wrapped by a versioned key-encryption key. Lives in the key store database
    (cases/routers.py), hence no foreign key: deleting this row shreds the case."""

    case_id = models.UUIDField(primary_key=True)
    kek_version = models.CharField(max_length=40, db_index=True)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key of {self.case_id} ({self.kek_version})"


class Person(models.Model):
    """The person subjected to violence. All identity is sealed; with protected identity there is
    never an address (the constraint holds even against code that forgets)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="person")
    identity_kind = models.CharField(
        max_length=20, choices=IdentityNumberKind.choices, default=IdentityNumberKind.PERSONNUMMER
    )
    identity_number_sealed = models.BinaryField(default=b"")
    # HMAC blind index of the normalised number, for exact-match lookup only.
    identity_index = models.CharField(max_length=64, blank=True, db_index=True)
    name_sealed = models.BinaryField(default=b"")
    contact_sealed = models.BinaryField(default=b"")
    safe_contact_sealed = models.BinaryField(default=b"")
    address_sealed = models.BinaryField(default=b"")
    legal_gender_sealed = models.BinaryField(default=b"")
    birth_year_sealed = models.BinaryField(default=b"")
    protected_identity = models.CharField(
        _("skyddade personuppgifter"),
        max_length=30,
        choices=ProtectedIdentity.choices,
        default=ProtectedIdentity.NONE,
    )

    class Meta:
        verbose_name = _("våldsutsatt person")
        verbose_name_plural = pgettext_lazy("plural", "våldsutsatta personer")
        constraints = [
            models.CheckConstraint(
                condition=Q(protected_identity=ProtectedIdentity.NONE) | Q(address_sealed=b""),
                name="protected_identity_has_no_address",
            )
        ]

    def __str__(self) -> str:
        return f"person in {self.case_id}"

    @property
    def has_protected_identity(self) -> bool:
        return self.protected_identity != ProtectedIdentity.NONE


class SealedValueNotOpenError(RuntimeError):
    """A sealed value of a row read from the database was used before ``CaseVault.open_values``."""


def sealed_value(column: str, name: str) -> property:
    """One value kept in the sealed JSON column ``<column>_sealed`` (with the row's other values there),
    read and set like a field. A new row takes it as a keyword argument (Django sets properties); a row
    read from the database has it only after ``CaseVault.open_values(row, column)``, and using it
    before that is an error rather than an empty value that would be counted or shown as real."""
    opened = f"_opened_{column}"

    def get(self: models.Model) -> str:
        values = self.__dict__.get(opened)
        if values is None:
            if self._state.adding:
                return ""
            raise SealedValueNotOpenError(f"{type(self).__name__}.{name} is sealed; open it first.")
        return str(values.get(name, ""))

    def put(self: models.Model, value: str) -> None:
        self.__dict__.setdefault(opened, {})[name] = value or ""

    return property(get, put)


class RiskAssessment(models.Model):
    """One assessment's results; never the instrument's (copyrighted) questions. History is kept.

    Which instrument, its version and the levels are sealed together (``result_sealed``): in plaintext
    the instrument named the category by itself (PATRIARK is for honour-related violence)."""

    SEALED_VALUES = {
        "result": ("instrument", "instrument_version", "level", "override_level", "own_perception")
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="risk_assessments")
    result_sealed = models.BinaryField(default=b"")
    instrument = sealed_value("result", "instrument")
    instrument_version = sealed_value("result", "instrument_version")
    level = sealed_value("result", "level")
    override_level = sealed_value("result", "override_level")
    own_perception = sealed_value("result", "own_perception")
    assessed_on = models.DateField(_("bedömningsdatum"))
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("bedömare"))
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("myndighet")
    )
    override_reason_sealed = models.BinaryField(default=b"")
    notes_sealed = models.BinaryField(default=b"")
    next_review_on = models.DateField(_("nästa uppföljning"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-created_at"]

    def __str__(self) -> str:
        return f"risk assessment {self.id}"

    @classmethod
    def new(
        cls,
        *,
        instrument: str,
        level: str,
        instrument_version: str = "",
        override_level: str = "",
        own_perception: str = "",
        **fields: Any,
    ) -> RiskAssessment:
        """A new, unsaved assessment with its sealed values given (sealed by do_add_risk_assessment)."""
        row = cls(**fields)
        row.instrument, row.instrument_version, row.level = instrument, instrument_version, level
        row.override_level, row.own_perception = override_level, own_perception
        return row

    @property
    def effective_level(self) -> str:
        return str(self.override_level or self.level)

    def get_instrument_display(self) -> str:
        return str(dict(RiskInstrument.choices).get(self.instrument, self.instrument))

    def get_level_display(self) -> str:
        return str(dict(RiskLevel.choices).get(self.level, self.level))

    def get_own_perception_display(self) -> str:
        return str(dict(RiskLevel.choices).get(self.own_perception, self.own_perception))


class ProtectiveMeasure(models.Model):
    """A protective measure. Its kind is sealed (``details_sealed``): in plaintext a travel ban named
    honour-related violence by itself."""

    SEALED_VALUES = {"details": ("kind",)}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="protective_measures")
    details_sealed = models.BinaryField(default=b"")
    kind = sealed_value("details", "kind")
    starts_on = models.DateField(_("från"))
    ends_on = models.DateField(_("till"), null=True, blank=True)
    responsible_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("ansvarig myndighet")
    )
    review_on = models.DateField(_("omprövas"), null=True, blank=True)
    notes_sealed = models.BinaryField(default=b"")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="measure_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"protective measure {self.id}"

    @classmethod
    def new(cls, *, kind: str, **fields: Any) -> ProtectiveMeasure:
        """A new, unsaved measure with its sealed kind given (sealed by do_add_protective_measure)."""
        row = cls(**fields)
        row.kind = kind
        return row

    def get_kind_display(self) -> str:
        return str(dict(MeasureKind.choices).get(self.kind, self.kind))

    def is_active_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)


class Incident(models.Model):
    """One reported incident. A new incident within 12 months of an earlier one is repeat victimisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="incidents")
    occurred_on = models.DateField(_("datum"))
    forms_sealed = models.BinaryField(default=b"")
    notes_sealed = models.BinaryField(default=b"")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on"]

    def __str__(self) -> str:
        return f"incident {self.id}"


class SummaryVersion(models.Model):
    """One version of the cross-agency summary. Never edited: a correction is a new version, and a save
    based on an older version than the newest is refused (optimistic versioning)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="summary_versions")
    number = models.PositiveIntegerField()
    # JSON list of {"agency": code, "text": paragraph}: each paragraph keeps the agency that wrote it.
    paragraphs_sealed = models.BinaryField(default=b"")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["case", "number"], name="one_summary_version_number")]

    def __str__(self) -> str:
        return f"summary v{self.number} of {self.case_id}"


class ContributionVersion(models.Model):
    """One version of one agency's own contribution to a case; versioned like the summary."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contribution_versions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    text_sealed = models.BinaryField(default=b"")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency_id", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "agency", "number"], name="one_contribution_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"contribution v{self.number} of {self.case_id}"


class StatisticsBlock(models.Model):
    """The countable copy of every case opened in one half-year, sealed as one block (cases/statistics.py).

    There is no row per case: a dump holds one opaque block per half-year, so no statistics row can be
    joined to a case row by its content, its length or its place in the table. Half-years are coded
    year * 2 + half - 1 (``period_of``), so no date finer than the nulägesbild's period is stored.
    """

    period = models.PositiveIntegerField(primary_key=True)
    records_sealed = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return f"statistics block {self.period}"


def period_of(day: datetime.date) -> int:
    """The half-year a date falls in, as year * 2 + (0 for January–June, 1 for July–December)."""
    return day.year * 2 + (0 if day.month <= 6 else 1)


class CaseUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's per-user grants on a case, in a table of their own (indexed, deleted with it)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    """Per-agency grants on a case (each agency's caseworkers form one group, see access/groups.py)."""

    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class DisclosureQuerySet(models.QuerySet["Disclosure"]):
    def active(self, on: datetime.date | None = None) -> DisclosureQuerySet:
        """Not revoked and not expired on ``on`` (today): expiry takes effect at once, no job needed."""
        day = on or timezone.localdate()
        return self.filter(ended_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )


class Disclosure(models.Model):
    """Utlämnande: a case made visible to another agency, on a legal basis, for chosen categories."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="disclosures")
    recipient = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="received_disclosures", verbose_name=_("mottagare")
    )
    legal_basis = models.CharField(_("rättslig grund"), max_length=20, choices=LegalBasis.choices)
    categories = models.JSONField(_("uppgifter"), default=list)
    # With consent: the agencies the person has said must never receive anything (agency codes).
    never_disclose_to = models.JSONField(default=list, blank=True)
    justification_sealed = models.BinaryField(default=b"")
    valid_until = models.DateField(_("giltigt till"), null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    end_kind = models.CharField(max_length=30, choices=DisclosureEnd.choices, blank=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "ended_at", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(legal_basis=LegalBasis.CONSENT) | Q(valid_until__isnull=False),
                name="consent_has_an_end_date",
            )
        ]

    def __str__(self) -> str:
        return f"disclosure {self.id}"

    def is_active(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.ended_at is None and (self.valid_until is None or self.valid_until >= day)


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def active(self) -> EmergencyAccessQuerySet:
        return self.filter(expires_at__gt=timezone.now())

    def awaiting_review(self) -> EmergencyAccessQuerySet:
        return self.filter(reviewed_at__isnull=True)


class EmergencyAccess(models.Model):
    """Nödåtkomst: time-limited, read-only access to a case the user could not otherwise see."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="emergency_accesses")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="emergency_accesses")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reason_sealed = models.BinaryField(default=b"")
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_comment_sealed = models.BinaryField(default=b"")

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "expires_at"]), models.Index(fields=["reviewed_at"])]

    def __str__(self) -> str:
        return f"emergency access {self.id}"


class ExportNote(models.Model):
    """The optional note a reader adds to a fixed reason when downloading a PDF of the case. The audit
    trail holds only the reason's code (it is read by granskare of several agencies and must never hold
    typed text); the note is sealed with the case's key, linked to the audit event by its id, and shown
    only to the owning agency's caseworkers (the case's disclosures page). It goes with the case at
    gallring, and with its key at shredding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="export_notes")
    # The audit event that records the download (access.AuditEvent.id; not a foreign key, so the
    # append-only trail never depends on a case row).
    audit_event_id = models.BigIntegerField()
    action = models.CharField(max_length=60)
    reason = models.CharField(max_length=40)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    note_sealed = models.BinaryField(default=b"")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export note {self.id}"
