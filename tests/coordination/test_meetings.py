"""Samverkansmöten, the actions: scheduling and the notice rule, the agenda and its disclosure rule, the
frozen snapshot, minutes, attendance, actions, cancelling and holding, and the audited read."""

from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from access.audit import AuditWriteError
from access.models import AuditEvent, Role
from cases.choices import InformationCategory
from cases.models import Disclosure
from cases.sharing import do_end_disclosure, do_request_emergency_access
from coordination.meetings import (
    MeetingError,
    StaleMinutesError,
    access_meeting,
    do_add_meeting_action,
    do_add_to_agenda,
    do_cancel_meeting,
    do_mark_held,
    do_record_attendance,
    do_record_minutes,
    do_remove_from_agenda,
    do_schedule_meeting,
    meetings_visible_to,
    minutes_token,
    read_meeting,
)
from coordination.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Notification,
    NotificationKind,
)
from tests.coordination.meetings_setup import (
    SUMMARY_TEXT,
    World,
    build_world,
    disclose,
    member,
    put_on_agenda,
    save_summary,
    schedule,
    started,
)
from tests.factories import AgencyFactory, open_case
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db


_shared_world_once, world = shared_world(build_world)


HOUR = datetime.timedelta(hours=1)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- Scheduling ---------------------------------------------------------------------------------------------


