"""Samverkansmöten: scheduling a coordination meeting, its agenda of cases, minutes, attendance and the
actions it decides, and the audited reads behind the meeting page and the meeting PDF.

Who may do what:
- a samordnare (only that role) schedules a meeting for their agency, which always participates;
- the meeting exists only for the casework users (handläggare, samordnare) of its participating
  agencies: everyone else gets 404, as for a meeting that does not exist (``access_meeting``);
- only a samordnare of the organising agency changes it (agenda, minutes, attendance, actions, cancel,
  held);
- a case goes on the agenda only if the organiser may read its summary (owner or disclosure, never
  emergency access) and every participating agency other than the owning agency has a disclosure in
  force that includes the summary. What a participant sees of an agenda item is decided again at every
  read by the case policy (``cases.permissions.case_access``): a participant whose disclosure has ended
  sees "not accessible", without the reference.

The notice rule: an ordinary meeting is scheduled at least ``ORDINARY_NOTICE`` (24 hours) ahead, so the
participants can prepare; an emergency meeting (akut) may start at once, from ``EMERGENCY_GRACE``
(15 minutes) ago, since "now" typed into a form is already a little old, onwards. No meeting starts more
than ``LATEST_START`` ahead (a mistyped year).

Audit: meeting-level changes are events about the meeting (object type "meeting", its UUID, the
organising agency); everything about one case on the agenda is an event about that case (its reference
and owning agency), with the meeting's id in the details, so the owning agency's granskare finds it in
the case's history. Reading the agenda's sealed text (``meeting.read``, or ``meeting.pdf`` for the
meeting pack) writes one event per case shown, before anything is decrypted, in the same transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from access.audit import record_event
from access.models import CASEWORK_ROLES, Agency, AuditEvent, Membership, Role, User
from cases.actions import CaseActionError, seal_export_note
from cases.choices import InformationCategory
from cases.models import Case, Disclosure
from cases.permissions import CaseAccess, case_access
from cases.policy import access_case_with_rights
from cases.records import Paragraph, _Redacted
from cases.vault import CaseVault
from coordination.action_plan import DESCRIPTION_MAX_LENGTH, responsible_agencies, sees_plan
from coordination.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingKind,
    MeetingStatus,
    NotificationKind,
)
from coordination.notifications import notify

ORDINARY_NOTICE = datetime.timedelta(hours=24)
EMERGENCY_GRACE = datetime.timedelta(minutes=15)
LATEST_START = datetime.timedelta(days=366)
# The audit trail's reason column holds 300 characters.
REASON_LENGTH = 300
MAX_TEXT_LENGTH = 20_000

# A meeting's status moves only along these arrows; held and cancelled are final.
MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    MeetingStatus.PLANNED: frozenset({MeetingStatus.HELD, MeetingStatus.CANCELLED}),
    MeetingStatus.HELD: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


class MeetingError(CaseActionError):
    """A meeting change the rules refuse; the message is for the user. ``field`` names the form field
    it belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleMinutesError(MeetingError):
    """Someone saved the minutes of this item after the user opened them; nothing was saved."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Någon annan har sparat protokollet för punkten medan du skrev. Din text är inte sparad men "
                "finns kvar i formuläret: jämför med den sparade texten och spara igen."
            )
        )


# --- Who takes part ------------------------------------------------------------------------------------


def casework_memberships(user: User) -> list[Membership]:
    return list(
        Membership.objects.active().select_related("agency").filter(user=user, role__in=CASEWORK_ROLES)
    )


def coordinator_memberships(user: User) -> list[Membership]:
    """The agencies in which ``user`` may schedule meetings."""
    return [membership for membership in casework_memberships(user) if membership.role == Role.SAMORDNARE]


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """The meetings of the agencies where ``user`` does casework: the one scoping of every meeting list
    and fetch. An ``Exists`` over the participants, so a user in two participating agencies sees a
    meeting once."""
    if not user.is_authenticated or not user.is_active:
        return Meeting.objects.none()
    agencies = Membership.objects.active().filter(user=user, role__in=CASEWORK_ROLES).values("agency")
    participation = Meeting.participants.through.objects.filter(meeting=OuterRef("pk"), agency__in=agencies)
    return Meeting.objects.filter(Exists(participation))


@dataclass(frozen=True)
class MeetingAccess:
    meeting: Meeting
    # The membership through which the user takes part (the organiser's samordnare role first).
    membership: Membership
    # A samordnare role in the organising agency: may change the meeting.
    organiser_membership: Membership | None
    # A samordnare role in a participating agency: may download the meeting pack.
    coordinator_membership: Membership | None

    @property
    def can_manage(self) -> bool:
        return self.organiser_membership is not None

    @property
    def can_download(self) -> bool:
        return self.coordinator_membership is not None


def access_meeting(user: User, meeting_id: uuid.UUID | str) -> MeetingAccess:
    """The one door to a meeting: Http404 alike for a meeting that does not exist and for one whose
    participants do not include an agency where ``user`` does casework."""
    meeting = meetings_visible_to(user).select_related("organiser").filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("Mötet finns inte.")
    participant_ids = set(meeting.participants.values_list("pk", flat=True))
    memberships = [m for m in casework_memberships(user) if m.agency_id in participant_ids]
    if not memberships:  # the agency left in between; never show a meeting on a guess
        raise Http404("Mötet finns inte.")
    organiser = next(
        (m for m in memberships if m.agency_id == meeting.organiser_id and m.role == Role.SAMORDNARE), None
    )
    coordinator = organiser or next((m for m in memberships if m.role == Role.SAMORDNARE), None)
    return MeetingAccess(
        meeting=meeting,
        membership=organiser or coordinator or memberships[0],
        organiser_membership=organiser,
        coordinator_membership=coordinator,
    )


def require_organiser(access: MeetingAccess) -> Membership:
    """For a participant who may see but not change the meeting: 403, not a pretended absence."""
    if access.organiser_membership is None:
        raise PermissionDenied
    return access.organiser_membership


def agenda_case_access(user: User, case: Case) -> CaseAccess | None:
    """What ``user`` may see of a case on an agenda: the summary, through their own agency (owner or a
    disclosure in force), or nothing. Emergency access is for reading the case itself in an acute
    situation, reviewed afterwards; it never opens meeting papers, nor lets anyone act in a meeting."""
    access = case_access(user, case)
    if access is None:
        return None
    if access.via not in ("owner", "disclosure"):
        return None
    if not access.sees(InformationCategory.SUMMARY):
        return None
    return access


def participant_casework_users(meeting: Meeting) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__agency__in=meeting.participants.filter(is_active=True),
            memberships__role__in=CASEWORK_ROLES,
        ).distinct()
    )


def attendance_candidates(meeting: Meeting) -> list[Membership]:
    """The casework memberships of the participating agencies, whose users can be marked present."""
    return list(
        Membership.objects.active()
        .select_related("user", "agency")
        .filter(agency__in=meeting.participants.all(), role__in=CASEWORK_ROLES, user__is_active=True)
        .order_by("agency__name", "user__last_name", "user__first_name", "user__username")
    )


def agencies_with_summary(case: Case) -> set[int]:
    """The agencies holding a disclosure of ``case`` in force that includes the summary."""
    return {
        disclosure.recipient_id
        for disclosure in Disclosure.objects.active().filter(case=case)
        if InformationCategory.SUMMARY in disclosure.categories
    }


def action_owner_candidates(item: AgendaItem) -> list[Membership]:
    """Who may own an action decided on ``item``: a caseworker of a participating agency that may own
    an action of the case under the action plan's rule (coordination/action_plan.py: the owning
    agency, or a disclosure in force that includes the plan), so the action plan and the meeting never
    disagree about who owns what."""
    responsible = {agency.pk for agency in responsible_agencies(item.case)}
    return [
        membership
        for membership in attendance_candidates(item.meeting)
        if membership.agency_id in responsible
    ]


# --- Audit helpers --------------------------------------------------------------------------------------


def _audit_meeting(
    action: str,
    meeting: Meeting,
    *,
    acting_user: User,
    membership: Membership | None,
    request: HttpRequest | None,
    reason: str = "",
    details: dict[str, object] | None = None,
) -> None:
    record_event(
        action,
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="meeting",
        object_reference=str(meeting.pk),
        object_agency=meeting.organiser.code,
        reason=reason[:REASON_LENGTH],
        details={"meeting": str(meeting.pk), **(details or {})},
    )


def _audit_item(
    action: str,
    item: AgendaItem,
    *,
    acting_user: User,
    membership: Membership | None,
    request: HttpRequest | None,
    reason: str = "",
    details: dict[str, object] | None = None,
) -> AuditEvent:
    case = item.case
    return record_event(
        action,
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=reason[:REASON_LENGTH],
        details={"meeting": str(item.meeting_id), "agenda_item": str(item.pk), **(details or {})},
    )


def _check_organiser(meeting: Meeting, acting_user: User, membership: Membership) -> None:
    if (
        membership.user_id != acting_user.pk
        or membership.agency_id != meeting.organiser_id
        or membership.role != Role.SAMORDNARE
        or not membership.agency.is_active
    ):
        raise MeetingError(_("Bara den sammankallande myndighetens samordnare kan ändra mötet."))


def _check_not_cancelled(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_("Mötet är inställt och kan inte ändras."))


def _check_planned(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise MeetingError(_("Dagordningen kan bara ändras för ett planerat möte."))


def _locked(meeting: Meeting) -> Meeting:
    """The meeting row, locked for the rest of the transaction, so two changes never interleave."""
    locked = Meeting.objects.select_for_update(of=("self",)).select_related("organiser").get(pk=meeting.pk)
    return locked


def _clean_text(text: str, *, field: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise MeetingError(
            _("Texten är för lång (högst %(count)s tecken).") % {"count": MAX_TEXT_LENGTH}, field=field
        )
    return text


# --- Scheduling ------------------------------------------------------------------------------------------


def check_start_time(starts_at: datetime.datetime, kind: str, now: datetime.datetime | None = None) -> None:
    """The notice rule (see the module docstring)."""
    now = now or timezone.now()
    if starts_at > now + LATEST_START:
        raise MeetingError(_("Mötet kan planeras högst ett år framåt."), field="starts_at")
    if kind == MeetingKind.EMERGENCY:
        if starts_at < now - EMERGENCY_GRACE:
            raise MeetingError(_("Ett akut möte kan inte ligga bakåt i tiden."), field="starts_at")
        return
    if starts_at < now + ORDINARY_NOTICE:
        raise MeetingError(
            _(
                "Ett ordinarie möte måste planeras minst ett dygn i förväg. Behöver ni ses tidigare, "
                "kalla till ett akut möte."
            ),
            field="starts_at",
        )


@transaction.atomic
def do_schedule_meeting(
    *,
    acting_user: User,
    membership: Membership,
    starts_at: datetime.datetime,
    kind: str,
    participants: Iterable[Agency],
    request: HttpRequest | None = None,
) -> Meeting:
    """Schedule a meeting organised by ``membership.agency`` (a samordnare role), which always takes
    part. The participants' caseworkers are notified (in the app; an e-mail says only that something
    waits)."""
    if (
        membership.user_id != acting_user.pk
        or membership.role != Role.SAMORDNARE
        or not membership.agency.is_active
    ):
        raise MeetingError(_("Bara en samordnare kan kalla till ett samverkansmöte."))
    if kind not in MeetingKind.values:
        raise MeetingError(_("Välj om mötet är ordinarie eller akut."), field="kind")
    check_start_time(starts_at, kind)
    agencies = {agency.pk: agency for agency in participants}
    agencies[membership.agency_id] = membership.agency
    if any(not agency.is_active for agency in agencies.values()):
        raise MeetingError(_("Bara aktiva myndigheter kan delta."), field="participants")
    if len(agencies) < 2:
        raise MeetingError(
            _("Välj minst en annan myndighet som deltar: ett samverkansmöte hålls mellan myndigheter."),
            field="participants",
        )
    meeting = Meeting.objects.create(
        organiser=membership.agency, starts_at=starts_at, kind=kind, created_by=acting_user
    )
    meeting.participants.set(agencies.values())
    _audit_meeting(
        "meeting.schedule",
        meeting,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={
            "kind": kind,
            "starts_at": starts_at.isoformat(),
            "participants": sorted(agency.code for agency in agencies.values()),
        },
    )
    notify(
        participant_casework_users(meeting),
        NotificationKind.MEETING_SCHEDULED,
        meeting=meeting,
        exclude=acting_user,
    )
    return meeting


def _change_status(
    meeting: Meeting,
    target: str,
    action: str,
    *,
    acting_user: User,
    membership: Membership,
    request: HttpRequest | None,
) -> Meeting:
    meeting = _locked(meeting)
    _check_organiser(meeting, acting_user, membership)
    if target not in MEETING_TRANSITIONS[meeting.status]:
        raise MeetingError(_("Mötet är redan %(status)s.") % {"status": meeting.get_status_display().lower()})
    before = meeting.status
    meeting.status = target
    meeting.save(update_fields=["status"])
    _audit_meeting(
        action,
        meeting,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"from": before, "to": target},
    )
    return meeting


@transaction.atomic
def do_cancel_meeting(
    meeting: Meeting, *, acting_user: User, membership: Membership, request: HttpRequest | None = None
) -> Meeting:
    """Cancel a planned meeting; everyone who was called to it is told, as they were when it was set."""
    meeting = _change_status(
        meeting,
        MeetingStatus.CANCELLED,
        "meeting.cancel",
        acting_user=acting_user,
        membership=membership,
        request=request,
    )
    notify(
        participant_casework_users(meeting),
        NotificationKind.MEETING_CANCELLED,
        meeting=meeting,
        exclude=acting_user,
    )
    return meeting


@transaction.atomic
def do_mark_held(
    meeting: Meeting, *, acting_user: User, membership: Membership, request: HttpRequest | None = None
) -> Meeting:
    """A meeting is marked as held once it has started, never before."""
    if meeting.starts_at > timezone.now():
        raise MeetingError(_("Mötet har inte börjat ännu och kan inte markeras som genomfört."))
    return _change_status(
        meeting,
        MeetingStatus.HELD,
        "meeting.held",
        acting_user=acting_user,
        membership=membership,
        request=request,
    )


# --- The agenda ------------------------------------------------------------------------------------------


@transaction.atomic
def do_add_to_agenda(
    meeting: Meeting,
    *,
    acting_user: User,
    membership: Membership,
    reference: str,
    request: HttpRequest | None = None,
) -> AgendaItem:
    """Put a case on the agenda and freeze a snapshot of its summary as it stands now.

    Refused unless the organiser may read the summary through their own agency and every participating
    agency other than the owning agency has a disclosure in force that includes the summary; the
    refusal names the agencies that lack one (the organiser's samordnare may know which agencies take
    part, and the case is one they see)."""
    meeting = _locked(meeting)
    _check_organiser(meeting, acting_user, membership)
    _check_planned(meeting)
    try:
        access = access_case_with_rights(acting_user, reference)
    except Http404:
        # One message for "missing" and "not yours": a reference cannot be probed from here either.
        raise MeetingError(
            _("Det finns inget ärende med den referensen som du har tillgång till."), field="reference"
        ) from None
    case = access.case
    if access.via == "emergency":
        raise MeetingError(
            _("Nödåtkomst räcker inte för att sätta upp ett ärende på dagordningen."), field="reference"
        )
    if not access.sees(InformationCategory.SUMMARY):
        raise MeetingError(
            _("Sammanfattningen av ärendet är inte utlämnad till dig, så det kan inte sättas upp."),
            field="reference",
        )
    if meeting.agenda.filter(case=case).exists():
        raise MeetingError(_("Ärendet står redan på dagordningen."), field="reference")
    with_summary = agencies_with_summary(case)
    missing = [
        agency
        for agency in meeting.participants.order_by("name")
        if agency.pk != case.agency_id and agency.pk not in with_summary
    ]
    if missing:
        raise MeetingError(
            _(
                "Ärendet kan inte sättas upp på dagordningen: det saknas ett gällande utlämnande av "
                "sammanfattningen till %(agencies)s. Den ägande myndigheten behöver lämna ut "
                "sammanfattningen till alla deltagande myndigheter först."
            )
            % {"agencies": ", ".join(agency.name for agency in missing)},
            field="reference",
        )
    vault = CaseVault.for_case(case)
    latest = case.summary_versions.order_by("-number").first()
    paragraphs = vault.open_json(latest, "paragraphs", []) if latest is not None else []
    position = (meeting.agenda.aggregate(last=Max("position"))["last"] or 0) + 1
    item = AgendaItem(
        meeting=meeting,
        case=case,
        position=position,
        snapshot_version=latest.number if latest is not None else None,
        added_by=acting_user,
    )
    vault.seal_json(item, "snapshot", paragraphs)
    item.save(force_insert=True)
    _audit_item(
        "meeting.agenda.add",
        item,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"position": position, "snapshot_version": item.snapshot_version},
    )
    return item


@transaction.atomic
def do_remove_from_agenda(
    item: AgendaItem, *, acting_user: User, membership: Membership, request: HttpRequest | None = None
) -> None:
    """Take a case off a planned meeting's agenda. An item with minutes, decisions or actions stays:
    removing it would destroy what the meeting recorded."""
    meeting = _locked(item.meeting)
    _check_organiser(meeting, acting_user, membership)
    _check_planned(meeting)
    item = AgendaItem.objects.select_related("case__agency", "meeting").get(pk=item.pk)
    if item.minutes_at is not None or item.actions.exists():
        raise MeetingError(_("Punkten har protokoll eller åtgärder och kan inte tas bort."))
    _audit_item(
        "meeting.agenda.remove",
        item,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"position": item.position},
    )
    item.delete()


def _organiser_case_access(item: AgendaItem, acting_user: User) -> CaseAccess:
    access = agenda_case_access(acting_user, item.case)
    if access is None:
        raise MeetingError(
            _("Du har inte längre tillgång till ärendets sammanfattning och kan inte skriva något om det.")
        )
    return access


@transaction.atomic
def do_record_minutes(
    item: AgendaItem,
    *,
    acting_user: User,
    membership: Membership,
    minutes: str,
    decisions: str,
    based_on: str,
    request: HttpRequest | None = None,
) -> AgendaItem:
    """Save the minutes and decisions of one agenda item (sealed with the case's key).

    ``based_on`` is the save time of the minutes the user started from (``minutes_token``; empty for
    none): if someone saved in between, nothing is saved (StaleMinutesError), never overwritten."""
    meeting = _locked(item.meeting)
    _check_organiser(meeting, acting_user, membership)
    _check_not_cancelled(meeting)
    item = (
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("case__agency", "case__person")
        .get(pk=item.pk)
    )
    _organiser_case_access(item, acting_user)
    if minutes_token(item) != based_on:
        raise StaleMinutesError()
    minutes = _clean_text(minutes, field="minutes")
    decisions = _clean_text(decisions, field="decisions")
    if not minutes and not decisions:
        raise MeetingError(_("Skriv protokoll eller beslut innan du sparar."), field="minutes")
    vault = CaseVault.for_case(item.case)
    vault.seal(item, "minutes", minutes)
    vault.seal(item, "decisions", decisions)
    item.minutes_by = acting_user
    item.minutes_at = timezone.now()
    item.save(update_fields=["minutes_sealed", "decisions_sealed", "minutes_by", "minutes_at"])
    _audit_item(
        "meeting.minutes",
        item,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"minutes": bool(minutes), "decisions": bool(decisions)},
    )
    return item


def minutes_token(item: AgendaItem) -> str:
    """The version of an item's minutes a form was based on: their save time, or "" before any."""
    return item.minutes_at.isoformat() if item.minutes_at is not None else ""


@transaction.atomic
def do_record_attendance(
    meeting: Meeting,
    *,
    acting_user: User,
    membership: Membership,
    attendees: Iterable[Membership],
    request: HttpRequest | None = None,
) -> list[Attendance]:
    """Record who attended: exactly ``attendees`` (caseworkers of participating agencies), replacing
    what was recorded before."""
    meeting = _locked(meeting)
    _check_organiser(meeting, acting_user, membership)
    _check_not_cancelled(meeting)
    allowed = {candidate.pk: candidate for candidate in attendance_candidates(meeting)}
    chosen: dict[int, Membership] = {}
    for attendee in attendees:
        if attendee.pk not in allowed:
            raise MeetingError(
                _(
                    "Bara handläggare och samordnare i de deltagande myndigheterna kan registreras "
                    "som närvarande."
                ),
                field="attendees",
            )
        # One row per person, for the agency first chosen.
        chosen.setdefault(allowed[attendee.pk].user_id, allowed[attendee.pk])
    existing = {row.user_id: row for row in meeting.attendance.all()}
    removed = [
        row.pk
        for user_id, row in existing.items()
        if user_id not in chosen or row.agency_id != chosen[user_id].agency_id
    ]
    Attendance.objects.filter(pk__in=removed).delete()
    kept = {user_id for user_id, row in existing.items() if row.pk not in removed}
    for user_id, attendee in chosen.items():
        if user_id not in kept:
            Attendance.objects.create(
                meeting=meeting, user=attendee.user, agency=attendee.agency, recorded_by=acting_user
            )
    _audit_meeting(
        "meeting.attendance",
        meeting,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"attendees": len(chosen), "added": len(set(chosen) - kept), "removed": len(removed)},
    )
    return list(meeting.attendance.select_related("user", "agency"))


