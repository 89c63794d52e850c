"""The login pages and the start page work as pages: no CSP violations or script errors, usable with
the keyboard alone, and they look right (screenshots in test-artifacts/ for a person to check)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from access import demo
from tests.browser.flows import (
    ENROL,
    LOGIN,
    SECOND_FACTOR,
    START,
    at_path,
    choose_password,
    code_for_shown_secret,
    demo_code,
    give_code,
    give_password,
    open_enrolment_link,
)
from tests.browser.problems import BrowserProblems

pytestmark = pytest.mark.browser


def settled(page: Page) -> None:
    """Wait until the page and everything it loads (stylesheet, QR image) have arrived, and two frames
    have been drawn: the browser applies autofocus only when it renders a frame."""
    page.wait_for_load_state("load")
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def test_login_second_factor_enrolment_and_start_pages_have_no_csp_violations_or_console_errors(
    page: Page, demo_data: None, browser_problems: BrowserProblems
) -> None:
    visited = []

    page.goto(LOGIN)
    settled(page)
    visited.append(page.url)

    open_enrolment_link(page)
    expect(page).to_have_url(at_path(ENROL))
    settled(page)
    visited.append(page.url)

    give_password(page, "samordnare")
    expect(page).to_have_url(at_path(SECOND_FACTOR))
    settled(page)
    visited.append(page.url)

    give_code(page, demo_code())
    expect(page).to_have_url(at_path(START))
    settled(page)
    visited.append(page.url)

    problems = browser_problems.all()
    assert problems == [], "On " + ", ".join(visited) + " the browser reported:\n" + "\n".join(problems)


def test_the_problem_collector_notices_a_csp_violation(page: Page, browser_problems: BrowserProblems) -> None:
    """Proves the check above can fail: an image from another origin breaks our img-src 'self'."""
    page.goto(LOGIN)
    settled(page)
    page.evaluate(
        """() => {
          const image = document.createElement("img");
          image.src = "https://example.invalid/tracker.png";
          document.body.append(image);
        }"""
    )
    for _ in range(50):  # the report arrives asynchronously, while Playwright waits
        if browser_problems.csp_violations:
            break
        page.wait_for_timeout(20)
    assert any("img-src" in violation for violation in browser_problems.csp_violations), (
        browser_problems.all()
    )
    assert any("Content Security Policy" in error for error in browser_problems.console_errors), (
        browser_problems.all()
    )


def test_pages_declare_an_icon_that_loads(page: Page) -> None:
    page.goto(LOGIN)
    icon = page.locator('link[rel~="icon"]')
    expect(icon).to_have_count(1, timeout=1000)
    href = icon.get_attribute("href") or ""
    response = page.request.get(href)
    assert response.ok, f"{href} answered {response.status}"


def is_focused(target: Locator) -> bool:
    return bool(target.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, target: Locator, *, limit: int = 10) -> None:
    """Press Tab until ``target`` has the focus (not at all if it has it already)."""
    for _ in range(limit):
        if is_focused(target):
            return
        page.keyboard.press("Tab")
    if not is_focused(target):
        pytest.fail(f"{limit} presses of Tab never reached {target}")


def test_the_first_tab_on_the_login_page_reaches_the_skip_link(page: Page) -> None:
    page.goto(LOGIN)
    settled(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused(timeout=1000)


def test_the_skip_link_shows_when_focused_and_leads_into_the_main_content(page: Page) -> None:
    page.goto(LOGIN)
    settled(page)
    skip_link = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip_link).not_to_be_in_viewport()  # off-screen until a keyboard user reaches it

    skip_link.focus()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#innehall")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Användarnamn")).to_be_focused()


def test_the_whole_login_and_logout_work_with_the_keyboard_alone(page: Page, demo_data: None) -> None:
    page.goto(LOGIN)
    settled(page)
    tab_to(page, page.get_by_label("Användarnamn"))
    page.keyboard.type("chef")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Lösenord")).to_be_focused()
    page.keyboard.type(demo.DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(at_path(SECOND_FACTOR))
    settled(page)
    tab_to(page, page.get_by_role("textbox", name="Engångskod"))
    page.keyboard.type(demo_code())
    page.keyboard.press("Enter")

    expect(page).to_have_url(at_path(START))
    expect(page.locator('[data-role-section="chef"]')).to_be_visible()
    settled(page)
    tab_to(page, page.get_by_role("button", name="Logga ut"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(at_path(LOGIN))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")


def test_screenshots_of_the_login_enrolment_and_start_pages(
    page: Page, demo_data: None, artifacts: Path
) -> None:
    page.goto(LOGIN)
    settled(page)
    page.screenshot(path=artifacts / "login.png", full_page=True)

    open_enrolment_link(page)
    expect(page).to_have_url(at_path(ENROL))
    settled(page)
    page.screenshot(path=artifacts / "enrolment.png", full_page=True)

    choose_password(page)
    give_code(
        page,
        code_for_shown_secret(page.locator("#hemlig-nyckel").inner_text()),
        button="Aktivera och logga in",
    )
    expect(page).to_have_url(at_path(START))
    settled(page)
    page.screenshot(path=artifacts / "start.png", full_page=True)

    for name in ("login.png", "enrolment.png", "start.png"):
        assert (artifacts / name).stat().st_size > 0
