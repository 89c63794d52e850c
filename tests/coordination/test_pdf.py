"""The meeting pack and the summary PDF: read back with pypdf (tests/pdf_reading.py), they carry the watermark
on every page, render å ä ö with the embedded font, show user markup literally, and contain nothing the
downloader may not see: no name, no personnummer, no case whose disclosure has ended. Every download
needs a reason and is audited in the transaction that builds the file."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, Membership, Role, User
from cases.choices import InformationCategory
from cases.models import Disclosure
from cases.records import Paragraph
from cases.sharing import do_end_disclosure
from coordination import pdf
from coordination.meetings import (
    SummaryExport,
    do_add_meeting_action,
    do_record_attendance,
    do_record_minutes,
)
from coordination.models import Meeting
from coordination.pdf_fonts import PdfFontMissingError, register_fonts
from tests import pdf_reading
from tests.coordination.meetings_setup import (
    MARKER_NAME,
    MARKER_NUMBER,
    MARKER_NUMBER_SHOWN,
    SUMMARY_TEXT,
    World,
    build_world,
    disclose,
    put_on_agenda,
    save_summary,
    schedule,
)
from tests.shared_world import shared_world

pytestmark = [pytest.mark.django_db]


_shared_world_once, world = shared_world(build_world)


MARKUP = "Hot <b>inte fet</b> & A&amp;B <i>x</i> <font color='red'>röd</font>"
REASON = "samverkansmote"


def text_of(content: bytes, tmp_path: Path) -> str:
    """The text in drawing order, pages separated by a form feed: each page's diagonal watermark first,
    then the content as written, then the header and footer. Reading order by position would weave the
    diagonal watermark's letters into the lines it crosses."""
    return pdf_reading.text(content)


def pages_of(text: str) -> list[str]:
    return [page for page in text.split("\f") if page.strip()]


def plain(text: str) -> str:
    """The text with line breaks and runs of spaces made single spaces, for phrases that may wrap."""
    return re.sub(r"\s+", " ", text)


# --- Rendering ----------------------------------------------------------------------------------------------


def export(paragraphs: list[Paragraph]) -> SummaryExport:
    class FakeCase:
        reference = "VR-TEST-22"

    return SummaryExport(
        case=FakeCase(),
        owner_agency="Socialtjänsten vuxen",
        version=2,
        saved_at=timezone.now(),
        paragraphs=paragraphs,
    )


def test_every_page_carries_the_watermark_and_its_number(tmp_path: Path) -> None:
    long_text = "\n\n".join(
        f"Stycke {n}: " + "våld i nära relation, åtgärder följs upp. " * 30 for n in range(12)
    )
    moment = datetime.datetime(2026, 11, 22, 8, 30, tzinfo=datetime.UTC)  # 09:30 in Stockholm
    content = pdf.render_summary_pdf(
        export([Paragraph("soc", "Socialtjänsten", long_text)]), username="samordnare", generated_at=moment
    )
    assert content.startswith(b"%PDF")
    pages = pages_of(text_of(content, tmp_path))
    assert len(pages) >= 2
    diagonal = "Sekretess enligt 26 kap. 1 § OSL · samordnare · 2026-11-22 09:30".replace(" ", "")
    for number, page in enumerate(pages, start=1):
        assert "Sekretess enligt 26 kap. 1 § OSL" in page
        assert "Hämtad av samordnare 2026-11-22 09:30" in page
        assert f"Sida {number} av {len(pages)}" in page
        # Drawn first, beneath the content, one letter a line in drawing order.
        assert re.sub(r"\s+", "", page).startswith(diagonal)


def test_swedish_letters_render_with_the_embedded_font(tmp_path: Path) -> None:
    content = pdf.render_summary_pdf(
        export([Paragraph("soc", "Socialtjänsten", "Åsa är rädd för ökad hotbild. ÅÄÖ åäö")]),
        username="samordnare",
        generated_at=timezone.now(),
    )
    text = text_of(content, tmp_path)
    assert "Åsa är rädd för ökad hotbild. ÅÄÖ åäö" in text
    embedded = register_fonts().regular.stem.replace("-", "")
    # Embedded, never a standard font without å ä ö, and no other font at all: a reader's substitute for
    # an unembedded standard font may lack them.
    assert b"Helvetica" not in content
    fonts = pdf_reading.fonts(content)
    assert fonts and all(font.embedded for font in fonts), fonts
    assert all(embedded in font.name.replace("-", "") for font in fonts), (embedded, fonts)


