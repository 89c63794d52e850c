"""A referral from sending to done in Chromium: the social services' handläggare sends a demo case to
the police, recording the disclosure in the same step; the police handläggare finds it through the
notification and the inbox, accepts it (the police contribution joins the case) and marks it done; the
sender sees the answers. No CSP violations or script errors on the way, and screenshots in
test-artifacts/ for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.flows import at_path, log_in, switch_user
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CASE = "VR-DEMA-2K"  # seed_demo: owned by halmstad-soc-vuxen, not disclosed to anyone
POLICE = "Polisen, lokalpolisområde Halmstad"
SOCIAL_SERVICES = "Halmstads kommun, socialtjänsten vuxen"
REQUEST = "Gör en hotbedömning av den före detta partnern inför hemgången på fredag."
REFERRAL_PAGE = re.compile(r"^https?://[^/]+/samverkan/forfragningar/[0-9a-f-]{36}/$")
INBOX = reverse("coordination:referral_inbox")
SENT = reverse("coordination:referral_sent")
NOTIFICATIONS = reverse("coordination:notifications")


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    settled(page)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_a_referral_from_sending_to_done(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    # The social services send the case to the police, disclosing it in the same step.
    log_in(page, "handlaggare")
    page.goto(reverse("coordination:referral_send", args=[DEMO_CASE]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Skicka förfrågan om samverkan")
    page.get_by_label("Mottagande myndighet").select_option(label=POLICE)
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Förfrågan om samverkan till {POLICE}")
    page.get_by_label("Vad ni ber myndigheten om").fill(REQUEST)
    page.get_by_role("radio", name="OSL 10 kap. 18 c §").check()
    page.get_by_role("checkbox", name="Riskbedömningar", exact=True).check()
    page.get_by_role("checkbox", name="Sammanfattning och bidrag", exact=True).check()
    page.get_by_label("Motivering").fill("Hög risk efter senaste händelsen; polisen behöver underlag.")
    screenshot(page, artifacts, "referral-send-with-disclosure")
    page.get_by_role("button", name="Lämna ut och skicka förfrågan").click()
    expect(page).to_have_url(REFERRAL_PAGE)
    referral_path = page.url.split("://", 1)[1].split("/", 1)[1]
    expect(page.get_by_text(f"Ärendet är utlämnat till {POLICE} och förfrågan är skickad.")).to_be_visible()
    expect(page.get_by_role("region", name="Vad myndigheten ombeds göra")).to_contain_text(REQUEST)
    expect(page.get_by_role("button", name="Återkalla förfrågan")).to_be_visible()
    expect(page.get_by_role("button", name="Acceptera förfrågan")).to_have_count(0)
    screenshot(page, artifacts, "referral-sent")

    # The police handläggare is told, finds it in the inbox and accepts it.
    switch_user(page, "polis")
    page.goto(NOTIFICATIONS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Aviseringar")
    expect(page.get_by_text("1 oläst avisering.")).to_be_visible()
    expect(page.get_by_text(DEMO_CASE)).to_have_count(0)  # the notification names no case
    screenshot(page, artifacts, "referral-notification")
    page.goto(INBOX)
    row = page.get_by_role("row", name=re.compile(DEMO_CASE))
    expect(row).to_contain_text(SOCIAL_SERVICES)
    expect(row).to_contain_text("Skickad")
    screenshot(page, artifacts, "referral-inbox")
    page.goto(NOTIFICATIONS)
    page.get_by_role("link", name="Ny förfrågan om samverkan").click()
    expect(page).to_have_url(at_path(f"/{referral_path}"))
    expect(page.get_by_role("region", name="Vad myndigheten ombeds göra")).to_contain_text(REQUEST)
    expect(page.get_by_role("button", name="Återkalla förfrågan")).to_have_count(0)
    page.get_by_role("button", name="Acceptera förfrågan").click()
    expect(
        page.get_by_text("Förfrågan är accepterad. Er myndighets bidrag finns nu i ärendet.")
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Accepterad"))).to_be_visible()

    # The police contribution is in the case now, and the police write on in it.
    page.get_by_role("link", name=DEMO_CASE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {DEMO_CASE}")
    contributions = page.get_by_role("region", name="Myndigheternas bidrag")
    expect(contributions).to_contain_text("Förfrågan om samverkan accepterad.")
    expect(contributions.get_by_role("link", name="Ändra er myndighets bidrag")).to_be_visible()

    # Done, and nothing left to do.
    page.goto(f"/{referral_path}")
    page.get_by_role("button", name="Markera som klar").click()
    expect(page.get_by_text("Förfrågan är markerad som klar.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^Klar"))).to_be_visible()
    expect(page.get_by_role("heading", name="Hantera förfrågan")).to_have_count(0)
    screenshot(page, artifacts, "referral-done")

    # The sender sees both answers.
    switch_user(page, "handlaggare")
    page.goto(NOTIFICATIONS)
    expect(page.get_by_role("link", name="Svar på förfrågan om samverkan")).to_have_count(2)
    page.get_by_role("button", name="Markera alla som lästa").click()
    expect(page.get_by_text("0 olästa aviseringar.")).to_be_visible()
    page.goto(SENT)
    expect(page.get_by_role("row", name=re.compile(DEMO_CASE))).to_contain_text("Klar")

    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
