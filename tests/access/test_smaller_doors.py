"""The smaller doors of issue 12: error pages kept by no cache, sessions with an absolute lifetime, and
a granskare's user-activity page that tells no existing username from an unknown one."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.middleware import LOGGED_IN_AT
from access.models import Agency, AuditEvent, Role, User
from tests.factories import PASSWORD, MembershipFactory, UserFactory, current_code

pytestmark = pytest.mark.django_db


# --- Error pages ---


def test_every_error_page_is_no_store(handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    answers = {
        404: client.get("/arenden/VR-FINNS-EJ/"),
        405: client.get(reverse("access:logout")),
        403: client.get(reverse("compliance:start")),
    }
    csrf_client = Client(enforce_csrf_checks=True)
    answers[4031] = csrf_client.post(reverse("access:login"), {"username": "x", "password": "y"})
    for status, response in answers.items():
        assert response.status_code == (403 if status == 4031 else status)
        assert "no-store" in response["Cache-Control"], status


def test_a_server_error_page_is_no_store(handlaggare: User, login_client, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("coordination.views.start.render", broken)
    client = login_client(handlaggare)
    client.raise_request_exception = False
    response = client.get(reverse("start"))
    assert response.status_code == 500
    assert "no-store" in response["Cache-Control"]


# --- The absolute session lifetime ---


def logged_in(user: User) -> Client:
    client = Client()
    client.post(reverse("access:login"), {"username": user.username, "password": PASSWORD})
    client.post(reverse("access:second_factor"), {"token": current_code(user)})
    return client


def test_the_login_stamps_the_session_and_an_active_session_ends_after_the_lifetime(
    handlaggare: User, settings
) -> None:
    client = logged_in(handlaggare)
    assert LOGGED_IN_AT in client.session
    assert client.get(reverse("start")).status_code == 200
    session = client.session
    session[LOGGED_IN_AT] = (
        timezone.now() - settings.SESSION_MAX_AGE - datetime.timedelta(minutes=1)
    ).isoformat()
    session.save()
    response = client.get(reverse("start"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("access:login"))
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor == handlaggare and event.details == {"max_hours": 10}


def test_a_session_within_the_lifetime_stays(handlaggare: User, settings) -> None:
    client = logged_in(handlaggare)
    session = client.session
    session[LOGGED_IN_AT] = (
        timezone.now() - settings.SESSION_MAX_AGE + datetime.timedelta(minutes=5)
    ).isoformat()
    session.save()
    assert client.get(reverse("start")).status_code == 200


def test_a_session_without_a_stamp_gets_one_and_ends_in_time(
    handlaggare: User, login_client, settings
) -> None:
    client = login_client(handlaggare)
    assert client.get(reverse("start")).status_code == 200
    assert LOGGED_IN_AT in client.session
    session = client.session
    session[LOGGED_IN_AT] = (
        timezone.now() - settings.SESSION_MAX_AGE - datetime.timedelta(minutes=1)
    ).isoformat()
    session.save()
    assert client.get(reverse("start"))["Location"].startswith(reverse("access:login"))


# --- The granskare's user-activity page ---


def test_the_user_activity_page_and_its_trail_tell_no_username_outside_the_scope_from_an_unknown_one(
    granskare: User, other_agency: Agency, login_client
) -> None:
    MembershipFactory.create(
        user=UserFactory.create(username="polis.anna"), agency=other_agency, role=Role.HANDLAGGARE
    )
    client = login_client(granskare)

    def body(username: str) -> str:
        text = client.get(reverse("compliance:user_activity", args=[username])).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text).replace(username, "NAMN")

    assert body("polis.anna") == body("finns.inte")
    existing, unknown = AuditEvent.objects.filter(action="audit.user_activity").order_by("id")
    assert (existing.object_reference, existing.details["found"]) == ("", False)
    assert (unknown.object_reference, unknown.details["found"]) == ("", False)


def test_a_user_of_the_granskares_own_agency_is_named_in_the_trail(
    granskare: User, handlaggare: User, login_client
) -> None:
    login_client(granskare).get(reverse("compliance:user_activity", args=[handlaggare.username]))
    event = AuditEvent.objects.get(action="audit.user_activity")
    assert event.object_reference == str(handlaggare.public_id) and event.details["found"] is True
