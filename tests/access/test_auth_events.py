"""Logging in, failing to, being locked out, enrolling and logging out are audited, fail closed,
and the audit trail never holds a password, a code or a username that matches no user."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.audit import AuditWriteError
from access.context import current_request
from access.middleware import RequestIdMiddleware
from access.models import Agency, AuditEvent, Membership, Role, User
from tests.factories import PASSWORD, AgencyFactory, UserFactory, code_for_key, current_code, enrolment_link

pytestmark = pytest.mark.django_db

LOGIN = reverse("access:login")
SECOND_FACTOR = reverse("access:second_factor")
ENROL = reverse("access:enrol")
LOGOUT = reverse("access:logout")
START = reverse("start")
ADDRESS = "203.0.113.7"
# What users type into the username field by mistake: their password.
PASSWORD_AS_USERNAME = "Mitt-Hemliga-Losenord-77"
WRONG_PASSWORD = "Alldeles-Fel-Losenord-13"


def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def the_event(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, f"expected one {action}, found {len(found)}"
    return found[0]


def audit_table() -> str:
    """Every column of every audit row, as one string to search."""
    return json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)


def assert_never_in_audit_table(*secrets: str) -> None:
    table = audit_table()
    leaked = [secret for secret in secrets if secret in table]
    assert not leaked, f"the audit table holds {leaked}"


def wrong_code(user: User) -> str:
    """A six-digit code the user's authenticator shows neither now nor in the window around now."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    valid = {code_for_key(device.key, offset_steps=step) for step in range(-2, 3)}
    return next(
        code for code in ("918273", "827364", "736455", "645546", "554637", "463728") if code not in valid
    )


def give_password(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(LOGIN, {"username": username, "password": password})


def log_in(client: Client, user: User) -> object:
    give_password(client, user.username)
    return client.post(SECOND_FACTOR, {"token": current_code(user)})


def assert_from_this_request(event: AuditEvent, response: object) -> None:
    assert event.client_address == ADDRESS
    assert event.request_id == response["X-Request-ID"]


# --- auth.login ----------------------------------------------------------------------------------------


def test_a_completed_login_is_recorded_with_the_users_active_agencies(
    handlaggare: User, other_agency: Agency
) -> None:
    Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.CHEF)
    closed = AgencyFactory.create(code="nedlagd", is_active=False)
    Membership.objects.create(user=handlaggare, agency=closed, role=Role.HANDLAGGARE)
    client = browser()
    give_password(client, handlaggare.username)
    assert not events("auth.login"), "the password alone is no login"

    response = client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})

    assert response["Location"] == START
    event = the_event("auth.login")
    assert event.actor == handlaggare
    assert event.object_type == "user"
    assert event.object_reference == str(handlaggare.public_id)
    assert event.details == {"second_factor": "totp", "agencies": ["polisen", "soc-vuxen"]}
    assert_from_this_request(event, response)


