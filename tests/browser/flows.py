"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import base64
import binascii
import re

from django.urls import reverse
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