def test_without_dejavu_the_pdfs_embed_reportlabs_vera_and_still_render_swedish_letters(
    without_dejavu: None, tmp_path: Path
) -> None:
    content = pdf.render_summary_pdf(
        export([Paragraph("soc", "Socialtjänsten", "Åsa är rädd för ökad hotbild – § 18 c × 2")]),
        username="samordnare",
        generated_at=timezone.now(),
    )
    assert "Åsa är rädd för ökad hotbild – § 18 c × 2" in text_of(content, tmp_path)
    fonts = pdf_reading.fonts(content)
    assert fonts and all(font.embedded and "Vera" in font.name for font in fonts), fonts


def test_user_markup_comes_out_literally(tmp_path: Path) -> None:
    content = pdf.render_summary_pdf(
        export([Paragraph("soc", "Socialtjänsten", MARKUP)]),
        username="samordnare",
        generated_at=timezone.now(),
    )
    assert MARKUP in text_of(content, tmp_path)


def test_the_escaping_keeps_line_breaks_and_drops_control_characters() -> None:
    assert pdf.escape_text("a<b>\r\nc&d\x00\x07e") == "a&lt;b&gt;<br/>c&amp;d" + "e"


def test_no_font_at_all_is_a_clear_error(no_pdf_font: None) -> None:
    with pytest.raises(PdfFontMissingError, match="No PDF font is installed"):
        pdf.render_summary_pdf(export([]), username="samordnare", generated_at=timezone.now())


# --- The meeting pack ---------------------------------------------------------------------------------------


@pytest.fixture
def full_meeting(world: World) -> Meeting:
    disclose(world.case, world.handlaggare, world.police)
    meeting = schedule(world.samordnare, [world.police])
    item = put_on_agenda(meeting, world.samordnare, world.case)
    kwargs = {"acting_user": world.samordnare.user, "membership": world.samordnare}
    do_record_minutes(
        item, minutes=f"Protokoll: {MARKUP}", decisions="Beslut: ny riskbedömning", based_on="", **kwargs
    )
    do_record_attendance(meeting, attendees=[world.samordnare, world.polis], **kwargs)
    do_add_meeting_action(
        item,
        owner_membership=world.polis,
        due_on=timezone.localdate() + datetime.timedelta(days=7),
        description="Åtgärd: kontakta åklagaren",
        **kwargs,
    )
    return meeting


def pdf_url(meeting: Meeting) -> str:
    return reverse("coordination:meeting_pdf", kwargs={"meeting_id": meeting.pk})


def download(client: Client, meeting: Meeting, reason: str = REASON):
    return client.post(pdf_url(meeting), {"reason": reason})


def test_the_samordnare_downloads_the_meeting_pack(
    world: World, full_meeting: Meeting, login_client, tmp_path
) -> None:
    response = download(login_client(world.samordnare.user), full_meeting)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    day = timezone.localtime(full_meeting.starts_at).date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="motesunderlag-{day}.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = text_of(response.content, tmp_path)
    flat = plain(text)
    assert "Sekretess enligt 26 kap. 1 § OSL" in text
    assert "Hämtad av samordnare" in text
    assert world.case.reference in text
    assert SUMMARY_TEXT in flat
    assert f"Protokoll: {MARKUP}" in flat
    assert "Beslut: ny riskbedömning" in flat
    assert "Åtgärd: kontakta åklagaren" in flat
    assert "Johan Ek (Polisen)" in flat
    for leaked in (MARKER_NAME, "Markör", MARKER_NUMBER, MARKER_NUMBER_SHOWN):
        assert leaked not in text, f"the meeting pack contains an identity field: {leaked}"


