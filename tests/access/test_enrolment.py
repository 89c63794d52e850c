"""Enrolment: only through a single-use, short-lived link; the link's secret stays out of the next page's
address and out of the database."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import AuditEvent, EnrolmentLink, User
from access.views import ENROLMENT_SINCE
from tests.factories import UserFactory, code_for_key, enrolment_link

pytestmark = pytest.mark.django_db

ENROL = reverse("access:enrol")
LOGIN = reverse("access:login")
START = reverse("start")
CHOSEN = "Mitt-eget-nya-losenord-77"


def open_link(client: Client, token: str) -> object:
    return client.get(reverse("access:enrolment_link", args=[token]))


def enrol(client: Client, user: User, *, password: str = CHOSEN, repeat: str | None = None) -> object:
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    data = {"password1": password, "password2": repeat or password, "token": code_for_key(device.key)}
    return client.post(ENROL, data)


@pytest.fixture
def newcomer() -> User:
    user = UserFactory.create(username="ny.kollega", totp=False)
    user.set_unusable_password()
    user.save()
    return user


def test_the_link_sends_the_browser_on_to_an_address_without_its_secret(newcomer: User) -> None:
    client = Client()
    token = enrolment_link(newcomer)
    response = open_link(client, token)
    assert response.status_code == 302
    assert response["Location"] == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert "_auth_user_id" not in client.session
    # The database holds a hash of the secret, never the secret.
    assert token not in json.dumps(list(EnrolmentLink.objects.values()), default=str)
    assert token not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_correct_code_and_password_enrol_and_log_in_once(newcomer: User) -> None:
    client = Client()
    token = enrolment_link(newcomer)
    open_link(client, token)
    response = enrol(client, newcomer)
    assert response["Location"] == START
    assert client.get(START).status_code == 200
    newcomer.refresh_from_db()
    assert newcomer.check_password(CHOSEN)
    assert TOTPDevice.objects.filter(user=newcomer, confirmed=True).count() == 1
    link = EnrolmentLink.objects.get(user=newcomer)
    assert link.used_at is not None
    used = AuditEvent.objects.get(action="auth.totp_enrolled")
    assert used.details == {"purpose": "invitation", "link": str(link.public_id)}
    # Single use: the same link, in another browser, is refused.
    again = open_link(Client(), token)
    assert again.status_code == 410


@pytest.mark.parametrize("state", ["expired", "revoked", "used", "unknown", "deactivated"])
def test_a_link_that_no_longer_holds_is_refused_and_audited(newcomer: User, state: str) -> None:
    token = enrolment_link(newcomer)
    link = EnrolmentLink.objects.get(user=newcomer)
    if state == "expired":
        link.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    elif state == "revoked":
        link.revoked_at = timezone.now()
    elif state == "used":
        link.used_at = timezone.now()
    elif state == "deactivated":
        newcomer.is_active = False
        newcomer.save()
    link.save()
    if state == "unknown":
        token = token[::-1]
    client = Client()
    response = open_link(client, token)
    assert response.status_code == 410
    assert "Länken gäller inte" in response.content.decode()
    assert client.get(ENROL)["Location"].startswith(LOGIN)
    refused = AuditEvent.objects.get(action="auth.enrolment_link_refused")
    assert refused.details == {"known_link": state != "unknown"}
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()


def test_a_link_revoked_while_its_page_is_open_enrols_nothing(newcomer: User) -> None:
    client = Client()
    open_link(client, enrolment_link(newcomer))
    client.get(ENROL)
    EnrolmentLink.objects.filter(user=newcomer).update(revoked_at=timezone.now())
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)
    response = client.post(
        ENROL, {"password1": CHOSEN, "password2": CHOSEN, "token": code_for_key(device.key)}
    )
    assert response.status_code in (302, 410)
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert "_auth_user_id" not in client.session


def test_an_opened_link_must_be_finished_within_the_window(newcomer: User) -> None:
    client = Client()
    open_link(client, enrolment_link(newcomer))
    session = client.session
    session[ENROLMENT_SINCE] = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    session.save()
    assert client.get(ENROL)["Location"].startswith(LOGIN)


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        (CHOSEN, CHOSEN + "x", "Lösenorden är inte lika"),
        ("kort", "kort", "minst 12 tecken"),
        ("123456789012345", "123456789012345", "enbart numeriskt"),
    ],
)
def test_a_poor_password_enrols_nothing(newcomer: User, password: str, repeat: str, message: str) -> None:
    client = Client()
    open_link(client, enrolment_link(newcomer))
    response = enrol(client, newcomer, password=password, repeat=repeat)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert not User.objects.get(pk=newcomer.pk).has_usable_password()
    assert EnrolmentLink.objects.get(user=newcomer).used_at is None


def test_a_wrong_code_counts_towards_the_lockout(newcomer: User, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    open_link(client, enrolment_link(newcomer))
    client.get(ENROL)
    for _attempt in range(2):
        response = client.post(ENROL, {"password1": CHOSEN, "password2": CHOSEN, "token": "000000"})
    assert response.status_code == 429
    assert AuditEvent.objects.filter(action="auth.second_factor_failed", details__enrolment=True).count() == 2


def test_enrolling_after_a_reset_removes_every_other_authenticator(handlaggare: User) -> None:
    old = TOTPDevice.objects.get(user=handlaggare)
    client = Client()
    open_link(client, enrolment_link(handlaggare, purpose="reset"))
    page = client.get(ENROL)
    assert "Din inloggning har återställts" in page.content.decode()
    enrol(client, handlaggare)
    devices = list(TOTPDevice.objects.filter(user=handlaggare))
    assert len(devices) == 1
    assert devices[0].pk != old.pk and devices[0].confirmed
