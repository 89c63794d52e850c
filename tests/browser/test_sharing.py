"""Crossing secrecy domains in Chromium: the social services disclose a demo case to the police, who see
exactly the disclosed parts until it is revoked; a women's shelter caseworker breaks the glass, reads
without being able to change anything, and the granskare reviews it. No CSP violations or script
errors on the way, and screenshots in test-artifacts/ for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.flows import (
    START,
    at_path,
    disclose_case,
    find_for_emergency_access,
    give_emergency_reason,
    log_in,
    revoke_disclosure,
    status_of,
    switch_user,
)
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CASE = "VR-DEMA-2K"  # seed_demo: owned by halmstad-soc-vuxen, every part of the record filled in
POLICE = "Polisen, lokalpolisområde Halmstad"
DEMO_NAME = "Sofia Demo Karlsson"


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    settled(page)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def assert_no_problems(browser_problems: BrowserProblems) -> None:
    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)


def test_the_police_see_only_what_was_disclosed_and_nothing_after_revocation(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    log_in(page, "handlaggare")
    page.goto(f"/arenden/{DEMO_CASE}/utlamnanden/nytt/")
    screenshot(page, artifacts, "sharing-disclosure-form")
    disclose_case(
        page,
        DEMO_CASE,
        recipient=POLICE,
        basis="OSL 10 kap. 18 c §",
        categories=["Riskbedömningar", "Skyddsinsatser"],
        justification="Hög risk efter senaste händelsen; polisen behöver underlag för skyddsåtgärder.",
    )
    expect(page.get_by_text(f"Ärendet är utlämnat till {POLICE}.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(POLICE))).to_contain_text("Gäller")
    screenshot(page, artifacts, "sharing-owner-history")

    switch_user(page, "polis")
    page.get_by_role("link", name=DEMO_CASE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {DEMO_CASE}")
    banner = page.get_by_role("complementary")
    expect(banner).to_contain_text("Utlämnat till er myndighet – grund: OSL 10 kap. 18 c §")
    expect(banner).to_contain_text("uppgifter: Riskbedömningar, Skyddsinsatser")
    expect(page.get_by_role("region", name="Riskbedömningar")).to_contain_text("Medel → Hög")
    expect(page.get_by_role("region", name="Skyddsinsatser")).to_contain_text("Kontaktförbud")
    expect(page.get_by_role("region", name="Den våldsutsatta personen")).to_contain_text(
        "Inte utlämnat till er myndighet"
    )
    expect(page.get_by_role("region", name="Sammanfattning")).to_contain_text(
        "Inte utlämnat till er myndighet"
    )
    expect(page.get_by_text(DEMO_NAME)).to_have_count(0)
    expect(page.get_by_text("Kontakt via kvinnojouren")).to_have_count(0)
    expect(page.get_by_role("link", name="Ändra personuppgifter")).to_have_count(0)
    expect(page.get_by_role("link", name="Ny riskbedömning")).to_have_count(0)
    screenshot(page, artifacts, "sharing-police-reads")

    switch_user(page, "handlaggare")
    revoke_disclosure(page, DEMO_CASE, recipient=POLICE)
    expect(page.get_by_text("Myndigheten ser inte längre ärendet.")).to_be_visible()
    screenshot(page, artifacts, "sharing-owner-revoked")

    switch_user(page, "polis")
    expect(page.get_by_role("link", name=DEMO_CASE, exact=True)).to_have_count(0)
    assert status_of(page, f"/arenden/{DEMO_CASE}/") == 404
    assert_no_problems(browser_problems)


def test_a_shelter_caseworker_breaks_the_glass_and_the_granskare_reviews_it(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    log_in(page, "jour")
    find_for_emergency_access(page, DEMO_CASE)
    # The owning agency is named only after the reason is given.
    expect(page.get_by_role("main")).not_to_contain_text("Halmstads kommun, socialtjänsten vuxen")
    expect(page.get_by_text(DEMO_NAME)).to_have_count(0)
    screenshot(page, artifacts, "emergency-request")
    reason = "Kvinnan är hos oss nu och uppger akut hot; vi behöver veta om skyddsinsatser."
    give_emergency_reason(page, DEMO_CASE, reason=reason)
    banner = page.get_by_role("complementary")
    expect(banner).to_contain_text(re.compile(r"Nödåtkomst – endast läsning, upphör \d\d:\d\d"))
    expect(page.get_by_text("Du har nödåtkomst till ärendet till klockan")).to_be_visible()
    expect(page.get_by_role("region", name="Skyddsinsatser")).to_contain_text("Kontaktförbud")
    for link in (
        "Ändra personuppgifter",
        "Ändra sammanfattningen",
        "Ny händelse",
        "Skriv er myndighets bidrag",
    ):
        expect(page.get_by_role("link", name=link)).to_have_count(0)
    screenshot(page, artifacts, "emergency-read-only")
    assert status_of(page, f"/arenden/{DEMO_CASE}/person/") == 403
    assert status_of(page, f"/arenden/{DEMO_CASE}/utlamnanden/") == 403

    switch_user(page, "granskare")
    expect(page.get_by_text("1 nödåtkomst väntar på granskning.")).to_be_visible()
    page.get_by_role("link", name="Granska nödåtkomster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Granskning av nödåtkomster")
    expect(page.get_by_text("uppger akut hot")).to_be_visible()
    # The reference is shown, never as a link to the case: a granskare does not read cases.
    expect(page.get_by_role("link", name=DEMO_CASE, exact=True)).to_have_count(0)
    expect(page.locator(f'a[href="/arenden/{DEMO_CASE}/"]')).to_have_count(0)
    screenshot(page, artifacts, "emergency-review-queue")
    page.get_by_role("link", name=f"Granska nödåtkomsten till {DEMO_CASE}").click()
    page.get_by_label("Granskningens kommentar").fill("Skälet godtas: akut läge, kort åtkomst.")
    page.get_by_role("button", name="Markera som granskad").click()
    expect(page.get_by_text("Nödåtkomsten är granskad.")).to_be_visible()
    expect(page.get_by_text("0 nödåtkomster väntar på granskning.")).to_be_visible()
    expect(page.get_by_text("Skälet godtas: akut läge")).to_be_visible()
    screenshot(page, artifacts, "emergency-reviewed")

    page.goto(START)
    expect(page).to_have_url(at_path(START))
    expect(page.get_by_text("Inga nödåtkomster väntar på granskning.")).to_be_visible()
    assert_no_problems(browser_problems)
