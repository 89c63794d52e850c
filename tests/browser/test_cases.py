"""A handläggare's day with a case, in Chromium: open it, find it in the list, open it again and write
the summary, with no CSP violations or script errors and no personnummer in any URL on the way."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect

from access.models import Membership
from cases.actions import do_add_incident, do_add_risk_assessment
from cases.choices import ProtectedIdentity
from cases.models import RiskAssessment
from cases.records import Classification
from tests.browser.flows import CASES, at_path, log_in, open_new_case
from tests.browser.problems import BrowserProblems
from tests.browser.test_pages import settled
from tests.factories import open_case

# Transactional, with the key store too (tests/conftest.py adds it to the marker): the live server
# opens cases in its own thread, and a case's data key lives in the "keys" database.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Lova Exempelsdotter"
NUMBER_SPELLINGS = ("19811218-9876", "198112189876", "8112189876", "19811218")


def test_a_caseworker_opens_a_case_finds_it_and_writes_the_summary(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    requested: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    page.on("request", remember)
    log_in(page, "handlaggare")

    reference = open_new_case(page, name=NAME, number="19811218-9876")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {reference}")
    expect(page.get_by_text(f"Ärendet {reference} är öppnat.")).to_be_visible()
    expect(page.get_by_text(NAME)).to_be_visible()

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    expect(page).to_have_url(at_path(CASES))
    expect(page.get_by_text(NAME)).to_have_count(0)
    # A number typed into the reference box by mistake: refused, not shown back, in no URL.
    page.get_by_role("textbox", name="Ärendereferens").fill("19811218-9876")
    page.get_by_role("button", name="Sök ärende", exact=True).click()
    expect(page.get_by_text("Det ser ut som ett personnummer.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Ärendereferens")).to_have_value("")
    # The reference, in lower case, opens the case.
    page.get_by_role("textbox", name="Ärendereferens").fill(reference.lower())
    page.get_by_role("button", name="Sök ärende", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {reference}")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {reference}")

    page.get_by_role("link", name="Ändra sammanfattningen").click()
    page.get_by_label("Sammanfattning").fill(
        "Kvinnan har sökt stöd efter upprepat våld från tidigare partner.\n\n"
        "Kontaktförbud är sökt; säkerhetsplan upprättad med kvinnojouren."
    )
    page.get_by_role("button", name="Spara ny version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {reference}")
    summary = page.get_by_role("region", name="Sammanfattning")
    expect(summary.get_by_text("Kontaktförbud är sökt")).to_be_visible()
    expect(summary.get_by_text("Skrivet av Halmstads kommun, socialtjänsten vuxen")).to_have_count(2)

    settled(page)
    page.screenshot(path=str(artifacts / "case-detail.png"), full_page=True)

    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
    leaked = [url for url in requested if any(spelling in url for spelling in NUMBER_SPELLINGS)]
    assert leaked == [], f"a personnummer reached a URL: {leaked}"


def test_a_protected_case_shows_its_banner_risk_trend_and_repeat_victimisation(
    page: Page, demo_data: None, browser_problems: BrowserProblems, artifacts: Path
) -> None:
    membership = Membership.objects.get(user__username="handlaggare")
    case = open_case(
        membership,
        name="Skyddad Exempelsdotter",
        protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION,
        classification=Classification(
            contexts=["hrv"],
            forms=["psykiskt", "digitalt"],
            honour_subtypes=["tvangsaktenskap"],
            relations=["flera"],
        ),
    )
    for day, level, override in (
        ("2025-01-10", "lag", ""),
        ("2025-04-02", "medel", "hog"),
        ("2025-09-01", "medel", ""),
    ):
        do_add_risk_assessment(
            case,
            acting_user=membership.user,
            membership=membership,
            assessment=RiskAssessment.new(
                instrument="patriark",
                assessed_on=datetime.date.fromisoformat(day),
                level=level,
                override_level=override,
            ),
            override_reason="Familjen har bokat resa" if override else "",
        )
    for day in ("2025-03-01", "2025-08-15"):
        do_add_incident(
            case,
            acting_user=membership.user,
            membership=membership,
            occurred_on=datetime.date.fromisoformat(day),
            forms=["psykiskt"],
        )

    log_in(page, "handlaggare")
    page.goto(f"/arenden/{case.reference}/")
    expect(page.get_by_role("note")).to_contain_text("Skyddade personuppgifter: Skyddad folkbokföring")
    expect(page.get_by_text("Låg → Hög → Medel")).to_be_visible()
    expect(page.get_by_text("Upprepad utsatthet (inom 12 månader)")).to_have_count(1)
    expect(page.get_by_text("Lagras inte: skyddade personuppgifter")).to_be_visible()

    settled(page)
    page.screenshot(path=str(artifacts / "case-detail-protected.png"), full_page=True)
    problems = browser_problems.all()
    assert problems == [], "The browser reported:\n" + "\n".join(problems)
