"""The optional note beside a download's reason (issue 12): the audit trail keeps the reason's code
only; the note is sealed with the case's key and shown only to the owning agency's caseworkers, on the
case's disclosures page, whose reading is audited. The granskare, who reads the trail of several
agencies, never sees it."""

from __future__ import annotations

import json

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.urls import reverse

from access.models import AuditEvent
from cases.choices import InformationCategory
from cases.limits import EXPORT_NOTE_MAX_LENGTH
from cases.models import ExportNote
from cases.vault import CaseVault
from coordination.meetings import do_record_minutes
from tests.coordination.meetings_setup import World, build_world, disclose, put_on_agenda, schedule
from tests.shared_world import shared_world

pytestmark = [pytest.mark.django_db]

NOTE = "ZZNOTE Åklagaren vill ha underlaget före häktningsförhandlingen"


_shared_world_once, world = shared_world(build_world)


def summary_url(world: World) -> str:
    return reverse("coordination:case_summary_pdf", kwargs={"reference": world.case.reference})


def disclosures_url(world: World) -> str:
    return reverse("cases:disclosures", kwargs={"reference": world.case.reference})


def raw_rows(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a model's own table
        return repr(cursor.fetchall())


def test_the_note_is_sealed_and_linked_to_the_event_that_holds_only_the_code(
    world: World, login_client
) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    client = login_client(world.police_samordnare.user)
    response = client.post(summary_url(world), {"reason": "overlamning", "note": NOTE})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    (event,) = AuditEvent.objects.filter(action="case.summary.pdf")
    assert event.reason == "overlamning"
    (note,) = ExportNote.objects.all()
    assert (note.case, note.audit_event_id, note.reason) == (world.case, event.pk, "overlamning")
    assert (note.user, note.agency) == (world.police_samordnare.user, world.police)
    assert CaseVault.for_case(world.case).open(note, "note") == NOTE
    # Nowhere in plaintext: not in the note's row, not in the trail, not in django-auditlog.
    for table in (ExportNote._meta.db_table, AuditEvent._meta.db_table, LogEntry._meta.db_table):
        assert "ZZNOTE" not in raw_rows(table), table


def test_the_owning_agency_reads_the_note_on_the_disclosures_page_and_the_reading_is_audited(
    world: World, login_client
) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    login_client(world.police_samordnare.user).post(
        summary_url(world), {"reason": "overlamning", "note": NOTE}
    )
    page = login_client(world.handlaggare.user).get(disclosures_url(world))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Anteckningar vid nedladdning" in body
    assert "Åklagaren vill ha underlaget före häktningsförhandlingen" in body
    assert "Överlämning till en kollega eller annan enhet" in body and "Polisen" in body
    read = AuditEvent.objects.filter(action="case.disclosures.read").latest("id")
    assert read.details == {"disclosures": 1, "export_notes": 1}


def test_the_reader_the_recipient_and_the_granskare_never_see_the_note(world: World, login_client) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    reader = login_client(world.police_samordnare.user)
    reader.post(summary_url(world), {"reason": "overlamning", "note": NOTE})
    # The recipient agency may not open the owner's disclosures page at all.
    assert reader.get(disclosures_url(world)).status_code == 403
    # The owning agency's granskare reads the trail: the label of the code, never the note.
    granskare = login_client(world.granskare.user)
    trail = granskare.get(reverse("compliance:case_history", kwargs={"reference": world.case.reference}))
    assert trail.status_code == 200
    assert "Överlämning till en kollega eller annan enhet" in trail.content.decode()
    assert "ZZNOTE" not in trail.content.decode()
    assert granskare.get(disclosures_url(world)).status_code == 404


def test_a_meeting_pack_note_is_sealed_once_per_case_with_that_cases_key(world: World, login_client) -> None:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    do_record_minutes(
        item,
        minutes="Protokoll",
        decisions="",
        based_on="",
        acting_user=world.samordnare.user,
        membership=world.samordnare,
    )
    url = reverse("coordination:meeting_pdf", kwargs={"meeting_id": meeting.pk})
    response = login_client(world.samordnare.user).post(url, {"reason": "samverkansmote", "note": NOTE})
    assert response["Content-Type"] == "application/pdf"
    (event,) = AuditEvent.objects.filter(action="meeting.pdf")
    (note,) = ExportNote.objects.all()
    assert (note.case, note.audit_event_id, note.action) == (world.case, event.pk, "meeting.pdf")
    assert CaseVault.for_case(world.case).open(note, "note") == NOTE
    assert "ZZNOTE" not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_no_note_keeps_no_row(world: World, login_client) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    login_client(world.police_samordnare.user).post(
        summary_url(world), {"reason": "overlamning", "note": "  "}
    )
    assert AuditEvent.objects.filter(action="case.summary.pdf").count() == 1
    assert not ExportNote.objects.exists()


def test_a_too_long_note_is_refused_with_the_text_kept_and_nothing_recorded(
    world: World, login_client
) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    long_note = "å" * (EXPORT_NOTE_MAX_LENGTH + 1)
    response = login_client(world.police_samordnare.user).post(
        summary_url(world), {"reason": "overlamning", "note": long_note}
    )
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert f"Anteckningen får vara högst {EXPORT_NOTE_MAX_LENGTH} tecken" in body
    assert long_note in body  # what was typed is kept
    assert not AuditEvent.objects.filter(action="case.summary.pdf").exists()
    assert not ExportNote.objects.exists()