@transaction.atomic
def do_add_meeting_action(
    item: AgendaItem,
    *,
    acting_user: User,
    membership: Membership,
    owner_membership: Membership,
    due_on: datetime.date,
    description: str,
    request: HttpRequest | None = None,
) -> Action:
    """An action the meeting decided for the case of ``item``. Its owning agency takes part in the
    meeting and is the case's owner or holds a disclosure of it in force; its owner does casework
    there. The owner is notified."""
    meeting = _locked(item.meeting)
    _check_organiser(meeting, acting_user, membership)
    _check_not_cancelled(meeting)
    item = AgendaItem.objects.select_related("case__agency", "case__person", "meeting").get(pk=item.pk)
    if not sees_plan(_organiser_case_access(item, acting_user)):
        raise MeetingError(
            _("Ärendets åtgärdsplan är inte utlämnad till dig, så du kan inte lägga till åtgärder i den.")
        )
    candidates = {candidate.pk: candidate for candidate in action_owner_candidates(item)}
    owner = candidates.get(owner_membership.pk)
    if owner is None:
        raise MeetingError(
            _(
                "Den ansvariga måste vara handläggare eller samordnare i en deltagande myndighet som äger "
                "ärendet eller har ett gällande utlämnande av det."
            ),
            field="owner",
        )
    if due_on < timezone.localdate():
        raise MeetingError(_("Datumet har redan passerat."), field="due_on")
    description = description.strip()
    if not description:
        raise MeetingError(_("Beskriv åtgärden."), field="description")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise MeetingError(
            _("Beskrivningen är för lång (högst %(count)s tecken).") % {"count": DESCRIPTION_MAX_LENGTH},
            field="description",
        )
    action = Action(
        case=item.case,
        agency=owner.agency,
        owner=owner.user,
        due_on=due_on,
        status=ActionStatus.OPEN,
        agenda_item=item,
        created_by=acting_user,
    )
    CaseVault.for_case(item.case).seal(action, "description", description)
    action.save(force_insert=True)
    _audit_item(
        "meeting.action.add",
        item,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"action": str(action.pk), "agency": owner.agency.code, "due_on": due_on.isoformat()},
    )
    notify([owner.user], NotificationKind.ACTION_ASSIGNED, action=action, exclude=acting_user)
    return action


