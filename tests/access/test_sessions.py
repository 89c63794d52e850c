"""Deny by default, a 15-minute idle timeout, and cookies that scripts and other sites cannot use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("access:login")


@pytest.mark.parametrize("path", ["/", "/admin/", "/admin/access/user/"])
def test_anonymous_requests_end_on_our_login_page(path: str) -> None:
    response = Client().get(path, follow=True)
    assert response.redirect_chain
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert response.status_code == 200


def test_the_idle_timeout_is_fifteen_minutes_and_renewed_by_every_request(settings) -> None:
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_a_request_renews_the_session_expiry(handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    session = Session.objects.get(session_key=client.session.session_key)
    session.expire_date = timezone.now() + timedelta(minutes=1)
    session.save()
    assert client.get("/").status_code == 200
    renewed = Session.objects.get(session_key=client.session.session_key).expire_date
    assert renewed > timezone.now() + timedelta(minutes=14)


def test_a_session_idle_for_fifteen_minutes_is_logged_out(handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_session_and_csrf_cookies_are_http_only_and_same_site(handlaggare: User) -> None:
    client = Client()
    client.get(LOGIN)
    csrf = client.cookies["skyddsnat_csrf"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"
    client.post(LOGIN, {"username": handlaggare.username, "password": "fel"})
    client.post(LOGIN, {"username": handlaggare.username, "password": PASSWORD})
    session = client.cookies["skyddsnat_session"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_logins_need_a_csrf_token(handlaggare: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": handlaggare.username, "password": "x"})
    assert response.status_code == 403
    assert "Formuläret har gått ut" in response.content.decode()


def test_every_response_carries_a_request_id_and_forged_ones_are_ignored(settings) -> None:
    first = Client().get(LOGIN)
    second = Client().get(LOGIN)
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    settings.BEHIND_PROXY = False
    ignored = Client().get(LOGIN, HTTP_X_REQUEST_ID="from-the-client-12345")
    assert ignored["X-Request-ID"] != "from-the-client-12345"
    settings.BEHIND_PROXY = True
    assert Client().get(LOGIN, HTTP_X_REQUEST_ID="nginx-0123456789")["X-Request-ID"] == "nginx-0123456789"
    assert Client().get(LOGIN, HTTP_X_REQUEST_ID="bad id <script>")["X-Request-ID"] != "bad id <script>"
