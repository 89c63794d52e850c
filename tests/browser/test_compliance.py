"""A granskare's review in Chromium: from the main menu to the search, a case's access history and a
CSV export, with no CSP violations or script errors, and no personnummer ever sent in a URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.flows import at_path, log_in, switch_user
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CASE = "VR-DEMA-2K"
NUMBER = "19811218-9876"


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    settled(page)
    page.screenshot(path=str(artifacts / f"compliance-{name}.png"), full_page=True)


def test_a_granskare_searches_the_trail_opens_a_case_history_and_exports_a_csv(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    requested: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    page.on("request", remember)

    # A caseworker reads the case, so the trail has a read to find.
    log_in(page, "handlaggare")
    page.goto(f"/arenden/{DEMO_CASE}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {DEMO_CASE}")
    switch_user(page, "granskare")

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Granskning").click()
    expect(page).to_have_url(at_path("/granskning/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Granskning")
    expect(page.get_by_role("link", name="Granska nödåtkomster")).to_be_visible()
    screenshot(page, artifacts, "start")

    page.get_by_role("link", name="Till sökningen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sök i granskningsloggen")

    # The browser itself refuses to send a number typed as a reference.
    page.get_by_label("Ärendereferens").fill(NUMBER)
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page).to_have_url(at_path("/granskning/handelser/"))
    assert page.get_by_label("Ärendereferens").evaluate("field => !field.validity.valid")
    page.get_by_label("Ärendereferens").fill("")
    # So does it a number typed as a username; a username with digits in it is sent.
    page.get_by_label("Användare").fill(NUMBER)
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page).to_have_url(at_path("/granskning/handelser/"))
    assert page.get_by_label("Användare").evaluate("field => !field.validity.valid")
    page.get_by_label("Användare").fill("anna.198112")
    assert page.get_by_label("Användare").evaluate("field => field.validity.valid")
    page.get_by_label("Användare").fill("")

    page.get_by_label("Ärendereferens").fill(DEMO_CASE.lower())
    page.get_by_label("Händelse:", exact=True).select_option("case.read")
    page.get_by_role("button", name="Sök", exact=True).click()
    results = page.get_by_role("table", name="Händelser i granskningsloggen, nyaste först")
    expect(results).to_be_visible()
    expect(results.get_by_role("link", name="handlaggare").first).to_be_visible()
    expect(results).to_contain_text("Ärende läst")
    expect(results).to_contain_text("Ägande myndighet")
    screenshot(page, artifacts, "search")

    results.get_by_role("link", name=DEMO_CASE).first.click()
    expect(page).to_have_url(at_path(f"/granskning/arende/{DEMO_CASE}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Åtkomsthistorik för {DEMO_CASE}")
    summary = page.get_by_role("table", name=f"Läsningar av {DEMO_CASE} per användare, myndighet och grund")
    expect(summary.get_by_role("row", name="handlaggare")).to_contain_text("Ägande myndighet")
    # A granskare never reads the case itself: no link to it.
    expect(page.locator(f'a[href="/arenden/{DEMO_CASE}/"]')).to_have_count(0)
    screenshot(page, artifacts, "case-history")

    page.go_back()
    page.get_by_label("Skäl till exporten").select_option(label="Egenkontroll och regelbunden granskning")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Exportera som CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("granskningslogg-")
    assert download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.startswith("Tid;Användare;Myndighet;Roll;")
    assert f";{DEMO_CASE};" in text
    assert ";handlaggare;" in text

    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
    leaked = [url for url in requested if NUMBER in url or NUMBER.replace("-", "") in url]
    assert leaked == [], f"a personnummer reached a URL: {leaked}"