def test_the_download_is_audited_with_the_reason_code_before_the_file(
    world: World, full_meeting: Meeting, login_client
) -> None:
    download(login_client(world.samordnare.user), full_meeting, reason="skyddsplanering")
    (event,) = AuditEvent.objects.filter(action="meeting.pdf")
    assert event.actor == world.samordnare.user
    assert event.object_reference == world.case.reference
    assert event.object_agency == "soc-vuxen"
    assert event.details["meeting"] == str(full_meeting.pk)
    assert event.reason == "skyddsplanering"


def test_typed_text_never_reaches_the_trail_as_a_reason(
    world: World, full_meeting: Meeting, login_client
) -> None:
    """A reason is one of the fixed codes: whatever is typed in its place gives no file and no event."""
    typed = "Anna Andersson 19811218-9876 hotad av sin man"
    response = download(login_client(world.samordnare.user), full_meeting, reason=typed)
    assert response.status_code == 200 and "Välj ett av skälen i listan." in response.content.decode()
    assert not AuditEvent.objects.filter(action="meeting.pdf").exists()
    assert typed not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_no_reason_no_file(world: World, full_meeting: Meeting, login_client) -> None:
    client = login_client(world.samordnare.user)
    page = client.get(pdf_url(full_meeting))
    assert page.status_code == 200
    assert "Underlag inför samverkansmötet" in page.content.decode()
    response = client.post(pdf_url(full_meeting), {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Ange varför du laddar ner underlaget." in response.content.decode()
    assert not AuditEvent.objects.filter(action="meeting.pdf").exists()


def test_an_unaudited_download_gives_no_file(
    world: World, full_meeting: Meeting, login_client, monkeypatch
) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.meetings.record_event", broken)
    client = login_client(world.samordnare.user)
    client.raise_request_exception = False
    response = download(client, full_meeting)
    assert response.status_code == 500
    assert not response.content.startswith(b"%PDF")


def test_a_missing_font_gives_a_clear_message_and_no_audit_event(
    world: World, full_meeting: Meeting, login_client, no_pdf_font: None
) -> None:
    response = download(login_client(world.samordnare.user), full_meeting)
    assert response.status_code == 200
    assert "ett typsnitt saknas på servern" in response.content.decode()
    assert not AuditEvent.objects.filter(action="meeting.pdf").exists()


def test_a_samordnare_of_a_participating_agency_gets_only_the_cases_they_may_read(
    world: World, full_meeting: Meeting, login_client, tmp_path
) -> None:
    disclosure = Disclosure.objects.get(case=world.case, recipient=world.police)
    do_end_disclosure(disclosure, acting_user=world.handlaggare.user, membership=world.handlaggare)
    response = download(login_client(world.police_samordnare.user), full_meeting)
    assert response.status_code == 200
    text = text_of(response.content, tmp_path)
    assert "Ärendet är inte tillgängligt för dig." in text
    for leaked in (world.case.reference, "ZZSNAPSHOT", "Protokoll:", "kontakta åklagaren"):
        assert leaked not in text, f"the pack leaked {leaked} to an agency whose disclosure ended"
    (event,) = AuditEvent.objects.filter(action="meeting.pdf")
    assert event.object_type == "meeting"  # no case in it, but the export is logged all the same
    assert event.reason == REASON


def test_only_samordnare_of_participating_agencies_download(
    world: World, full_meeting: Meeting, login_client
) -> None:
    assert download(login_client(world.polis.user), full_meeting).status_code == 403
    assert download(login_client(world.handlaggare.user), full_meeting).status_code == 403
    assert download(login_client(world.jour.user), full_meeting).status_code == 404
    assert not AuditEvent.objects.filter(action="meeting.pdf").exists()


# --- One case's summary -------------------------------------------------------------------------------------


def summary_url(world: World) -> str:
    return reverse("coordination:case_summary_pdf", kwargs={"reference": world.case.reference})


def test_the_summary_pdf_holds_the_summary_and_no_identity(world: World, login_client, tmp_path) -> None:
    save_summary(world.case, world.handlaggare, f"{SUMMARY_TEXT}\n\n{MARKUP}")
    client = login_client(world.samordnare.user)
    page = client.get(summary_url(world))
    assert page.status_code == 200
    assert "Underlag inför samverkansmötet" in page.content.decode()
    response = client.post(summary_url(world), {"reason": REASON})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sammanfattning-{timezone.localdate().isoformat()}.pdf"'
    )
    assert world.case.reference not in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    text = text_of(response.content, tmp_path)
    flat = plain(text)
    assert "Sekretess enligt 26 kap. 1 § OSL" in text
    assert world.case.reference in text
    assert SUMMARY_TEXT in flat
    assert MARKUP in flat
    for leaked in (MARKER_NAME, "Markör", MARKER_NUMBER, MARKER_NUMBER_SHOWN):
        assert leaked not in text, f"the summary PDF contains an identity field: {leaked}"
    (event,) = AuditEvent.objects.filter(action="case.summary.pdf")
    assert event.object_reference == world.case.reference
    assert event.reason == REASON
    assert event.details == {"version": 2}


def test_the_summary_pdf_needs_a_reason(world: World, login_client) -> None:
    response = login_client(world.samordnare.user).post(summary_url(world), {"reason": ""})
    assert response.status_code == 200
    assert "Ange varför du laddar ner underlaget." in response.content.decode()
    assert not AuditEvent.objects.filter(action="case.summary.pdf").exists()


def test_the_summary_pdf_needs_the_summary_category(world: World, login_client) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.RISK])
    client = login_client(world.police_samordnare.user)
    assert client.get(summary_url(world)).status_code == 403
    assert client.post(summary_url(world), {"reason": REASON}).status_code == 403
    assert not AuditEvent.objects.filter(action="case.summary.pdf").exists()