def test_a_login_whose_event_cannot_be_written_logs_nobody_in(handlaggare: User, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    client = browser()
    client.raise_request_exception = False
    give_password(client, handlaggare.username)
    monkeypatch.setattr("access.views.record_event", broken)

    response = client.post(SECOND_FACTOR, {"token": current_code(handlaggare)})

    assert response.status_code == 500
    assert "_auth_user_id" not in client.session
    assert client.get(START)["Location"].startswith(LOGIN)
    assert not events("auth.login")
    # Nor is it half done: no last login, and django-axes was told of no success.
    handlaggare.refresh_from_db()
    assert handlaggare.last_login is None
    assert not AccessLog.objects.filter(username=handlaggare.username).exists()


# --- auth.login_failed and auth.second_factor_failed ------------------------------------------------


def test_a_wrong_password_is_recorded_against_the_user(handlaggare: User) -> None:
    response = give_password(browser(), handlaggare.username, WRONG_PASSWORD)

    event = the_event("auth.login_failed")
    assert event.actor == handlaggare
    assert event.object_type == "user"
    assert event.object_reference == str(handlaggare.public_id)
    assert event.details == {"known_user": True, "active": True, "locked_out": False}
    assert_from_this_request(event, response)
    assert_never_in_audit_table(WRONG_PASSWORD)


def test_a_deactivated_users_attempt_says_so(handlaggare: User) -> None:
    handlaggare.is_active = False
    handlaggare.save(update_fields=["is_active"])
    give_password(browser(), handlaggare.username)
    assert the_event("auth.login_failed").details["active"] is False


def test_an_unknown_username_is_never_stored(db: None) -> None:
    # Typed into the username field it is most likely a password; the event keeps only that it failed.
    response = give_password(browser(), PASSWORD_AS_USERNAME, WRONG_PASSWORD)

    event = the_event("auth.login_failed")
    assert event.actor is None
    assert event.actor_username == ""
    assert event.object_reference == ""
    assert event.details == {"known_user": False}
    assert_from_this_request(event, response)
    assert_never_in_audit_table(PASSWORD_AS_USERNAME, PASSWORD_AS_USERNAME.lower(), WRONG_PASSWORD)


def test_a_wrong_code_is_recorded_without_the_code(handlaggare: User) -> None:
    client = browser()
    give_password(client, handlaggare.username)
    code = wrong_code(handlaggare)

    response = client.post(SECOND_FACTOR, {"token": code})

    assert "Koden stämmer inte" in response.content.decode()
    event = the_event("auth.second_factor_failed")
    assert event.actor == handlaggare
    assert event.object_reference == str(handlaggare.public_id)
    assert event.details == {"second_factor": "totp", "enrolment": False, "locked_out": False}
    assert_from_this_request(event, response)
    assert not events("auth.login_failed"), "a wrong code is not a wrong password"
    assert_never_in_audit_table(code)


def test_a_failure_whose_event_cannot_be_written_still_counts_towards_the_lockout(
    handlaggare: User, settings, monkeypatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("access.events.record_event", broken)
    client = browser()
    client.raise_request_exception = False
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert give_password(client, handlaggare.username, WRONG_PASSWORD).status_code == 500
    # The failure that reaches the limit is answered with the lockout page instead of the error page.
    assert give_password(client, handlaggare.username, WRONG_PASSWORD).status_code == 429
    monkeypatch.undo()

    assert not AuditEvent.objects.filter(action__startswith="auth.").exists()
    assert (
        AccessAttempt.objects.get(username=handlaggare.username).failures_since_start
        == settings.AXES_FAILURE_LIMIT
    )
    assert give_password(browser(), handlaggare.username).status_code == 429


# --- auth.lockout ------------------------------------------------------------------------------------------


def test_a_lockout_is_recorded_once_right_after_the_failure_that_caused_it(
    handlaggare: User, settings
) -> None:
    client = browser()
    responses = [
        give_password(client, handlaggare.username, WRONG_PASSWORD)
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert responses[-1].status_code == 429

    lockout = the_event("auth.lockout")
    assert lockout.actor == handlaggare
    assert lockout.object_reference == str(handlaggare.public_id)
    assert lockout.details == {"known_user": True, "failures": settings.AXES_FAILURE_LIMIT}
    assert_from_this_request(lockout, responses[-1])
    failures = events("auth.login_failed")
    assert len(failures) == settings.AXES_FAILURE_LIMIT
    assert lockout.id == failures[-1].id + 1
    assert failures[-1].details["locked_out"] is True
    assert not any(failure.details["locked_out"] for failure in failures[:-1])

    # Refused attempts while locked, even with the right password, add failures but no lockout.
    assert give_password(browser(), handlaggare.username).status_code == 429
    assert give_password(browser(), handlaggare.username, WRONG_PASSWORD).status_code == 429
    assert len(events("auth.login_failed")) == settings.AXES_FAILURE_LIMIT + 2
    assert len(events("auth.lockout")) == 1


def test_a_new_lockout_after_the_cool_off_is_recorded_again(handlaggare: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        give_password(browser(), handlaggare.username, WRONG_PASSWORD)
    expired = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.filter(username=handlaggare.username).update(attempt_time=expired)
    AccessFailureLog.objects.filter(username=handlaggare.username).update(attempt_time=expired)

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert give_password(browser(), handlaggare.username, WRONG_PASSWORD).status_code == 200
    assert len(events("auth.lockout")) == 1
    assert give_password(browser(), handlaggare.username, WRONG_PASSWORD).status_code == 429
    assert len(events("auth.lockout")) == 2


def test_wrong_codes_lock_out_and_are_recorded_so(handlaggare: User, settings) -> None:
    client = browser()
    give_password(client, handlaggare.username)
    code = wrong_code(handlaggare)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(SECOND_FACTOR, {"token": code})
    assert response.status_code == 429

    lockout = the_event("auth.lockout")
    assert lockout.actor == handlaggare
    assert_from_this_request(lockout, response)
    assert lockout.id == events("auth.second_factor_failed")[-1].id + 1
    assert_never_in_audit_table(code)


def test_the_lockout_of_an_unknown_username_names_nobody(db: None, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        give_password(browser(), PASSWORD_AS_USERNAME, WRONG_PASSWORD)

    lockout = the_event("auth.lockout")
    assert lockout.actor is None
    assert lockout.object_reference == ""
    assert lockout.details == {"known_user": False}
    assert lockout.client_address == ADDRESS
    assert_never_in_audit_table(PASSWORD_AS_USERNAME, WRONG_PASSWORD)


# --- auth.totp_enrolled ------------------------------------------------------------------------------------


def test_enrolling_an_authenticator_is_recorded_before_the_login(agency: Agency) -> None:
    user = UserFactory.create(totp=False)
    Membership.objects.create(user=user, agency=agency, role=Role.HANDLAGGARE)
    client = browser()
    client.get(reverse("access:enrolment_link", args=[enrolment_link(user)]))
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = code_for_key(device.key)

    response = client.post(ENROL, {"token": code, "password1": PASSWORD, "password2": PASSWORD})

    assert response["Location"] == START
    enrolled, login = the_event("auth.totp_enrolled"), the_event("auth.login")
    assert enrolled.actor == login.actor == user
    assert enrolled.object_reference == str(user.public_id)
    assert enrolled.id < login.id
    assert_from_this_request(enrolled, response)
    assert login.request_id == enrolled.request_id
    assert_never_in_audit_table(code, device.key, PASSWORD)


def test_a_failed_enrolment_code_is_recorded_as_such(db: None) -> None:
    user = UserFactory.create(totp=False)
    client = browser()
    client.get(reverse("access:enrolment_link", args=[enrolment_link(user)]))
    client.get(ENROL)
    client.post(ENROL, {"token": "918273", "password1": PASSWORD, "password2": PASSWORD})
    assert the_event("auth.second_factor_failed").details["enrolment"] is True
    assert not events("auth.totp_enrolled")


def test_an_enrolment_whose_event_cannot_be_written_confirms_nothing(db: None, monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    user = UserFactory.create(totp=False)
    client = browser()
    client.raise_request_exception = False
    client.get(reverse("access:enrolment_link", args=[enrolment_link(user)]))
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    monkeypatch.setattr("access.views.record_event", broken)

    response = client.post(
        ENROL, {"token": code_for_key(device.key), "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 500
    device.refresh_from_db()
    assert not device.confirmed
    assert "_auth_user_id" not in client.session


# --- auth.logout -------------------------------------------------------------------------------------------


def test_logging_out_is_recorded(handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    response = client.post(LOGOUT, REMOTE_ADDR=ADDRESS)
    event = the_event("auth.logout")
    assert event.actor == handlaggare
    assert event.object_reference == str(handlaggare.public_id)
    assert_from_this_request(event, response)


def test_a_logout_that_cannot_be_audited_still_ends_the_session(
    handlaggare: User, login_client, monkeypatch
) -> None:
    # Failing closed for a logout means ending the session, not keeping it.
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("access.views.record_event", broken)
    client = login_client(handlaggare)
    client.raise_request_exception = False
    assert client.post(LOGOUT).status_code == 500
    assert "_auth_user_id" not in client.session
    assert client.get(START)["Location"].startswith(LOGIN)


# --- No secrets, anywhere ---------------------------------------------------------------------------------


def test_a_whole_day_of_logging_in_leaves_no_secret_in_the_audit_table(handlaggare: User) -> None:
    device = TOTPDevice.objects.get(user=handlaggare, confirmed=True)
    bad_code = wrong_code(handlaggare)
    good_code = current_code(handlaggare)
    client = browser()
    give_password(client, PASSWORD_AS_USERNAME, PASSWORD)
    give_password(client, handlaggare.username, WRONG_PASSWORD)
    give_password(client, handlaggare.username)
    client.post(SECOND_FACTOR, {"token": bad_code})
    # django-otp makes the next try wait after a wrong code; this test has no time to wait.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    assert client.post(SECOND_FACTOR, {"token": good_code})["Location"] == START
    client.post(LOGOUT)

    actions = list(AuditEvent.objects.filter(action__startswith="auth.").values_list("action", flat=True))
    assert actions == [
        "auth.login_failed",
        "auth.login_failed",
        "auth.second_factor_failed",
        "auth.login",
        "auth.logout",
    ]
    assert_never_in_audit_table(
        PASSWORD, WRONG_PASSWORD, PASSWORD_AS_USERNAME, bad_code, good_code, device.key, handlaggare.password
    )


# --- The current request ----------------------------------------------------------------------------------


def test_the_request_is_current_only_while_it_is_served(handlaggare: User, login_client) -> None:
    seen: list[object] = []

    def view(served: HttpRequest) -> HttpResponse:
        seen.append(current_request.get())
        return HttpResponse()

    request = RequestFactory().get("/")
    RequestIdMiddleware(view)(request)
    assert seen == [request]
    assert current_request.get() is None

    login_client(handlaggare).get(START)
    assert current_request.get() is None


def test_the_request_is_unbound_even_when_the_view_fails(db: None) -> None:
    def failing(served: HttpRequest) -> HttpResponse:
        raise RuntimeError("the view broke")

    with pytest.raises(RuntimeError):
        RequestIdMiddleware(failing)(RequestFactory().get("/"))
    assert current_request.get() is None
