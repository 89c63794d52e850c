"""Repeated failures lock an account for a cool-off period, not for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import User
from tests.factories import PASSWORD, current_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("access:login")
SECOND_FACTOR = reverse("access:second_factor")


def fail_password(client: Client, user: User, times: int) -> object:
    response = None
    for _ in range(times):
        response = client.post(LOGIN, {"username": user.username, "password": "alldeles-fel"})
    return response


def test_five_wrong_passwords_lock_the_account_with_a_swedish_message(handlaggare: User, settings) -> None:
    response = fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Kontot är tillfälligt spärrat" in body
    assert "15 minuter" in body


def test_four_wrong_passwords_do_not_lock(handlaggare: User, settings) -> None:
    fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT - 1)
    response = Client().post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_locked_account_refuses_even_the_right_password(handlaggare: User, settings) -> None:
    fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT)
    # From another browser, so nothing in the first session matters.
    response = Client().post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Kontot är tillfälligt spärrat" in response.content.decode()


def test_the_lock_lifts_after_the_cool_off(handlaggare: User, settings) -> None:
    fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT)
    expired = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.filter(username=handlaggare.username).update(attempt_time=expired)
    response = Client().post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == SECOND_FACTOR


def test_wrong_codes_count_towards_the_same_lockout(handlaggare: User, settings) -> None:
    client = Client()
    client.post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    response = None
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(SECOND_FACTOR, {"token": "000000"})
    assert response.status_code == 429
    assert "Kontot är tillfälligt spärrat" in response.content.decode()
    # The right code no longer helps, and neither does starting again.
    client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})
    assert "_auth_user_id" not in client.session
    again = Client().post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    assert again.status_code == 429


def test_locking_one_account_leaves_colleagues_alone(handlaggare: User, samordnare: User, settings) -> None:
    client = Client()
    fail_password(client, handlaggare, settings.AXES_FAILURE_LIMIT)
    response = client.post(LOGIN, {"username": samordnare.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_successful_login_resets_the_failure_count(handlaggare: User, settings) -> None:
    fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT - 1)
    client = Client()
    client.post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    assert client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})["Location"] == reverse("start")
    fail_password(Client(), handlaggare, settings.AXES_FAILURE_LIMIT - 1)
    assert Client().post(LOGIN, {"username": handlaggare.username, "password": PASSWORD}).status_code == 302


def test_an_unknown_username_is_locked_out_but_never_stored_as_typed(settings) -> None:
    """People type their password into the username field: axes' tables must not keep it."""
    typed = "Hemligt-Lösen0rd!"
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": typed, "password": "vad-som-helst"})
    assert response.status_code == 429, "repeated attempts under one unknown name are still locked out"
    attempts = list(AccessAttempt.objects.values())
    assert attempts, "the attempts are counted"
    assert typed not in repr(attempts)
    assert typed not in repr(list(AccessFailureLog.objects.values()))
    assert all(str(row["username"]).startswith("okänd:") for row in attempts)


def test_a_known_username_is_stored_as_is_so_an_operator_can_lift_its_lockout(
    handlaggare: User, settings
) -> None:
    fail_password(Client(), handlaggare, 2)
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {handlaggare.username}
