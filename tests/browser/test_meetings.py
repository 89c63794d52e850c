"""A coordination meeting in Chromium, from scheduling to the meeting pack: the samordnare discloses a
demo case's summary to the police, calls an emergency meeting with them, is told which disclosure is
missing for a case that lacks one, puts the disclosed case on the agenda, records attendance, minutes
and an action, and downloads the PDF after giving a reason. The police caseworker then sees the frozen
summary and the minutes, but never the person's name. No CSP violations or script errors on the way;
screenshots and the PDF in test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.flows import disclose_case, log_in, switch_user
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CASE = "VR-DEMA-2K"  # seed_demo: owned by halmstad-soc-vuxen, with a summary
UNDISCLOSED_CASE = "VR-DEMC-4P"  # seed_demo: owned by halmstad-soc-vuxen, disclosed to nobody
DEMO_NAME = "Sofia Demo Karlsson"
POLICE = "Polisen, lokalpolisområde Halmstad"
SOCIAL = "Halmstads kommun, socialtjänsten vuxen"
SNAPSHOT = "Kontakt via kvinnojouren efter polisanmälan."
MEETING_PATH = re.compile(r"^https?://[^/]+/samverkan/moten/[0-9a-f-]{36}/(#.*)?$")


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    settled(page)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_a_meeting_from_scheduling_through_minutes_to_the_pdf(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    log_in(page, "samordnare")
    disclose_case(
        page,
        DEMO_CASE,
        recipient=POLICE,
        basis="OSL 10 kap. 18 c §",
        categories=["Sammanfattning och bidrag", "Skyddsinsatser"],
        justification="Polisen behöver underlag inför samverkansmötet om skyddsåtgärder.",
    )

    # Scheduling: an emergency meeting within the hour.
    page.goto("/samverkan/moten/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Samverkansmöten")
    page.get_by_role("link", name="Kalla till möte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kalla till samverkansmöte")
    soon = timezone.localtime() + datetime.timedelta(minutes=20)
    page.get_by_label("Tid:", exact=True).fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("radio", name="Akut").check()
    page.get_by_role("checkbox", name=POLICE).check()
    screenshot(page, artifacts, "meetings-schedule")
    page.get_by_role("button", name="Kalla till mötet").click()
    expect(page).to_have_url(MEETING_PATH)
    expect(page.get_by_text("Mötet är planerat")).to_be_visible()
    meeting_url = page.url

    # The agenda: a case the police have not received is refused, naming the police.
    page.get_by_label("Ärendereferens").fill(UNDISCLOSED_CASE)
    page.get_by_role("button", name="Sätt upp på dagordningen").click()
    expect(page.get_by_text(f"sammanfattningen till {POLICE}")).to_be_visible()
    expect(page.get_by_label("Ärendereferens")).to_have_value(UNDISCLOSED_CASE)
    page.get_by_label("Ärendereferens").fill(DEMO_CASE)
    page.get_by_role("button", name="Sätt upp på dagordningen").click()
    item = page.get_by_role("article", name=f"Punkt 1 – ärende {DEMO_CASE}")
    expect(item).to_contain_text(SNAPSHOT)

    # Attendance.
    page.get_by_role("link", name="Registrera närvaro").click()
    page.get_by_role("checkbox", name=f"Maria Berg (samordnare), {SOCIAL}").check()
    page.get_by_role("checkbox", name=f"Johan Ek (polis), {POLICE}").check()
    page.get_by_role("button", name="Spara närvaron").click()
    expect(page.get_by_role("region", name="Närvaro")).to_contain_text(f"Johan Ek, {POLICE}")

    # Minutes and decisions.
    page.get_by_role("link", name="Skriv protokoll och beslut för punkt 1").click()
    page.get_by_label("Protokoll:", exact=True).fill(
        "Polisen redogjorde för kontaktförbudet <b>och</b> läget."
    )
    page.get_by_label("Beslut:", exact=True).fill("Ny riskbedömning inom en vecka.")
    page.get_by_role("button", name="Spara protokollet").click()
    expect(page.get_by_text("Protokollet är sparat.")).to_be_visible()
    item = page.get_by_role("article", name=f"Punkt 1 – ärende {DEMO_CASE}")
    expect(item).to_contain_text("Polisen redogjorde för kontaktförbudet <b>och</b> läget.")
    expect(item).to_contain_text("Ny riskbedömning inom en vecka.")

    # An action for the police.
    page.get_by_role("link", name="Ny åtgärd för punkt 1").click()
    page.get_by_label("Ansvarig:", exact=True).select_option(label=f"Johan Ek (polis), {POLICE}")
    due = timezone.localdate() + datetime.timedelta(days=7)
    page.get_by_label("Klart senast:", exact=True).fill(due.isoformat())
    page.get_by_label("Åtgärd:", exact=True).fill("Gör en ny hotbedömning av den som utövar våld.")
    page.get_by_role("button", name="Spara åtgärden").click()
    expect(page.get_by_text("Åtgärden är registrerad")).to_be_visible()
    expect(page.get_by_role("article", name=f"Punkt 1 – ärende {DEMO_CASE}")).to_contain_text(
        "Gör en ny hotbedömning"
    )
    screenshot(page, artifacts, "meetings-detail")

    # The meeting pack, after a reason.
    page.get_by_role("link", name="Ladda ner mötesunderlag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ladda ner mötesunderlag")
    page.get_by_label("Underlag inför samverkansmötet").check()
    screenshot(page, artifacts, "meetings-pdf-reason")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Ladda ner PDF").click()
    download = download_info.value
    assert re.fullmatch(r"motesunderlag-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    saved = artifacts / "meetings-motesunderlag.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")

    # The police caseworker sees the frozen summary and the minutes, never the name.
    switch_user(page, "polis")
    page.goto(meeting_url)
    expect(page).to_have_url(meeting_url)
    item = page.get_by_role("article", name=f"Punkt 1 – ärende {DEMO_CASE}")
    expect(item).to_contain_text(SNAPSHOT)
    expect(item).to_contain_text("Ny riskbedömning inom en vecka.")
    expect(page.get_by_text(DEMO_NAME)).to_have_count(0)
    expect(page.get_by_role("link", name="Ladda ner mötesunderlag")).to_have_count(0)
    screenshot(page, artifacts, "meetings-police-view")

    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