# --- Audited reads ----------------------------------------------------------------------------------------


@dataclass(repr=False)
class ActionEntry(_Redacted):
    action: Action
    description: str


@dataclass(repr=False)
class AgendaEntry(_Redacted):
    item: AgendaItem
    number: int
    # False: the reader may not see this case's summary (now); then nothing else is filled in, not
    # even the reference.
    accessible: bool
    reference: str = ""
    owner_agency: str = ""
    snapshot: list[Paragraph] = field(default_factory=list)
    snapshot_version: int | None = None
    minutes: str = ""
    decisions: str = ""
    actions: list[ActionEntry] = field(default_factory=list)


@dataclass(repr=False)
class MeetingRecord(_Redacted):
    meeting: Meeting
    participants: list[Agency]
    attendance: list[Attendance]
    agenda: list[AgendaEntry]

    @property
    def references(self) -> list[str]:
        return [entry.reference for entry in self.agenda if entry.accessible]


def _agency_names() -> dict[str, str]:
    return dict(Agency.objects.values_list("code", "name"))


@transaction.atomic
def read_meeting(
    access: MeetingAccess,
    *,
    user: User,
    request: HttpRequest | None,
    action: str = "meeting.read",
    reason: str = "",
    note: str = "",
    only_item: AgendaItem | None = None,
) -> MeetingRecord:
    """The meeting as ``user`` may see it, decrypted after the audit events that say so.

    For each agenda item the case policy decides again (``agenda_case_access``): only an item whose
    summary the reader may see is decrypted and audited (one ``action`` event per case shown); the
    others come back as "not accessible", without their reference. ``meeting.pdf`` is audited even when
    no case is in it (an export is always logged). ``only_item`` limits the read to one item."""
    meeting = access.meeting
    items = list(
        meeting.agenda.select_related("case__agency", "case__person", "meeting").order_by("position")
    )
    numbers = {item.pk: number for number, item in enumerate(items, start=1)}
    if only_item is not None:
        items = [item for item in items if item.pk == only_item.pk]
    readable = [(item, agenda_case_access(user, item.case)) for item in items]
    for item, item_access in readable:
        if item_access is None:
            continue
        event = _audit_item(
            action,
            item,
            acting_user=user,
            membership=access.membership,
            request=request,
            reason=reason,
        )
        if note and access.membership is not None:
            # Sealed with each case's own key, shown only to that case's owning agency.
            seal_export_note(item.case, event=event, user=user, membership=access.membership, note=note)
    if action == "meeting.pdf" and not any(item_access for _item, item_access in readable):
        _audit_meeting(
            action,
            meeting,
            acting_user=user,
            membership=access.membership,
            request=request,
            reason=reason,
            details={"references": []},
        )
    names = _agency_names()
    agenda = []
    for item, item_access in readable:
        number = numbers[item.pk]
        if item_access is None:
            agenda.append(AgendaEntry(item=item, number=number, accessible=False))
            continue
        vault = CaseVault.for_case(item.case)
        # The actions are part of the case's action plan, shown only to those who see the plan.
        actions = (
            [
                ActionEntry(action=row, description=vault.open(row, "description"))
                for row in item.actions.select_related("agency", "owner").order_by("due_on", "created_at")
            ]
            if sees_plan(item_access)
            else []
        )
        agenda.append(
            AgendaEntry(
                item=item,
                number=number,
                accessible=True,
                reference=item.case.reference,
                owner_agency=item.case.agency.name,
                snapshot=[
                    Paragraph(
                        agency_code=paragraph["agency"],
                        agency_name=names.get(paragraph["agency"], paragraph["agency"]),
                        text=paragraph["text"],
                    )
                    for paragraph in vault.open_json(item, "snapshot", [])
                ],
                snapshot_version=item.snapshot_version,
                minutes=vault.open(item, "minutes"),
                decisions=vault.open(item, "decisions"),
                actions=actions,
            )
        )
    return MeetingRecord(
        meeting=meeting,
        participants=list(meeting.participants.order_by("name")),
        attendance=list(
            meeting.attendance.select_related("user", "agency").order_by(
                "agency__name", "user__last_name", "user__first_name"
            )
        ),
        agenda=agenda,
    )


