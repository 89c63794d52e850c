"""The cross-agency work on a case: referrals, the action plan, coordination meetings, notifications.

Every free text here is sealed with the case's own data key (cases/vault.py: ``CaseVault.for_case``), so
gallring, which deletes the case's key, makes it unreadable everywhere at once, and a dump shows nothing.
Nothing here has a free-text field at meeting level: a meeting is a time, an organiser, its participating
agencies and an agenda of cases; what is said about a case lives on its agenda item, under that case's
key. Rows are deleted with their case (CASCADE), so gallring leaves none behind.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from access.models import Agency, User
from cases.models import Case, Disclosure

# --- Referrals (förfrågan om samverkan) -----------------------------------------------------------------


class ReferralStatus(models.TextChoices):
    SENT = "skickad", _("Skickad")
    ACCEPTED = "accepterad", _("Accepterad")
    REJECTED = "avvisad", _("Avvisad")
    REVOKED = "aterkallad", _("Återkallad")
    DONE = "klar", _("Klar")


# Who may move a referral from one status to the next: the sending or the receiving agency.
REFERRAL_TRANSITIONS: dict[str, dict[str, str]] = {
    ReferralStatus.SENT: {
        ReferralStatus.ACCEPTED: "receiver",
        ReferralStatus.REJECTED: "receiver",
        ReferralStatus.REVOKED: "sender",
    },
    ReferralStatus.ACCEPTED: {ReferralStatus.DONE: "receiver", ReferralStatus.REVOKED: "sender"},
    ReferralStatus.REJECTED: {},
    ReferralStatus.REVOKED: {},
    ReferralStatus.DONE: {},
}


class Referral(models.Model):
    """A case sent by its owning agency to another agency for action. It needs a disclosure in force to
    the receiving agency (``disclosure``); the request and a rejection's reason are sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    from_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("från myndighet")
    )
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("till myndighet")
    )
    # RESTRICT, not PROTECT: gallring deletes the case, its disclosures and its referrals together.
    disclosure = models.ForeignKey(Disclosure, on_delete=models.RESTRICT, related_name="referrals")
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    # What the receiving agency is asked to do (sealed free text).
    request_sealed = models.BinaryField(default=b"")
    # Why it was rejected (sealed; required for a rejection).
    rejection_reason_sealed = models.BinaryField(default=b"")
    sent_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("förfrågan om samverkan")
        verbose_name_plural = pgettext_lazy("plural", "förfrågningar om samverkan")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["to_agency", "status"], name="referral_inbox")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_agency=models.F("to_agency")), name="referral_to_another"
            )
        ]

    def __str__(self) -> str:
        return f"referral {self.pk}"


# --- The action plan --------------------------------------------------------------------------------------


class ActionStatus(models.TextChoices):
    OPEN = "oppen", _("Pågår")
    DONE = "klar", _("Klar")
    CANCELLED = "struken", _("Struken")


class Action(models.Model):
    """One action of a case's action plan. Only its owning agency closes it (done or cancelled)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("ansvarig myndighet")
    )
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="owned_actions", verbose_name=_("ansvarig")
    )
    description_sealed = models.BinaryField(default=b"")
    due_on = models.DateField(_("klart senast"))
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    # Set when a coordination meeting decided the action.
    agenda_item = models.ForeignKey(
        "AgendaItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("åtgärd")
        verbose_name_plural = pgettext_lazy("plural", "åtgärder")
        ordering = ["due_on", "created_at"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="action_owner_due"),
            models.Index(fields=["agency", "status", "due_on"], name="action_agency_due"),
        ]

    def __str__(self) -> str:
        return f"action {self.pk}"


# --- Coordination meetings (samverkansmöten) --------------------------------------------------------------


class MeetingKind(models.TextChoices):
    ORDINARY = "ordinarie", _("Ordinarie")
    EMERGENCY = "akut", _("Akut")


class MeetingStatus(models.TextChoices):
    PLANNED = "planerat", _("Planerat")
    HELD = "genomfort", _("Genomfört")
    CANCELLED = "installt", _("Inställt")


class Meeting(models.Model):
    """A coordination meeting, organised by a samordnare's agency with participating agencies."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organiser = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("sammankallande myndighet")
    )
    participants = models.ManyToManyField(
        Agency, related_name="coordination_meetings", verbose_name=_("deltagande myndigheter")
    )
    starts_at = models.DateTimeField(_("tid"))
    kind = models.CharField(
        _("typ"), max_length=10, choices=MeetingKind.choices, default=MeetingKind.ORDINARY
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("samverkansmöte")
        verbose_name_plural = pgettext_lazy("plural", "samverkansmöten")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"meeting {self.pk}"


class AgendaItem(models.Model):
    """A case on a meeting's agenda: a frozen snapshot of its summary as it stood when it was put on
    the agenda, and what the meeting said and decided about it. All sealed with the case's key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("ordning"))
    # The summary's paragraphs (JSON, as in SummaryVersion) and the version they were taken from.
    snapshot_sealed = models.BinaryField(default=b"")
    snapshot_version = models.PositiveIntegerField(null=True, blank=True)
    minutes_sealed = models.BinaryField(default=b"")
    decisions_sealed = models.BinaryField(default=b"")
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    minutes_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    minutes_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dagordningspunkt")
        verbose_name_plural = pgettext_lazy("plural", "dagordningspunkter")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "case"], name="case_once_per_meeting"),
            models.UniqueConstraint(fields=["meeting", "position"], name="one_item_per_position"),
        ]

    def __str__(self) -> str:
        return f"agenda item {self.pk}"


class Attendance(models.Model):
    """Who attended a meeting, for which agency."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("närvaro")
        verbose_name_plural = pgettext_lazy("plural", "närvaro")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attend_once")]

    def __str__(self) -> str:
        return f"attendance {self.pk}"


# --- Notifications ------------------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    REFERRAL_RECEIVED = "forfragan", _("Ny förfrågan om samverkan")
    REFERRAL_ANSWERED = "svar", _("Svar på förfrågan om samverkan")
    REFERRAL_REVOKED = "aterkallad", _("Förfrågan återkallad")
    MEETING_SCHEDULED = "mote", _("Kallelse till samverkansmöte")
    MEETING_CANCELLED = "mote_instalt", _("Samverkansmöte inställt")
    ACTION_ASSIGNED = "atgard", _("Ny åtgärd att utföra")


class Notification(models.Model):
    """Something waiting for a user, in the app. It names the kind and links to the object; the page
    it links to checks access as always. (An e-mail, if configured, says only that something waits.)"""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("typ"), max_length=12, choices=NotificationKind.choices)
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("avisering")
        verbose_name_plural = pgettext_lazy("plural", "aviseringar")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"notification {self.pk}"


# The nulägesbild's drafts and releases live in their own package; imported here so Django registers them.
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease  # noqa: E402, F401
