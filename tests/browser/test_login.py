"""Logging in, enrolling an authenticator, being refused and logging out, in a real browser."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from access import demo
from access.models import Role
from tests.browser.flows import (
    ENROL,
    LOGIN,
    SECOND_FACTOR,
    START,
    at_path,
    choose_password,
    code_for_shown_secret,
    give_code,
    give_password,
    log_in,
    open_enrolment_link,
    wrong_code,
)

pytestmark = pytest.mark.browser

ENROLLED_USERS = [user for user in demo.USERS if user.enrolled]
# Which start-page sections (data-role-section) each role brings; a samordnare also does casework.
SECTIONS_FOR_ROLE = {
    Role.HANDLAGGARE: {"handlaggare"},
    Role.SAMORDNARE: {"handlaggare", "samordnare"},
    Role.CHEF: {"chef"},
    Role.GRANSKARE: {"granskare"},
    Role.SYSTEMADMINISTRATOR: {"systemadministrator"},
}


def expected_sections(user: demo.DemoUser) -> set[str]:
    return {section for _agency, role in user.memberships for section in SECTIONS_FOR_ROLE[Role(role)]}


def shown_sections(page: Page) -> set[str]:
    sections = page.locator("[data-role-section]")
    return {section.get_attribute("data-role-section") or "" for section in sections.all()}


def test_every_role_has_an_enrolled_demo_user() -> None:
    """Otherwise the parametrised login test below would silently leave a role untested."""
    roles = {role for user in ENROLLED_USERS for _agency, role in user.memberships}
    assert roles == set(Role)


@pytest.mark.parametrize("user", ENROLLED_USERS, ids=[user.username for user in ENROLLED_USERS])
def test_a_demo_user_logs_in_with_password_and_totp_sees_their_role_and_logs_out(
    page: Page, demo_data: None, user: demo.DemoUser
) -> None:
    log_in(page, user.username)

    expect(page.locator(".site-user__name")).to_have_text(f"{user.first_name} {user.last_name}")
    assert shown_sections(page) == expected_sections(user)
    for section in expected_sections(user):
        expect(page.locator(f'[data-role-section="{section}"]')).to_be_visible()

    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(at_path(LOGIN))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)

    page.goto(START)
    expect(page).to_have_url(at_path(LOGIN))
    assert page.url.endswith(f"{LOGIN}?next={START}")


def test_a_new_user_enrols_an_authenticator_from_the_shown_secret_and_is_logged_in(
    page: Page, demo_data: None
) -> None:
    open_enrolment_link(page)
    expect(page).to_have_url(at_path(ENROL))
    page.wait_for_load_state("load")

    qr = page.get_by_role("img", name="QR-kod")
    expect(qr).to_be_visible()
    natural_width = qr.evaluate("image => image.complete ? image.naturalWidth : 0")
    assert natural_width > 0, "the QR code image did not load"

    secret = page.locator("#hemlig-nyckel").inner_text()
    assert all(len(group) == 4 for group in secret.split(" ")[:-1]), f"not grouped in fours: {secret!r}"
    choose_password(page)
    give_code(page, code_for_shown_secret(secret), button="Aktivera och logga in")

    expect(page).to_have_url(at_path(START))
    expect(page.get_by_role("heading", level=1)).to_have_text("Startsida")
    expect(page.get_by_role("status")).to_contain_text("Tvåfaktorsinloggning är aktiverad för ditt konto.")
    expect(page.locator('[data-role-section="handlaggare"]')).to_be_visible()
    assert TOTPDevice.objects.filter(user__username="ny", confirmed=True).count() == 1


def test_a_wrong_totp_code_is_refused_in_swedish_and_does_not_log_in(page: Page, demo_data: None) -> None:
    give_password(page, "handlaggare")
    expect(page).to_have_url(at_path(SECOND_FACTOR))

    give_code(page, wrong_code(demo.DEMO_TOTP_KEY_HEX))

    expect(page).to_have_url(at_path(SECOND_FACTOR))
    expect(page.get_by_text("Koden stämmer inte")).to_be_visible()
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    page.goto(START)
    expect(page).to_have_url(at_path(LOGIN))


def test_five_wrong_passwords_lock_the_account_and_then_the_right_password_is_refused(
    page: Page, demo_data: None
) -> None:
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        give_password(page, "handlaggare", "alldeles-fel-losenord")
        expect(page.get_by_text("Fel användarnamn eller lösenord")).to_be_visible()
        expect(page.get_by_role("heading", level=1), f"attempt {attempt}").to_have_text("Logga in")

    with page.expect_response(lambda response: response.request.method == "POST") as last_failure:
        give_password(page, "handlaggare", "alldeles-fel-losenord")
    assert last_failure.value.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontot är tillfälligt spärrat")
    expect(page.get_by_role("alert")).to_contain_text("För många misslyckade inloggningsförsök")

    page.get_by_role("link", name="Till inloggningen").click()
    expect(page).to_have_url(at_path(LOGIN))
    with page.expect_response(lambda response: response.request.method == "POST") as right_password:
        give_password(page, "handlaggare")
    assert right_password.value.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontot är tillfälligt spärrat")
    page.goto(SECOND_FACTOR)
    expect(page).to_have_url(at_path(LOGIN))