def test_a_samordnare_schedules_a_meeting_in_which_their_agency_always_takes_part(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    assert meeting.organiser == world.social
    assert set(meeting.participants.all()) == {world.social, world.police}
    assert meeting.status == MeetingStatus.PLANNED
    (event,) = events("meeting.schedule")
    assert event.object_type == "meeting"
    assert event.object_reference == str(meeting.pk)
    assert event.object_agency == "soc-vuxen"
    assert event.details["participants"] == ["polisen", "soc-vuxen"]
    assert event.details["kind"] == MeetingKind.ORDINARY


def test_the_participants_caseworkers_are_notified_but_not_the_organiser_nor_other_roles(
    world: World,
) -> None:
    meeting = schedule(world.samordnare, [world.police])
    notified = set(
        Notification.objects.filter(meeting=meeting, kind=NotificationKind.MEETING_SCHEDULED).values_list(
            "user__username", flat=True
        )
    )
    assert notified == {"handlaggare", "polis", "polissamordnare"}


@pytest.mark.parametrize("role", [Role.HANDLAGGARE, Role.CHEF, Role.GRANSKARE, Role.SYSTEMADMINISTRATOR])
def test_only_a_samordnare_schedules_a_meeting(world: World, role: str) -> None:
    membership = member(world.social, role, f"inte-{role}")
    with pytest.raises(MeetingError, match="Bara en samordnare"):
        schedule(membership, [world.police])
    assert not Meeting.objects.exists()


def test_an_ordinary_meeting_needs_a_days_notice(world: World) -> None:
    with pytest.raises(MeetingError, match="minst ett dygn i förväg") as raised:
        schedule(world.samordnare, [world.police], starts_at=timezone.now() + 23 * HOUR)
    assert raised.value.field == "starts_at"
    assert schedule(world.samordnare, [world.police], starts_at=timezone.now() + 25 * HOUR)


def test_an_emergency_meeting_may_be_called_within_the_hour(world: World) -> None:
    soon = schedule(
        world.samordnare, [world.police], kind=MeetingKind.EMERGENCY, starts_at=timezone.now() + HOUR / 2
    )
    assert soon.kind == MeetingKind.EMERGENCY
    # "Now", typed into a form a few minutes ago, is still accepted.
    now = schedule(
        world.samordnare,
        [world.police],
        kind=MeetingKind.EMERGENCY,
        starts_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    assert now.kind == MeetingKind.EMERGENCY


def test_an_emergency_meeting_cannot_start_in_the_past(world: World) -> None:
    with pytest.raises(MeetingError, match="bakåt i tiden"):
        schedule(
            world.samordnare, [world.police], kind=MeetingKind.EMERGENCY, starts_at=timezone.now() - HOUR
        )


def test_no_meeting_more_than_a_year_ahead(world: World) -> None:
    with pytest.raises(MeetingError, match="högst ett år"):
        schedule(world.samordnare, [world.police], starts_at=timezone.now() + datetime.timedelta(days=400))


def test_a_meeting_needs_another_agency(world: World) -> None:
    with pytest.raises(MeetingError, match="minst en annan myndighet"):
        schedule(world.samordnare, [world.social])


def test_an_inactive_agency_cannot_take_part(world: World) -> None:
    closed = AgencyFactory.create(code="nedlagd", name="Nedlagd myndighet", is_active=False)
    with pytest.raises(MeetingError, match="aktiva myndigheter"):
        schedule(world.samordnare, [world.police, closed])


def test_an_unknown_kind_is_refused(world: World) -> None:
    with pytest.raises(MeetingError, match="ordinarie eller akut"):
        do_schedule_meeting(
            acting_user=world.samordnare.user,
            membership=world.samordnare,
            starts_at=timezone.now() + 48 * HOUR,
            kind="hemligt",
            participants=[world.police],
        )


def test_a_samordnare_cannot_schedule_in_someone_elses_name(world: World) -> None:
    with pytest.raises(MeetingError):
        do_schedule_meeting(
            acting_user=world.handlaggare.user,
            membership=world.samordnare,
            starts_at=timezone.now() + 48 * HOUR,
            kind=MeetingKind.ORDINARY,
            participants=[world.police],
        )


# --- Who sees a meeting -------------------------------------------------------------------------------------


def test_a_meeting_exists_only_for_caseworkers_of_participating_agencies(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    for membership in (world.samordnare, world.handlaggare, world.polis, world.police_samordnare):
        assert access_meeting(membership.user, meeting.pk).meeting == meeting
        assert list(meetings_visible_to(membership.user)) == [meeting]
    for membership in (world.jour, world.chef, world.granskare):
        with pytest.raises(Http404):
            access_meeting(membership.user, meeting.pk)
        assert list(meetings_visible_to(membership.user)) == []


def test_a_user_in_two_participating_agencies_sees_a_meeting_once(world: World) -> None:
    from access.models import Membership

    Membership.objects.create(user=world.polis.user, agency=world.social, role=Role.HANDLAGGARE)
    meeting = schedule(world.samordnare, [world.police])
    assert list(meetings_visible_to(world.polis.user)) == [meeting]


def test_only_the_organisers_samordnare_manages_a_meeting(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    assert access_meeting(world.samordnare.user, meeting.pk).can_manage
    assert not access_meeting(world.handlaggare.user, meeting.pk).can_manage
    police = access_meeting(world.police_samordnare.user, meeting.pk)
    assert not police.can_manage
    assert police.can_download  # a samordnare of a participating agency may download the pack
    assert not access_meeting(world.polis.user, meeting.pk).can_download


# --- The agenda ---------------------------------------------------------------------------------------------


def test_a_case_disclosed_to_every_participant_goes_on_the_agenda_with_a_sealed_snapshot(
    world: World,
) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    assert item.position == 1
    assert item.snapshot_version == 1
    assert SUMMARY_TEXT.encode() not in bytes(item.snapshot_sealed)
    record = read_meeting(access_meeting(world.polis.user, meeting.pk), user=world.polis.user, request=None)
    (entry,) = record.agenda
    assert entry.accessible
    assert entry.reference == world.case.reference
    assert [paragraph.text for paragraph in entry.snapshot] == [SUMMARY_TEXT]
    assert entry.snapshot[0].agency_name == "Socialtjänsten vuxen"
    (event,) = events("meeting.agenda.add")
    assert event.object_type == "case"
    assert event.object_reference == world.case.reference
    assert event.details["meeting"] == str(meeting.pk)
    assert event.details["snapshot_version"] == 1
    assert "ZZSNAPSHOT" not in str(event.details)


def test_the_snapshot_stays_unchanged_when_the_summary_changes_later(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    sealed_before = bytes(item.snapshot_sealed)
    save_summary(world.case, world.handlaggare, "ZZLATER Helt ny bedömning efter mötet.")
    item.refresh_from_db()
    assert bytes(item.snapshot_sealed) == sealed_before
    assert item.snapshot_version == 1
    record = read_meeting(
        access_meeting(world.samordnare.user, meeting.pk), user=world.samordnare.user, request=None
    )
    texts = [paragraph.text for paragraph in record.agenda[0].snapshot]
    assert texts == [SUMMARY_TEXT]
    assert "ZZLATER" not in " ".join(texts)


def test_a_case_without_a_summary_goes_on_the_agenda_with_an_empty_snapshot(world: World) -> None:
    case = open_case(world.handlaggare)
    disclose(case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, case)
    assert item.snapshot_version is None
    record = read_meeting(access_meeting(world.polis.user, meeting.pk), user=world.polis.user, request=None)
    assert record.agenda[0].snapshot == []


def test_a_case_not_disclosed_to_a_participant_is_refused_naming_the_agency(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police, world.shelter])
    with pytest.raises(MeetingError) as raised:
        put_on_agenda(meeting, world.samordnare, world.case)
    message = str(raised.value)
    assert "Kvinnojouren" in message
    assert "Polisen" not in message
    assert raised.value.field == "reference"
    assert not AgendaItem.objects.exists()
    assert events("meeting.agenda.add") == []


def test_the_refusal_names_every_agency_without_a_disclosure(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police, world.shelter])
    with pytest.raises(MeetingError, match="till Kvinnojouren, Polisen"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_a_disclosure_without_the_summary_does_not_count(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.RISK])
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="Polisen"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_an_ended_disclosure_does_not_count(world: World) -> None:
    disclosure = disclose(world.case, world.handlaggare, world.police)
    do_end_disclosure(disclosure, acting_user=world.handlaggare.user, membership=world.handlaggare)
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="Polisen"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_an_expired_disclosure_does_not_count(world: World) -> None:
    disclosure = disclose(world.case, world.handlaggare, world.police)
    Disclosure.objects.filter(pk=disclosure.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(1)
    )
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="Polisen"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_the_owning_agency_needs_no_disclosure_and_a_non_owning_organiser_needs_one(world: World) -> None:
    """A police samordnare organises; the social services own the case and take part."""
    meeting = schedule(world.police_samordnare, [world.social])
    # The police do not see the case at all: the same answer as for a reference that does not exist.
    with pytest.raises(MeetingError, match="inget ärende med den referensen") as unseen:
        put_on_agenda(meeting, world.police_samordnare, world.case)
    with pytest.raises(MeetingError) as missing:
        do_add_to_agenda(
            meeting,
            acting_user=world.police_samordnare.user,
            membership=world.police_samordnare,
            reference="VR-XXXX-XX",
        )
    assert str(unseen.value) == str(missing.value)
    disclose(world.case, world.handlaggare, world.police)
    item = put_on_agenda(meeting, world.police_samordnare, world.case)
    assert item.case == world.case


def test_emergency_access_cannot_put_a_case_on_the_agenda(world: World) -> None:
    meeting = schedule(world.police_samordnare, [world.social])
    do_request_emergency_access(
        world.case,
        acting_user=world.police_samordnare.user,
        membership=world.police_samordnare,
        reason="Akut hot mot personen just nu",
    )
    with pytest.raises(MeetingError, match="Nödåtkomst"):
        put_on_agenda(meeting, world.police_samordnare, world.case)
    assert not AgendaItem.objects.exists()


def test_only_the_organisers_samordnare_changes_the_agenda(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    for membership in (world.handlaggare, world.police_samordnare):
        with pytest.raises(MeetingError, match="sammankallande myndighetens samordnare"):
            put_on_agenda(meeting, membership, world.case)
    assert not AgendaItem.objects.exists()


def test_a_case_goes_on_the_agenda_once(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    put_on_agenda(meeting, world.samordnare, world.case)
    with pytest.raises(MeetingError, match="redan på dagordningen"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_items_are_numbered_in_the_order_they_were_added(world: World) -> None:
    second_case = open_case(world.handlaggare)
    meeting = schedule(world.samordnare, [world.police])
    for case in (world.case, second_case):
        disclose(case, world.handlaggare, world.police)
    first = put_on_agenda(meeting, world.samordnare, world.case)
    second = put_on_agenda(meeting, world.samordnare, second_case)
    assert (first.position, second.position) == (1, 2)


def test_the_agenda_of_a_cancelled_or_held_meeting_cannot_change(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    do_cancel_meeting(meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    with pytest.raises(MeetingError, match="planerat möte"):
        put_on_agenda(meeting, world.samordnare, world.case)


def test_an_item_is_removed_from_the_agenda_and_audited(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    do_remove_from_agenda(item, acting_user=world.samordnare.user, membership=world.samordnare)
    assert not AgendaItem.objects.exists()
    (event,) = events("meeting.agenda.remove")
    assert event.object_reference == world.case.reference
    assert event.details["agenda_item"] == str(item.pk)


def test_an_item_with_minutes_stays_on_the_agenda(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    do_record_minutes(
        item,
        acting_user=world.samordnare.user,
        membership=world.samordnare,
        minutes="Diskuterat",
        decisions="",
        based_on="",
    )
    with pytest.raises(MeetingError, match="protokoll eller åtgärder"):
        do_remove_from_agenda(item, acting_user=world.samordnare.user, membership=world.samordnare)
    assert AgendaItem.objects.filter(pk=item.pk).exists()


# --- Minutes ------------------------------------------------------------------------------------------------


@pytest.fixture
def on_agenda(world: World) -> AgendaItem:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    return put_on_agenda(meeting, world.samordnare, world.case)


def test_minutes_and_decisions_are_sealed_and_audited(world: World, on_agenda: AgendaItem) -> None:
    item = do_record_minutes(
        on_agenda,
        acting_user=world.samordnare.user,
        membership=world.samordnare,
        minutes="ZZMINUTES Polisen redogjorde för läget.",
        decisions="ZZDECISION Ny riskbedömning inom en vecka.",
        based_on="",
    )
    item.refresh_from_db()
    assert b"ZZMINUTES" not in bytes(item.minutes_sealed)
    assert b"ZZDECISION" not in bytes(item.decisions_sealed)
    assert item.minutes_by == world.samordnare.user
    (event,) = events("meeting.minutes")
    assert event.object_reference == world.case.reference
    assert event.details == {
        "meeting": str(item.meeting_id),
        "agenda_item": str(item.pk),
        "minutes": True,
        "decisions": True,
    }
    record = read_meeting(
        access_meeting(world.polis.user, item.meeting_id), user=world.polis.user, request=None
    )
    assert record.agenda[0].minutes == "ZZMINUTES Polisen redogjorde för läget."
    assert record.agenda[0].decisions == "ZZDECISION Ny riskbedömning inom en vecka."


def test_minutes_saved_meanwhile_are_never_overwritten(world: World, on_agenda: AgendaItem) -> None:
    kwargs = {"acting_user": world.samordnare.user, "membership": world.samordnare, "decisions": ""}
    first = do_record_minutes(on_agenda, minutes="Första versionen", based_on="", **kwargs)
    with pytest.raises(StaleMinutesError):
        do_record_minutes(on_agenda, minutes="Skriven utan att se den första", based_on="", **kwargs)
    do_record_minutes(on_agenda, minutes="Andra versionen", based_on=minutes_token(first), **kwargs)
    record = read_meeting(
        access_meeting(world.samordnare.user, on_agenda.meeting_id), user=world.samordnare.user, request=None
    )
    assert record.agenda[0].minutes == "Andra versionen"


def test_empty_minutes_are_refused(world: World, on_agenda: AgendaItem) -> None:
    with pytest.raises(MeetingError, match="Skriv protokoll eller beslut"):
        do_record_minutes(
            on_agenda,
            acting_user=world.samordnare.user,
            membership=world.samordnare,
            minutes="  ",
            decisions="",
            based_on="",
        )


def test_only_the_organisers_samordnare_records_minutes(world: World, on_agenda: AgendaItem) -> None:
    with pytest.raises(MeetingError, match="sammankallande"):
        do_record_minutes(
            on_agenda,
            acting_user=world.police_samordnare.user,
            membership=world.police_samordnare,
            minutes="Försök",
            decisions="",
            based_on="",
        )
    assert events("meeting.minutes") == []


def test_minutes_of_a_cancelled_meeting_cannot_be_written(world: World, on_agenda: AgendaItem) -> None:
    do_cancel_meeting(on_agenda.meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    with pytest.raises(MeetingError, match="inställt"):
        do_record_minutes(
            on_agenda,
            acting_user=world.samordnare.user,
            membership=world.samordnare,
            minutes="Försök",
            decisions="",
            based_on="",
        )


# --- Attendance ---------------------------------------------------------------------------------------------


def test_attendance_records_exactly_the_chosen_caseworkers(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    kwargs = {"acting_user": world.samordnare.user, "membership": world.samordnare}
    do_record_attendance(meeting, attendees=[world.samordnare, world.polis], **kwargs)
    assert set(meeting.attendance.values_list("user__username", "agency__code")) == {
        ("samordnare", "soc-vuxen"),
        ("polis", "polisen"),
    }
    do_record_attendance(meeting, attendees=[world.polis, world.handlaggare], **kwargs)
    assert set(meeting.attendance.values_list("user__username", flat=True)) == {"polis", "handlaggare"}
    last = events("meeting.attendance")[-1]
    assert last.object_reference == str(meeting.pk)
    assert last.details["attendees"] == 2
    assert last.details["added"] == 1
    assert last.details["removed"] == 1


def test_only_caseworkers_of_participating_agencies_can_attend(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    kwargs = {"acting_user": world.samordnare.user, "membership": world.samordnare}
    for outsider in (world.jour, world.chef):
        with pytest.raises(MeetingError, match="närvarande"):
            do_record_attendance(meeting, attendees=[outsider], **kwargs)
    assert not meeting.attendance.exists()


def test_only_the_organisers_samordnare_records_attendance(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="sammankallande"):
        do_record_attendance(
            meeting, acting_user=world.polis.user, membership=world.polis, attendees=[world.polis]
        )


# --- Actions ------------------------------------------------------------------------------------------------


def add_action(world: World, item: AgendaItem, owner, **overrides: object) -> Action:
    values: dict[str, object] = {
        "acting_user": world.samordnare.user,
        "membership": world.samordnare,
        "owner_membership": owner,
        "due_on": timezone.localdate() + datetime.timedelta(days=7),
        "description": "ZZACTION Polisen gör en ny hotbedömning.",
    }
    values.update(overrides)
    return do_add_meeting_action(item, **values)


def test_a_meeting_adds_an_action_to_the_case_and_the_owner_is_notified(
    world: World, on_agenda: AgendaItem
) -> None:
    action = add_action(world, on_agenda, world.polis)
    assert action.case == world.case
    assert action.agency == world.police
    assert action.owner == world.polis.user
    assert action.agenda_item == on_agenda
    assert action.status == ActionStatus.OPEN
    assert b"ZZACTION" not in bytes(action.description_sealed)
    assert Notification.objects.filter(
        user=world.polis.user, kind=NotificationKind.ACTION_ASSIGNED, action=action
    ).exists()
    (event,) = events("meeting.action.add")
    assert event.object_reference == world.case.reference
    assert event.details["action"] == str(action.pk)
    assert event.details["agency"] == "polisen"
    assert "ZZACTION" not in str(event.details)
    record = read_meeting(
        access_meeting(world.polis.user, on_agenda.meeting_id), user=world.polis.user, request=None
    )
    (entry,) = record.agenda[0].actions
    assert entry.description == "ZZACTION Polisen gör en ny hotbedömning."


def test_the_owning_agency_may_own_a_meeting_action(world: World, on_agenda: AgendaItem) -> None:
    assert add_action(world, on_agenda, world.handlaggare).agency == world.social


def test_an_action_owner_needs_a_disclosure_in_force(world: World) -> None:
    """The shelter takes part but holds no disclosure of the case with the plan."""
    disclose(world.case, world.handlaggare, world.police)
    disclose(world.case, world.handlaggare, world.shelter, categories=[InformationCategory.SUMMARY])
    meeting = schedule(world.samordnare, [world.police, world.shelter])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    with pytest.raises(MeetingError, match="deltagande myndighet") as raised:
        add_action(world, item, world.jour)
    assert raised.value.field == "owner"
    assert not Action.objects.exists()


def test_an_action_owner_must_take_part_in_the_meeting(world: World, on_agenda: AgendaItem) -> None:
    disclose(world.case, world.handlaggare, world.shelter)
    with pytest.raises(MeetingError, match="deltagande myndighet"):
        add_action(world, on_agenda, world.jour)


def test_an_action_owner_does_casework(world: World, on_agenda: AgendaItem) -> None:
    with pytest.raises(MeetingError, match="deltagande myndighet"):
        add_action(world, on_agenda, world.chef)


def test_an_action_is_not_due_in_the_past_and_has_a_description(world: World, on_agenda: AgendaItem) -> None:
    with pytest.raises(MeetingError, match="passerat"):
        add_action(world, on_agenda, world.polis, due_on=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(MeetingError, match="Beskriv åtgärden"):
        add_action(world, on_agenda, world.polis, description="   ")
    assert not Action.objects.exists()


def test_only_the_organisers_samordnare_adds_meeting_actions(world: World, on_agenda: AgendaItem) -> None:
    with pytest.raises(MeetingError, match="sammankallande"):
        add_action(
            world,
            on_agenda,
            world.polis,
            acting_user=world.police_samordnare.user,
            membership=world.police_samordnare,
        )


# --- Status -------------------------------------------------------------------------------------------------


def test_a_meeting_is_cancelled_once_and_audited(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    do_cancel_meeting(meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    (event,) = events("meeting.cancel")
    assert event.details["from"] == MeetingStatus.PLANNED
    with pytest.raises(MeetingError, match="redan inställt"):
        do_cancel_meeting(meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    with pytest.raises(MeetingError):
        do_mark_held(started(meeting), acting_user=world.samordnare.user, membership=world.samordnare)


def test_those_called_to_a_meeting_are_told_when_it_is_cancelled(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    do_cancel_meeting(meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    cancelled = Notification.objects.filter(meeting=meeting, kind=NotificationKind.MEETING_CANCELLED)
    # The same people as the notice of the meeting, never the samordnare who cancelled it.
    told = set(cancelled.values_list("user__username", flat=True))
    assert told == {"handlaggare", "polis", "polissamordnare"}


def test_a_meeting_is_held_only_once_it_has_started(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="inte börjat"):
        do_mark_held(meeting, acting_user=world.samordnare.user, membership=world.samordnare)
    do_mark_held(started(meeting), acting_user=world.samordnare.user, membership=world.samordnare)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    assert len(events("meeting.held")) == 1
    with pytest.raises(MeetingError):
        do_cancel_meeting(meeting, acting_user=world.samordnare.user, membership=world.samordnare)


def test_only_the_organisers_samordnare_cancels(world: World) -> None:
    meeting = schedule(world.samordnare, [world.police])
    with pytest.raises(MeetingError, match="sammankallande"):
        do_cancel_meeting(
            meeting, acting_user=world.police_samordnare.user, membership=world.police_samordnare
        )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED


# --- The audited read ---------------------------------------------------------------------------------------


def test_reading_a_meeting_audits_each_case_shown_before_decrypting(
    world: World, on_agenda: AgendaItem
) -> None:
    access = access_meeting(world.polis.user, on_agenda.meeting_id)
    read_meeting(access, user=world.polis.user, request=None)
    (event,) = events("meeting.read")
    assert event.actor == world.polis.user
    assert event.agency_code == "polisen"
    assert event.object_type == "case"
    assert event.object_reference == world.case.reference
    assert event.object_agency == "soc-vuxen"
    assert event.details == {"meeting": str(on_agenda.meeting_id), "agenda_item": str(on_agenda.pk)}


def test_a_participant_whose_disclosure_ended_sees_the_item_as_not_accessible(
    world: World, on_agenda: AgendaItem
) -> None:
    disclosure = Disclosure.objects.get(case=world.case, recipient=world.police)
    do_end_disclosure(disclosure, acting_user=world.handlaggare.user, membership=world.handlaggare)
    record = read_meeting(
        access_meeting(world.polis.user, on_agenda.meeting_id), user=world.polis.user, request=None
    )
    (entry,) = record.agenda
    assert not entry.accessible
    assert entry.reference == ""
    assert entry.snapshot == []
    assert record.references == []
    assert events("meeting.read") == []


def test_a_participant_without_the_plan_sees_the_snapshot_but_not_the_actions(world: World) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    add_action(world, item, world.handlaggare)
    polis = read_meeting(access_meeting(world.polis.user, meeting.pk), user=world.polis.user, request=None)
    assert polis.agenda[0].accessible
    assert polis.agenda[0].actions == []
    owner = read_meeting(
        access_meeting(world.handlaggare.user, meeting.pk), user=world.handlaggare.user, request=None
    )
    assert len(owner.agenda[0].actions) == 1


def test_an_unaudited_read_returns_nothing(world: World, on_agenda: AgendaItem, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.meetings.record_event", broken)
    access = access_meeting(world.polis.user, on_agenda.meeting_id)
    with pytest.raises(AuditWriteError):
        read_meeting(access, user=world.polis.user, request=None)


def test_a_failed_audit_leaves_the_agenda_unchanged(world: World, monkeypatch) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])

    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.meetings.record_event", broken)
    with pytest.raises(AuditWriteError):
        put_on_agenda(meeting, world.samordnare, world.case)
    assert not AgendaItem.objects.exists()