@dataclass(repr=False)
class SummaryExport(_Redacted):
    case: Case
    owner_agency: str
    version: int | None
    saved_at: datetime.datetime | None
    paragraphs: list[Paragraph]


def export_access(user: User, reference: str) -> CaseAccess:
    """Who may export a case's summary: a samordnare who reads it through their own agency (owner or
    a disclosure in force including the summary). 404 for a case the user may not see at all."""
    access = access_case_with_rights(user, reference)
    if access.via not in ("owner", "disclosure") or access.membership is None:
        raise PermissionDenied
    if access.membership.role != Role.SAMORDNARE:
        raise PermissionDenied
    if not access.sees(InformationCategory.SUMMARY):
        raise PermissionDenied
    return access


@transaction.atomic
def read_summary_for_export(
    access: CaseAccess, *, user: User, request: HttpRequest | None, reason: str, note: str = ""
) -> SummaryExport:
    """The newest version of the summary, decrypted after the ``case.summary.pdf`` event (with the
    user's reason) is written, in the same transaction."""
    case = access.case
    # Decided again here, so no caller can pass a stale or hand-made access.
    current = case_access(user, case)
    if current is None:
        raise Http404("Ärendet finns inte.")
    if current.via not in ("owner", "disclosure") or not current.sees(InformationCategory.SUMMARY):
        raise PermissionDenied
    latest = case.summary_versions.order_by("-number").first()
    event = record_event(
        "case.summary.pdf",
        actor=user,
        membership=current.membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=reason[:REASON_LENGTH],
        details={"version": latest.number if latest is not None else None},
    )
    if current.membership is not None:
        seal_export_note(case, event=event, user=user, membership=current.membership, note=note)
    if latest is None:
        return SummaryExport(
            case=case, owner_agency=case.agency.name, version=None, saved_at=None, paragraphs=[]
        )
    names = _agency_names()
    vault = CaseVault.for_case(case)
    return SummaryExport(
        case=case,
        owner_agency=case.agency.name,
        version=latest.number,
        saved_at=latest.created_at,
        paragraphs=[
            Paragraph(
                agency_code=paragraph["agency"],
                agency_name=names.get(paragraph["agency"], paragraph["agency"]),
                text=paragraph["text"],
            )
            for paragraph in vault.open_json(latest, "paragraphs", [])
        ],
    )
