"""Notifications: coordination.notifications (notify, unread_count, the content-free e-mail after
commit) and the user's notification list (newest first, marked read by POST, links by URL name)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import User
from coordination.models import Action, Meeting, Notification, NotificationKind
from coordination.notifications import EMAIL_BODY, EMAIL_SUBJECT, notify, unread_count
from coordination.referrals import do_accept_referral, do_revoke_referral
from tests.coordination.referral_world import PERSON_NAME, REQUEST_TEXT, World, build_world
from tests.factories import UserFactory
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]
Capture = Callable[..., object]
NOTIFICATIONS = reverse("coordination:notifications")


_shared_world_once, world = shared_world(build_world)


# --- notify and unread_count ---------------------------------------------------------------------------


def test_notify_creates_one_row_per_active_user_and_skips_the_excluded() -> None:
    first = UserFactory.create(username="en")
    second = UserFactory.create(username="tva")
    inactive = UserFactory.create(username="inaktiv", is_active=False)
    created = notify([first, second, second, inactive], NotificationKind.ACTION_ASSIGNED, exclude=first)
    assert [n.user for n in created] == [second]
    assert Notification.objects.get().kind == NotificationKind.ACTION_ASSIGNED


def test_unread_count_counts_only_the_users_own_unread() -> None:
    user = UserFactory.create(username="en")
    other = UserFactory.create(username="annan")
    notify([user, other], NotificationKind.ACTION_ASSIGNED)
    notify([user], NotificationKind.MEETING_SCHEDULED)
    assert unread_count(user) == 2
    Notification.objects.filter(user=user, kind=NotificationKind.ACTION_ASSIGNED).update(
        read_at=timezone.now()
    )
    assert unread_count(user) == 1
    assert unread_count(other) == 1


def test_no_email_unless_configured(settings: object, django_capture_on_commit_callbacks: Capture) -> None:
    settings.NOTIFY_BY_EMAIL = False
    user = UserFactory.create(username="en", email="en@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        notify([user], NotificationKind.ACTION_ASSIGNED)
    assert mail.outbox == []


def test_no_email_to_users_without_an_address(
    settings: object, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.NOTIFY_BY_EMAIL = True
    user = UserFactory.create(username="en", email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify([user], NotificationKind.ACTION_ASSIGNED)
    assert callbacks == []
    assert mail.outbox == []


def test_one_email_per_address_with_no_one_else_on_it(
    settings: object, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.NOTIFY_BY_EMAIL = True
    users = [UserFactory.create(username=name, email=f"{name}@example.org") for name in ("en", "tva")]
    with django_capture_on_commit_callbacks(execute=True):
        notify(users, NotificationKind.ACTION_ASSIGNED)
    assert sorted(message.to for message in mail.outbox) == [["en@example.org"], ["tva@example.org"]]
    assert all(message.cc == [] and message.bcc == [] for message in mail.outbox)


# --- The e-mail of a referral: generic, after commit only -------------------------------------------------


def _forbidden(world: World) -> list[str]:
    """Everything an e-mail must never carry about a referral."""
    return [
        world.case.reference,
        REQUEST_TEXT,
        PERSON_NAME,
        "Socialtjänsten vuxen",
        "Polisen",
        "soc-vuxen",
        "polisen",
        world.user("owner_handlaggare").get_full_name(),
        world.user("owner_handlaggare").username,
        "förfrågan",
    ]


def test_a_referral_email_says_only_that_something_waits(
    world: World, settings: object, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.NOTIFY_BY_EMAIL = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        referral = world.send()
        # Inside the transaction nothing has been sent: the e-mail waits for the commit.
        assert mail.outbox == []
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "polis-handlaggare@example.org",
        "polis-samordnare@example.org",
    ]
    for message in mail.outbox:
        assert message.subject == EMAIL_SUBJECT
        assert message.body == EMAIL_BODY
        text = f"{message.subject}\n{message.body}\n{message.to}\n{message.extra_headers}"
        for forbidden in [*_forbidden(world), str(referral.pk)]:
            assert forbidden.lower() not in text.lower(), f"the e-mail carries {forbidden!r}"


def test_a_refused_action_sends_no_email(
    world: World, settings: object, django_capture_on_commit_callbacks: Capture
) -> None:
    from cases.actions import CaseActionError

    settings.NOTIFY_BY_EMAIL = True
    referral = world.send()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CaseActionError):
        do_accept_referral(referral, acting_user=world.user("owner_handlaggare"))
    assert mail.outbox == []


def test_a_rolled_back_send_sends_no_email(
    world: World,
    settings: object,
    django_capture_on_commit_callbacks: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The audit write fails after the notifications were created: nothing commits, nothing is mailed."""
    from access.audit import AuditWriteError
    from coordination import referrals

    settings.NOTIFY_BY_EMAIL = True
    referral = world.send()
    do_revoke_referral(referral, acting_user=world.user("owner_handlaggare"))
    mail.outbox.clear()

    def failing(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("audit down")

    real_notify = referrals.notify

    def notify_then_fail(*args: object, **kwargs: object) -> list[Notification]:
        created = real_notify(*args, **kwargs)
        failing()
        return created

    monkeypatch.setattr(referrals, "notify", notify_then_fail)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(AuditWriteError):
        world.send()
    assert mail.outbox == []
    assert Notification.objects.filter(kind=NotificationKind.REFERRAL_RECEIVED).count() == 2  # the first send


def test_answers_mail_the_sender(
    world: World, settings: object, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.NOTIFY_BY_EMAIL = True
    referral = world.send()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_accept_referral(referral, acting_user=world.user("receiver_handlaggare"))
    assert [message.to for message in mail.outbox] == [["agare-handlaggare@example.org"]]
    assert mail.outbox[0].body == EMAIL_BODY


# --- The notification list ---------------------------------------------------------------------------------


def test_the_list_shows_the_users_notifications_newest_first_with_links(
    world: World, login_client: Login
) -> None:
    referral = world.send()
    user = world.user("receiver_handlaggare")
    older = Notification.objects.get(user=user)
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    do_revoke_referral(referral, acting_user=world.user("owner_handlaggare"))
    content = login_client(user).get(NOTIFICATIONS).content.decode()
    assert content.index("Förfrågan återkallad") < content.index("Ny förfrågan om samverkan")
    assert reverse("coordination:referral_detail", args=[referral.pk]) in content
    assert "2 olästa aviseringar." in content
    for leaked in (world.case.reference, REQUEST_TEXT, PERSON_NAME):
        assert leaked not in content


def test_the_list_shows_only_the_users_own(world: World, login_client: Login) -> None:
    world.send()
    content = login_client(world.user("owner_handlaggare")).get(NOTIFICATIONS).content.decode()
    assert "Du har inga aviseringar." in content
    assert "Ny förfrågan om samverkan" not in content


@pytest.mark.parametrize("persona", ["owner_chef", "owner_granskare", "no_membership"])
def test_every_logged_in_user_has_a_list(world: World, login_client: Login, persona: str) -> None:
    assert login_client(world.user(persona)).get(NOTIFICATIONS).status_code == 200


def test_marking_one_read_is_a_post_on_ones_own(world: World, login_client: Login) -> None:
    world.send()
    user = world.user("receiver_handlaggare")
    notification = Notification.objects.get(user=user)
    url = reverse("coordination:notification_read", args=[notification.pk])
    client = login_client(user)
    assert client.get(url).status_code == 405
    assert client.get(NOTIFICATIONS).status_code == 200
    assert Notification.objects.get(pk=notification.pk).read_at is None  # reading the list changes nothing
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == NOTIFICATIONS
    read_at = Notification.objects.get(pk=notification.pk).read_at
    assert read_at is not None
    client.post(url)  # again: the first time it was read stays
    assert Notification.objects.get(pk=notification.pk).read_at == read_at


def test_nobody_marks_someone_elses_notification(world: World, login_client: Login) -> None:
    world.send()
    notification = Notification.objects.get(user=world.user("receiver_handlaggare"))
    url = reverse("coordination:notification_read", args=[notification.pk])
    assert login_client(world.user("receiver_samordnare")).post(url).status_code == 404
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_marking_all_read(world: World, login_client: Login) -> None:
    referral = world.send()
    user = world.user("receiver_handlaggare")
    do_revoke_referral(referral, acting_user=world.user("owner_handlaggare"))
    client = login_client(user)
    response = client.post(reverse("coordination:notifications_read"))
    assert response.status_code == 302
    assert unread_count(user) == 0
    assert unread_count(world.user("receiver_samordnare")) == 2  # others' stay unread
    assert "0 olästa aviseringar." in client.get(NOTIFICATIONS).content.decode()


def test_meeting_and_action_notifications_show_their_kind(world: World, login_client: Login) -> None:
    """Their pages are other parts of coordination: linked when those routes exist, else shown without
    a link. An action's link names its case only while the user reaches the case."""
    from django.urls import NoReverseMatch

    user = world.user("receiver_handlaggare")
    meeting = Meeting.objects.create(
        organiser=world.owner, starts_at=timezone.now(), created_by=world.user("owner_samordnare")
    )
    action = Action.objects.create(
        case=world.case,
        agency=world.receiver,
        owner=user,
        due_on=timezone.localdate(),
        created_by=world.user("owner_handlaggare"),
    )
    notify([user], NotificationKind.MEETING_SCHEDULED, meeting=meeting)
    notify([user], NotificationKind.ACTION_ASSIGNED, action=action)
    client = login_client(user)
    content = client.get(NOTIFICATIONS).content.decode()
    assert "Kallelse till samverkansmöte" in content
    assert "Ny åtgärd att utföra" in content
    try:
        meeting_url = reverse("coordination:meeting_detail", args=[meeting.pk])
    except NoReverseMatch:
        meeting_url = None
    if meeting_url is not None:
        assert meeting_url in content
    try:
        action_url = reverse("coordination:case_coordination", args=[world.case.reference])
    except NoReverseMatch:
        action_url = None
    if action_url is not None:
        assert action_url in content
    world.end_disclosure()
    assert world.case.reference not in client.get(NOTIFICATIONS).content.decode()
