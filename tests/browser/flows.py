"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import base64
import binascii
import re

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from access import demo
from tests.factories import code_for_key

LOGIN = reverse("access:login")
SECOND_FACTOR = reverse("access:second_factor")
ENROL = reverse("access:enrol")
START = reverse("start")


def at_path(path: str) -> re.Pattern[str]:
    """Matches a page URL whose path is exactly ``path``, whatever the host and query string."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?[^#]*)?(#.*)?$")


def give_password(page: Page, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    page.goto(LOGIN)
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Fortsätt").click()


def give_code(page: Page, code: str, *, button: str = "Logga in") -> None:
    page.get_by_role("textbox", name="Engångskod").fill(code)
    page.get_by_role("button", name=button).click()


def demo_code(*, offset_steps: int = 0) -> str:
    """The code every enrolled demo user's authenticator app shows now."""
    return code_for_key(demo.DEMO_TOTP_KEY_HEX, offset_steps=offset_steps)


def log_in(page: Page, username: str) -> None:
    """Both factors for an enrolled demo user, ending on the start page."""
    give_password(page, username)
    expect(page).to_have_url(at_path(SECOND_FACTOR))
    give_code(page, demo_code())
    expect(page).to_have_url(at_path(START))
    expect(page.get_by_role("heading", level=1)).to_have_text("Startsida")


NEW_PASSWORD = "Lina-valde-ett-eget-losen-9"


def open_enrolment_link(page: Page) -> None:
    """The demo's not-yet-enrolled user opens the link from her e-mail (published for the demo)."""
    page.goto(reverse("access:enrolment_link", args=[demo.DEMO_ENROLMENT_TOKEN]))


def choose_password(page: Page, password: str = NEW_PASSWORD) -> None:
    page.get_by_label("Välj lösenord").fill(password)
    page.get_by_label("Upprepa lösenordet").fill(password)


def code_for_shown_secret(grouped_base32: str) -> str:
    """What an authenticator app shows after the user types in the secret from the enrolment page."""
    secret = grouped_base32.replace(" ", "").upper()
    secret += "=" * (-len(secret) % 8)
    key_hex = binascii.hexlify(base64.b32decode(secret)).decode("ascii")
    return code_for_key(key_hex)


def wrong_code(key_hex: str) -> str:
    """A six-digit code that no drift the device tolerates would accept right now."""
    accepted = {code_for_key(key_hex, offset_steps=steps) for steps in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in accepted)


CASES = reverse("cases:list")
CASE_PATH = re.compile(r"^https?://[^/]+/arenden/(VR-[0-9A-Z]{4}-[0-9A-Z]{2})/$")


def open_new_case(page: Page, *, name: str, number: str) -> str:
    """Open a case through the form, from the main menu, and return its reference."""
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    expect(page).to_have_url(at_path(CASES))
    page.get_by_role("link", name="Nytt ärende").click()
    page.get_by_label("Namn:", exact=True).fill(name)
    page.get_by_label("Nummer:", exact=True).fill(number)
    page.get_by_label("Juridiskt kön:", exact=True).select_option("kvinna")
    page.get_by_label("Våld i nära relation – partner eller före detta partner").check()
    page.get_by_label("Fysiskt våld").check()
    page.get_by_label("Psykiskt våld").check()
    page.get_by_label("Före detta partner", exact=True).check()
    page.get_by_role("button", name="Öppna ärendet").click()
    expect(page).to_have_url(CASE_PATH)
    match = CASE_PATH.match(page.url)
    assert match is not None
    return match.group(1)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(at_path(LOGIN))


def forget_used_codes(username: str) -> None:
    """As if the authenticator app had moved on to a new code: django-otp refuses a code that was
    already used, and a test logs the same demo user in twice within one 30-second step."""
    TOTPDevice.objects.filter(user__username=username).update(last_t=-1)


def switch_user(page: Page, username: str) -> None:
    """Log out whoever is logged in and log in as ``username``."""
    log_out(page)
    forget_used_codes(username)
    log_in(page, username)


def status_of(page: Page, path: str) -> int:
    """The status the server answers ``path`` with, in the page's session, without navigating there
    (an error page would count as a console error)."""
    return page.request.get(path).status


def disclose_case(
    page: Page, reference: str, *, recipient: str, basis: str, categories: list[str], justification: str
) -> None:
    """From the case page, through the disclosure form, ending on the case's disclosure history."""
    page.goto(f"/arenden/{reference}/")
    page.get_by_role("link", name="Lämna ut ärendet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lämna ut ärendet")
    page.get_by_label("Mottagare:", exact=True).select_option(label=recipient)
    page.get_by_role("radio", name=basis).check()
    for category in categories:
        page.get_by_role("checkbox", name=category, exact=True).check()
    page.get_by_label("Motivering").fill(justification)
    page.get_by_role("button", name="Lämna ut", exact=True).click()
    expect(page).to_have_url(at_path(f"/arenden/{reference}/utlamnanden/"))


def revoke_disclosure(page: Page, reference: str, *, recipient: str) -> None:
    """From the disclosure history, through the confirmation, ending back on the history."""
    page.goto(f"/arenden/{reference}/utlamnanden/")
    page.get_by_role("link", name=f"Avsluta utlämnandet till {recipient}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Avsluta utlämnandet till {recipient}?")
    page.get_by_role("radio", name="Vi återkallar utlämnandet").check()
    page.get_by_role("button", name="Avsluta utlämnandet").click()
    expect(page).to_have_url(at_path(f"/arenden/{reference}/utlamnanden/"))


def find_for_emergency_access(page: Page, reference: str) -> None:
    """From the case list, by exact reference, ending on the page that asks for the reason."""
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Ärenden").click()
    page.get_by_role("link", name="Nödåtkomst").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nödåtkomst")
    page.get_by_label("Ärendereferens").fill(reference)
    page.get_by_role("button", name="Sök ärende för nödåtkomst").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Begär nödåtkomst")


def give_emergency_reason(page: Page, reference: str, *, reason: str) -> None:
    """On the page that asks for the reason, ending on the case page."""
    page.get_by_label("Skäl till nödåtkomsten").fill(reason)
    page.get_by_role("button", name="Begär nödåtkomst").click()
    expect(page).to_have_url(at_path(f"/arenden/{reference}/"))


def request_emergency_access(page: Page, reference: str, *, reason: str) -> None:
    find_for_emergency_access(page, reference)
    give_emergency_reason(page, reference, reason=reason)
