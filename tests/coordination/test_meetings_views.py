"""Samverkansmöten in the browser's terms: who gets which page (404 for outsiders, 403 for participants who
may not change), the forms (Swedish errors, input kept), the audited meeting page, and that a meeting
page never shows a case to someone who may not read it."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, User
from cases.models import Disclosure
from cases.sharing import do_end_disclosure
from coordination.meetings import do_record_minutes, minutes_token
from coordination.models import Action, AgendaItem, Meeting, MeetingKind, MeetingStatus
from tests.coordination.meetings_setup import (
    MARKER_NAME,
    MARKER_NUMBER_SHOWN,
    SUMMARY_TEXT,
    World,
    build_world,
    disclose,
    put_on_agenda,
    save_summary,
    schedule,
    started,
)
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db


_shared_world_once, world = shared_world(build_world)


@pytest.fixture
def meeting(world: World) -> Meeting:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    put_on_agenda(meeting, world.samordnare, world.case)
    return meeting


def detail_url(meeting: Meeting) -> str:
    return reverse("coordination:meeting_detail", kwargs={"meeting_id": meeting.pk})


def client_for(login_client, user: User) -> Client:
    client: Client = login_client(user)
    return client


# --- Who gets what ------------------------------------------------------------------------------------------


def test_outsiders_get_404_for_a_meeting_as_for_one_that_does_not_exist(
    world: World, meeting: Meeting, login_client
) -> None:
    missing = reverse(
        "coordination:meeting_detail", kwargs={"meeting_id": "00000000-0000-0000-0000-000000000001"}
    )
    for membership in (world.jour, world.chef, world.granskare):
        client = client_for(login_client, membership.user)
        assert client.get(detail_url(meeting)).status_code == 404
        assert client.get(missing).status_code == 404
        assert (
            client.get(reverse("coordination:meeting_pdf", kwargs={"meeting_id": meeting.pk})).status_code
            == 404
        )


def test_participants_see_the_meeting_with_the_snapshot_and_the_read_is_audited(
    world: World, meeting: Meeting, login_client
) -> None:
    response = client_for(login_client, world.polis.user).get(detail_url(meeting))
    assert response.status_code == 200
    body = response.content.decode()
    assert SUMMARY_TEXT in body
    assert world.case.reference in body
    assert MARKER_NAME not in body
    assert MARKER_NUMBER_SHOWN not in body
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.filter(action="meeting.read").latest("id")
    assert event.actor == world.polis.user
    assert event.object_reference == world.case.reference
    assert event.details["meeting"] == str(meeting.pk)


def test_a_participant_whose_disclosure_ended_sees_neither_the_snapshot_nor_the_reference(
    world: World, meeting: Meeting, login_client
) -> None:
    disclosure = Disclosure.objects.get(case=world.case, recipient=world.police)
    do_end_disclosure(disclosure, acting_user=world.handlaggare.user, membership=world.handlaggare)
    body = client_for(login_client, world.polis.user).get(detail_url(meeting)).content.decode()
    assert "Ärendet är inte tillgängligt för dig" in body
    assert world.case.reference not in body, "the reference leaked to an agency without a disclosure"
    assert SUMMARY_TEXT not in body, "the snapshot leaked to an agency without a disclosure"


def test_the_page_shows_the_snapshot_not_the_summary_as_it_is_now(
    world: World, meeting: Meeting, login_client
) -> None:
    save_summary(world.case, world.handlaggare, "ZZLATER Ny text efter att ärendet sattes upp.")
    body = client_for(login_client, world.polis.user).get(detail_url(meeting)).content.decode()
    assert SUMMARY_TEXT in body
    assert "ZZLATER" not in body


def test_an_unaudited_meeting_page_shows_nothing(
    world: World, meeting: Meeting, login_client, monkeypatch
) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.meetings.record_event", broken)
    client = client_for(login_client, world.polis.user)
    client.raise_request_exception = False
    response = client.get(detail_url(meeting))
    assert response.status_code == 500
    assert "ZZSNAPSHOT" not in response.content.decode()


def test_the_list_shows_the_meetings_of_the_users_agencies_only(
    world: World, meeting: Meeting, login_client
) -> None:
    url = reverse("coordination:meetings")
    assert detail_url(meeting) in client_for(login_client, world.polis.user).get(url).content.decode()
    jour = client_for(login_client, world.jour.user).get(url)
    assert jour.status_code == 200
    assert detail_url(meeting) not in jour.content.decode()
    assert client_for(login_client, world.chef.user).get(url).status_code == 404


def test_participants_who_are_not_the_organisers_samordnare_may_not_change_the_meeting(
    world: World, meeting: Meeting, login_client
) -> None:
    item = AgendaItem.objects.get(meeting=meeting)
    ids = {"meeting_id": meeting.pk}
    item_ids = {"meeting_id": meeting.pk, "item_id": item.pk}
    posts = [
        (reverse("coordination:agenda_add", kwargs=ids), {"reference": world.case.reference}),
        (reverse("coordination:agenda_remove", kwargs=item_ids), {}),
        (reverse("coordination:meeting_minutes", kwargs=item_ids), {"minutes": "x", "based_on": ""}),
        (reverse("coordination:meeting_action_add", kwargs=item_ids), {}),
        (reverse("coordination:meeting_attendance", kwargs=ids), {}),
        (reverse("coordination:meeting_cancel", kwargs=ids), {}),
        (reverse("coordination:meeting_held", kwargs=ids), {}),
    ]
    for membership in (world.handlaggare, world.police_samordnare):
        client = client_for(login_client, membership.user)
        for url, data in posts:
            assert client.post(url, data).status_code == 403, url
    assert AgendaItem.objects.filter(pk=item.pk).exists()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED


def test_a_get_never_changes_a_meeting(world: World, meeting: Meeting, login_client) -> None:
    client = client_for(login_client, world.samordnare.user)
    item = AgendaItem.objects.get(meeting=meeting)
    for name, kwargs in (
        ("agenda_add", {"meeting_id": meeting.pk}),
        ("agenda_remove", {"meeting_id": meeting.pk, "item_id": item.pk}),
        ("meeting_held", {"meeting_id": meeting.pk}),
    ):
        assert client.get(reverse(f"coordination:{name}", kwargs=kwargs)).status_code == 405
    assert (
        client.get(reverse("coordination:meeting_cancel", kwargs={"meeting_id": meeting.pk})).status_code
        == 200
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED


# --- Scheduling ---------------------------------------------------------------------------------------------


def test_a_samordnare_schedules_a_meeting_through_the_form(world: World, login_client) -> None:
    client = client_for(login_client, world.samordnare.user)
    assert client.get(reverse("coordination:meeting_create")).status_code == 200
    starts = timezone.localtime() + datetime.timedelta(days=3)
    response = client.post(
        reverse("coordination:meeting_create"),
        {
            "organiser": str(world.samordnare.pk),
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "kind": MeetingKind.ORDINARY,
            "participants": [str(world.police.pk)],
        },
    )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(meeting)
    assert set(meeting.participants.values_list("code", flat=True)) == {"soc-vuxen", "polisen"}


def test_an_ordinary_meeting_at_short_notice_is_refused_with_the_input_kept(
    world: World, login_client
) -> None:
    client = client_for(login_client, world.samordnare.user)
    soon = (timezone.localtime() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("coordination:meeting_create"),
        {
            "organiser": str(world.samordnare.pk),
            "starts_at": soon,
            "kind": MeetingKind.ORDINARY,
            "participants": [str(world.police.pk)],
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "minst ett dygn i förväg" in body
    assert f'value="{soon}"' in body
    assert not Meeting.objects.exists()


def test_a_handlaggare_cannot_schedule_a_meeting(world: World, login_client) -> None:
    client = client_for(login_client, world.handlaggare.user)
    assert client.get(reverse("coordination:meeting_create")).status_code == 403


# --- The agenda ---------------------------------------------------------------------------------------------


def test_adding_a_case_without_disclosures_shows_which_agencies_lack_one(world: World, login_client) -> None:
    meeting = schedule(world.samordnare, [world.police, world.shelter])
    client = client_for(login_client, world.samordnare.user)
    response = client.post(
        reverse("coordination:agenda_add", kwargs={"meeting_id": meeting.pk}),
        {"reference": world.case.reference},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "det saknas ett gällande utlämnande av sammanfattningen till Kvinnojouren, Polisen" in body
    assert f'value="{world.case.reference}"' in body
    assert not AgendaItem.objects.exists()


def test_the_organiser_adds_and_removes_a_case(world: World, login_client) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    client = client_for(login_client, world.samordnare.user)
    response = client.post(
        reverse("coordination:agenda_add", kwargs={"meeting_id": meeting.pk}),
        {"reference": world.case.reference},
    )
    item = AgendaItem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{detail_url(meeting)}#punkt-{item.pk}"
    response = client.post(
        reverse("coordination:agenda_remove", kwargs={"meeting_id": meeting.pk, "item_id": item.pk})
    )
    assert response.status_code == 302
    assert not AgendaItem.objects.exists()


# --- Minutes, attendance, actions, status -------------------------------------------------------------------


def test_the_organiser_records_minutes(world: World, meeting: Meeting, login_client) -> None:
    item = AgendaItem.objects.get(meeting=meeting)
    url = reverse("coordination:meeting_minutes", kwargs={"meeting_id": meeting.pk, "item_id": item.pk})
    client = client_for(login_client, world.samordnare.user)
    page = client.get(url)
    assert page.status_code == 200
    assert SUMMARY_TEXT in page.content.decode()
    response = client.post(
        url, {"minutes": "ZZMINUTES Genomgång", "decisions": "ZZDECISION Ny plan", "based_on": ""}
    )
    assert response.status_code == 302
    body = client.get(detail_url(meeting)).content.decode()
    assert "ZZMINUTES Genomgång" in body
    assert "ZZDECISION Ny plan" in body


def test_minutes_saved_meanwhile_are_shown_beside_the_users_text(
    world: World, meeting: Meeting, login_client
) -> None:
    item = AgendaItem.objects.get(meeting=meeting)
    url = reverse("coordination:meeting_minutes", kwargs={"meeting_id": meeting.pk, "item_id": item.pk})
    do_record_minutes(
        item,
        acting_user=world.samordnare.user,
        membership=world.samordnare,
        minutes="ZZFIRST sparat av någon annan",
        decisions="",
        based_on="",
    )
    response = client_for(login_client, world.samordnare.user).post(
        url, {"minutes": "ZZMINE min egen text", "decisions": "", "based_on": ""}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "ZZMINE min egen text" in body
    assert "ZZFIRST sparat av någon annan" in body
    assert "Någon annan har sparat protokollet" in body
    item.refresh_from_db()
    assert f'value="{minutes_token(item)}"' in body


def test_the_minutes_page_of_a_case_the_organiser_no_longer_sees_does_not_exist(
    world: World, login_client
) -> None:
    """The police organise; once the social services revoke the disclosure, the item is closed to them."""
    disclosure = disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.police_samordnare, [world.social])
    item = put_on_agenda(meeting, world.police_samordnare, world.case)
    do_end_disclosure(disclosure, acting_user=world.handlaggare.user, membership=world.handlaggare)
    url = reverse("coordination:meeting_minutes", kwargs={"meeting_id": meeting.pk, "item_id": item.pk})
    assert client_for(login_client, world.police_samordnare.user).get(url).status_code == 404


def test_the_organiser_records_attendance(world: World, meeting: Meeting, login_client) -> None:
    url = reverse("coordination:meeting_attendance", kwargs={"meeting_id": meeting.pk})
    client = client_for(login_client, world.samordnare.user)
    page = client.get(url).content.decode()
    assert "Johan Ek (polis), Polisen" in page
    assert "jour" not in page  # the shelter takes no part
    response = client.post(url, {"attendees": [str(world.polis.pk), str(world.samordnare.pk)]})
    assert response.status_code == 302
    assert set(meeting.attendance.values_list("user__username", flat=True)) == {"polis", "samordnare"}
    assert "Johan Ek, Polisen" in client.get(detail_url(meeting)).content.decode()


def test_a_forged_attendee_is_refused(world: World, meeting: Meeting, login_client) -> None:
    url = reverse("coordination:meeting_attendance", kwargs={"meeting_id": meeting.pk})
    response = client_for(login_client, world.samordnare.user).post(url, {"attendees": [str(world.jour.pk)]})
    assert response.status_code == 200
    assert not meeting.attendance.exists()


def test_the_organiser_adds_an_action_for_a_participant(world: World, meeting: Meeting, login_client) -> None:
    item = AgendaItem.objects.get(meeting=meeting)
    url = reverse("coordination:meeting_action_add", kwargs={"meeting_id": meeting.pk, "item_id": item.pk})
    client = client_for(login_client, world.samordnare.user)
    assert "Johan Ek (polis), Polisen" in client.get(url).content.decode()
    due = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    bad = client.post(url, {"owner": str(world.polis.pk), "due_on": due, "description": ""})
    assert bad.status_code == 200
    assert "Beskriv åtgärden." in bad.content.decode()
    response = client.post(
        url, {"owner": str(world.polis.pk), "due_on": due, "description": "ZZACTION Hotbedömning"}
    )
    assert response.status_code == 302
    action = Action.objects.get()
    assert action.owner == world.polis.user
    assert "ZZACTION Hotbedömning" in client.get(detail_url(meeting)).content.decode()


def test_the_organiser_cancels_after_confirming(world: World, meeting: Meeting, login_client) -> None:
    url = reverse("coordination:meeting_cancel", kwargs={"meeting_id": meeting.pk})
    client = client_for(login_client, world.samordnare.user)
    assert "Ställ in mötet?" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED


def test_the_organiser_marks_a_started_meeting_as_held(world: World, meeting: Meeting, login_client) -> None:
    url = reverse("coordination:meeting_held", kwargs={"meeting_id": meeting.pk})
    client = client_for(login_client, world.samordnare.user)
    client.post(url)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PLANNED  # not started yet
    started(meeting)
    client.post(url)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
