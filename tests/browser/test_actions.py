"""The action plan in Chromium: a handläggare opens a demo case's coordination page from the case page,
adds an action for themself, finds it on the start page as theirs, and closes it. No CSP violations or
script errors on the way, and screenshots in test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from tests.browser.flows import START, at_path, log_in
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_CASE = "VR-DEMA-2K"  # seed_demo: owned by halmstad-soc-vuxen, where "handlaggare" works
COORDINATION = f"/arenden/{DEMO_CASE}/samverkan/"
DESCRIPTION = "Boka tid hos familjerätten och följ med till första samtalet."


def screenshot(page: Page, artifacts: Path, name: str) -> None:
    settled(page)
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def my_actions_for_the_case(page: Page) -> Locator:
    return page.get_by_role("region", name="Mina åtgärder").get_by_role("link", name=DEMO_CASE, exact=True)


def test_a_handlaggare_adds_an_action_sees_it_on_the_start_page_and_closes_it(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    log_in(page, "handlaggare")
    before = my_actions_for_the_case(page).count()

    page.goto(f"/arenden/{DEMO_CASE}/")
    page.get_by_role("link", name="Samverkan och åtgärdsplan").click()
    expect(page).to_have_url(at_path(COORDINATION))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Samverkan i ärende {DEMO_CASE}")

    due_on = timezone.localdate() + datetime.timedelta(days=5)
    page.get_by_label("Åtgärd:", exact=True).fill(DESCRIPTION)
    page.get_by_label("Ansvarig:", exact=True).select_option(label="Anna Lindqvist")
    page.get_by_label("Klart senast:", exact=True).fill(due_on.isoformat())
    screenshot(page, artifacts, "actions-add-form")
    page.get_by_role("button", name="Lägg till åtgärden").click()

    expect(page).to_have_url(at_path(COORDINATION))
    expect(page.get_by_role("status")).to_contain_text("Åtgärden är tillagd i åtgärdsplanen.")
    row = page.get_by_role("row").filter(has_text=DESCRIPTION)
    expect(row).to_contain_text("Anna Lindqvist")
    expect(row).to_contain_text(due_on.isoformat())
    expect(row).to_contain_text("Pågår")
    screenshot(page, artifacts, "actions-plan")

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Startsida").click()
    expect(page).to_have_url(at_path(START))
    mine = page.get_by_role("region", name="Mina åtgärder")
    expect(my_actions_for_the_case(page)).to_have_count(before + 1)
    expect(mine).to_contain_text(due_on.isoformat())
    # The start page shows references and dates, never what the action is about.
    expect(page.get_by_text(DESCRIPTION)).to_have_count(0)
    screenshot(page, artifacts, "actions-start-page")

    my_actions_for_the_case(page).first.click()
    expect(page).to_have_url(at_path(COORDINATION))
    page.get_by_role("row").filter(has_text=DESCRIPTION).get_by_role(
        "button", name="Markera som klar"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("Åtgärden är markerad som klar.")
    closed = (
        page.get_by_role("table", name="Avslutade åtgärder").get_by_role("row").filter(has_text=DESCRIPTION)
    )
    expect(closed).to_contain_text("Klar")
    expect(closed.get_by_role("button")).to_have_count(0)
    screenshot(page, artifacts, "actions-closed")

    page.goto(START)
    expect(my_actions_for_the_case(page)).to_have_count(before)

    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
