"""Chromium, driven through Playwright, against pytest-django's live server.

Debian's Chromium is used rather than a Playwright-downloaded browser, so the tests run where
``playwright install`` cannot download anything. Without Chromium the tests are skipped locally, but
fail in CI (``CI=true``), so a broken CI image can never turn them into silent skips.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.browser.problems import BrowserProblems

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Gitignored; screenshots are kept there for a person to look at.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Reports every Content-Security-Policy violation to the test. Playwright injects init scripts outside
# the page's CSP, and they run before any of the page's own content.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline content"} on ${event.documentURI}`
  );
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for the tests of one module.

    Playwright's sync API keeps an asyncio event loop marked as running in this (the main) thread for
    as long as Playwright is started; the test code runs in a greenlet beside it. Django sees that loop
    and refuses every ORM call from the test thread (seeding demo data, flushing the database after a
    test) with SynchronousOnlyOperation. Those calls are plain synchronous calls made while the loop
    is idle, so the check is a false alarm here, and DJANGO_ALLOW_ASYNC_UNSAFE turns it off.

    The variable is set only while Playwright runs, and Playwright runs only for one module: set for
    the whole session it would leak into the rest of the suite, for example into the subprocess of
    tests/coordination/test_settings.py, where `check --deploy` rightly fails on it (async.E001).
    """
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser tests, not skip them", pytrace=False)
        pytest.skip(f"{reason}; skipping the browser tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, browser_problems: BrowserProblems) -> Iterator[Page]:
    """A page in a fresh context (no cookies, no cache) whose relative URLs go to the live server.

    The context asks for Swedish, as our users' browsers do; Playwright would otherwise send en-US
    and the application would answer in English.
    """
    context = browser.new_context(
        base_url=live_server.url, locale="sv-SE", viewport={"width": 1280, "height": 900}
    )
    new_page = context.new_page()

    def on_csp_violation(report: str) -> None:
        browser_problems.csp_violations.append(report)

    def on_console(message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error":
            browser_problems.console_errors.append(f"{message.text} (at {url})")

    def on_page_error(error: Error) -> None:
        browser_problems.page_errors.append(str(error))

    new_page.on("console", on_console)
    new_page.on("pageerror", on_page_error)
    context.expose_function("reportCspViolation", on_csp_violation)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    yield new_page
    context.close()


@pytest.fixture
def demo_data(transactional_db: None) -> None:
    """The documented demo agencies and users, created by the same command as `make run`.

    seed_demo refuses to run without DEBUG; DEBUG is turned on only around the command, so the live
    server still answers as production would (no debug pages).
    """
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
