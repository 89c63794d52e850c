"""A nulägesbild in Chromium: the demo chef generates this year's draft, reviews its charts and tables,
releases it and downloads the PDF, the CSV and the HTML. No CSP violations or script errors on the way;
screenshots and the files in test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from coordination.nulagesbild import release as release_module
from tests.browser.flows import at_path, log_in
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def the_period_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """Release day is after this year's end (only a period that is over can be released); a test of
    the refusal sets the day back itself."""
    year = timezone.localdate().year
    monkeypatch.setattr(release_module, "_today", lambda: datetime.date(year + 1, 1, 2))


RELEASE_PATH = re.compile(r"^https?://[^/]+/nulagesbild/[0-9a-f-]{36}/$")
DRAFT_PATH = re.compile(r"^https?://[^/]+/nulagesbild/utkast/[0-9a-f-]{36}/$")


def test_a_chef_generates_reviews_releases_and_downloads_a_nulagesbild(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    year = str(timezone.localdate().year)
    log_in(page, "chef")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Nulägesbild").click()
    expect(page).to_have_url(at_path("/nulagesbild/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nulägesbild")
    expect(page.get_by_text("Ingen nulägesbild är publicerad än.")).to_be_visible()

    page.get_by_label("År:").select_option(year)
    page.get_by_role("radio", name="Hela året").check()
    page.get_by_role("button", name="Ta fram utkast").click()
    expect(page).to_have_url(DRAFT_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Utkast: nulägesbild {year}")
    # Every chart is an image with a text alternative, next to its table.
    charts = page.get_by_role("img")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 10
    overview = page.get_by_role("table", name="Ärenden i perioden")
    expect(overview.get_by_role("rowheader", name="Nya ärenden")).to_be_visible()
    expect(page.get_by_role("heading", name="Om statistiken")).to_be_visible()
    settled(page)
    page.screenshot(path=str(artifacts / "nulagesbild-draft.png"), full_page=True)

    page.get_by_role("button", name="Publicera nulägesbilden").click()
    expect(page).to_have_url(RELEASE_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Nulägesbild {year}")
    expect(page.get_by_role("status")).to_contain_text("Nulägesbilden är publicerad.")
    settled(page)
    page.screenshot(path=str(artifacts / "nulagesbild-release.png"), full_page=True)

    downloads = {}
    for link, suffix in (("PDF", "pdf"), ("CSV (semikolonseparerad, UTF-8)", "csv"), ("HTML", "html")):
        with page.expect_download() as download_info:
            page.get_by_role("link", name=link, exact=True).click()
        download = download_info.value
        assert download.suggested_filename == f"nulagesbild-{year}.{suffix}"
        saved = artifacts / download.suggested_filename
        download.save_as(str(saved))
        downloads[suffix] = saved.read_bytes()
    assert downloads["pdf"].startswith(b"%PDF")
    assert downloads["csv"].startswith("\ufeff".encode())
    assert b'<html lang="sv">' in downloads["html"]

    page.get_by_role("navigation", name="Brödsmulor").get_by_role("link", name="Nulägesbild").click()
    expect(page).to_have_url(at_path("/nulagesbild/"))
    releases = page.get_by_role("table", name="Publicerade nulägesbilder, senaste först")
    expect(releases.get_by_role("link", name=f"Visa nulägesbilden för {year}")).to_be_visible()
    assert browser_problems.all() == []
