"""Logging in takes a password and a TOTP code; neither alone gives a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import User
from access.views import PENDING_SINCE
from tests.factories import PASSWORD, UserFactory, code_for_key, current_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("access:login")
SECOND_FACTOR = reverse("access:second_factor")
ENROL = reverse("access:enrol")
START = reverse("start")


def give_password(client: Client, user: User, password: str = PASSWORD) -> object:
    return client.post(LOGIN, {"username": user.username, "password": password})


def test_the_login_page_is_swedish_and_never_cached() -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert "Logga in" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_a_correct_password_leads_to_the_second_factor_not_to_a_session(handlaggare: User) -> None:
    client = Client()
    response = give_password(client, handlaggare)
    assert response.status_code == 302
    assert response["Location"] == SECOND_FACTOR
    # Not logged in yet: the start page still sends the user to the login page.
    assert "_auth_user_id" not in client.session
    assert client.get(START)["Location"].startswith(LOGIN)


def test_password_and_current_code_log_the_user_in(handlaggare: User) -> None:
    client = Client()
    give_password(client, handlaggare)
    response = client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})
    assert response.status_code == 302
    assert response["Location"] == START
    page = client.get(START)
    assert page.status_code == 200
    assert page.context["user"] == handlaggare


def test_the_session_key_changes_when_the_password_is_accepted(handlaggare: User) -> None:
    client = Client()
    client.get(LOGIN)
    client.session.save()
    before = client.session.session_key
    give_password(client, handlaggare)
    assert client.session.session_key != before


def test_a_wrong_code_is_refused_with_a_swedish_message(handlaggare: User) -> None:
    client = Client()
    give_password(client, handlaggare)
    response = client.post(SECOND_FACTOR, {"token": "000000"})
    assert response.status_code == 200
    assert "Koden stämmer inte" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_cannot_be_used_twice(handlaggare: User) -> None:
    code = current_code(handlaggare)
    first = Client()
    give_password(first, handlaggare)
    assert first.post(SECOND_FACTOR, {"token": code})["Location"] == START
    second = Client()
    give_password(second, handlaggare)
    response = second.post(SECOND_FACTOR, {"token": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in second.session


def test_non_digit_codes_get_a_clear_error(handlaggare: User) -> None:
    client = Client()
    give_password(client, handlaggare)
    response = client.post(SECOND_FACTOR, {"token": "12ab56"})
    assert "Koden ska bara innehålla siffror." in response.content.decode()


def test_a_wrong_password_gives_one_message_for_unknown_and_known_users(handlaggare: User) -> None:
    wrong = give_password(Client(), handlaggare, "fel-losenord")
    unknown = Client().post(LOGIN, {"username": "finns-inte", "password": "fel-losenord"})
    assert "Fel användarnamn eller lösenord" in wrong.content.decode()
    assert "Fel användarnamn eller lösenord" in unknown.content.decode()


def test_the_second_factor_page_without_a_password_goes_back_to_login() -> None:
    response = Client().get(SECOND_FACTOR)
    assert response.status_code == 302
    assert response["Location"] == reverse("access:login")


def test_a_password_step_older_than_the_window_must_be_repeated(handlaggare: User, settings) -> None:
    client = Client()
    give_password(client, handlaggare)
    session = client.session
    stale = timezone.now() - settings.SECOND_FACTOR_WINDOW - timedelta(seconds=1)
    session[PENDING_SINCE] = stale.isoformat()
    session.save()
    response = client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_cannot_log_in(handlaggare: User) -> None:
    handlaggare.is_active = False
    handlaggare.save(update_fields=["is_active"])
    response = give_password(Client(), handlaggare)
    assert response.status_code == 200
    assert "_auth_user_id" not in Client().session


def test_next_is_followed_only_inside_the_site(handlaggare: User) -> None:
    client = Client()
    client.post(
        LOGIN + "?next=https://evil.example/", {"username": handlaggare.username, "password": PASSWORD}
    )
    response = client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})
    assert response["Location"] == START

    other = Client()
    other.post(LOGIN + "?next=/admin/", {"username": handlaggare.username, "password": PASSWORD})
    response = other.post(SECOND_FACTOR, {"token": code_for_key(_device(handlaggare).key, offset_steps=1)})
    assert response["Location"] == "/admin/"


def _device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=True)


def test_a_password_alone_never_enrols_an_authenticator() -> None:
    # Trust on first use would let a stolen password bind the thief's phone: without a confirmed device
    # the password step refuses; the enrolment pages need a link (tests/access/test_enrolment.py).
    user = UserFactory(totp=False)
    client = Client()
    response = give_password(client, user)
    assert response.status_code == 200
    assert "aktiveringslänken" in response.content.decode()
    assert client.get(ENROL)["Location"].startswith(LOGIN)
    assert client.get(reverse("access:enrol_qr")).status_code == 404
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_user_with_a_device_can_never_enrol_another(handlaggare: User) -> None:
    client = Client()
    give_password(client, handlaggare)
    assert client.get(ENROL)["Location"].startswith(LOGIN)
    assert client.get(reverse("access:enrol_qr")).status_code == 404
    assert TOTPDevice.objects.filter(user=handlaggare).count() == 1


def test_the_qr_code_needs_an_enrolment_link_first() -> None:
    assert Client().get(reverse("access:enrol_qr")).status_code == 404


def test_logout_needs_post_and_ends_the_session(handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    assert client.get(reverse("access:logout")).status_code == 405
    response = client.post(reverse("access:logout"))
    assert response["Location"] == LOGIN
    assert client.get(START)["Location"].startswith(LOGIN)


def test_a_session_without_a_verified_second_factor_is_ended(handlaggare: User) -> None:
    # As if someone logged in through a path that skipped TOTP (the admin's own form, say).
    client = Client()
    client.force_login(handlaggare)
    response = client.get(START)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_the_admin_login_form_redirects_to_ours() -> None:
    response = Client().get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