def test_a_disclosed_to_samordnare_downloads_the_summary(world: World, login_client, tmp_path) -> None:
    disclose(world.case, world.handlaggare, world.police, categories=[InformationCategory.SUMMARY])
    response = login_client(world.police_samordnare.user).post(summary_url(world), {"reason": REASON})
    assert response.status_code == 200
    assert SUMMARY_TEXT in plain(text_of(response.content, tmp_path))
    (event,) = AuditEvent.objects.filter(action="case.summary.pdf")
    assert event.agency_code == "polisen"


def test_who_may_not_download_a_summary(world: World, login_client) -> None:
    assert login_client(world.handlaggare.user).get(summary_url(world)).status_code == 403
    assert login_client(world.polis.user).get(summary_url(world)).status_code == 404  # sees no case
    assert login_client(world.chef.user).get(summary_url(world)).status_code == 404
    assert (
        login_client(world.samordnare.user)
        .get(reverse("coordination:case_summary_pdf", kwargs={"reference": "VR-XXXX-XX"}))
        .status_code
        == 404
    )


def test_emergency_access_never_exports(world: World, login_client) -> None:
    from cases.sharing import do_request_emergency_access

    do_request_emergency_access(
        world.case,
        acting_user=world.police_samordnare.user,
        membership=world.police_samordnare,
        reason="Akut hot mot personen just nu",
    )
    response = login_client(world.police_samordnare.user).post(summary_url(world), {"reason": REASON})
    assert response.status_code == 403


def test_a_samordnare_elsewhere_exports_only_as_samordnare_of_the_agency_that_reads_the_case(
    world: World, login_client
) -> None:
    """A handläggare of the owning agency who is samordnare in another agency reads the case as a
    handläggare, so may not export it."""
    user: User = world.handlaggare.user
    Membership.objects.create(user=user, agency=world.shelter, role=Role.SAMORDNARE)
    assert login_client(user).post(summary_url(world), {"reason": REASON}).status_code == 403
    assert not AuditEvent.objects.filter(action="case.summary.pdf").exists()


def test_check_deploy_tells_the_operator_when_pdfs_fall_back_to_vera(without_dejavu: None) -> None:
    from coordination.checks import pdf_font_covers_typed_names

    (message,) = pdf_font_covers_typed_names()
    assert message.id == "coordination.I001" and "fonts-dejavu-core" in (message.hint or "")


def test_check_deploy_says_nothing_about_fonts_with_dejavu_installed(monkeypatch) -> None:
    from coordination import pdf_fonts
    from coordination.checks import pdf_font_covers_typed_names

    monkeypatch.setattr(pdf_fonts.FontSource, "is_installed", lambda source: True)
    assert pdf_font_covers_typed_names() == []
