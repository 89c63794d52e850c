"""The referral pages: who gets 404, 403 or a message; the inbox and the sent list; the referral page's
audited read; the buttons each side gets; and the rejection form."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from access.audit import AuditWriteError
from access.models import AuditEvent, User
from coordination.models import REFERRAL_TRANSITIONS, Referral, ReferralStatus
from coordination.referrals import do_accept_referral, do_revoke_referral
from tests.coordination.referral_world import (
    ALL_STATUSES,
    NOBODY,
    PERSONAS,
    RECEIVERS,
    REJECTION_TEXT,
    REQUEST_TEXT,
    SENDERS,
    TARGETS,
    World,
    build_world,
    put_in_status,
)
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]

URL_NAMES = {
    ReferralStatus.ACCEPTED: "coordination:referral_accept",
    ReferralStatus.REJECTED: "coordination:referral_reject",
    ReferralStatus.REVOKED: "coordination:referral_revoke",
    ReferralStatus.DONE: "coordination:referral_complete",
}
INBOX = reverse("coordination:referral_inbox")
SENT = reverse("coordination:referral_sent")
# Roles that never do casework: the referral pages do not exist for them, as the case pages do not.
NO_CASEWORK = (
    "owner_chef",
    "owner_granskare",
    "owner_systemadministrator",
    "receiver_chef",
    "receiver_granskare",
    "no_membership",
)


_shared_world_once, world = shared_world(build_world)


def detail_url(referral: Referral) -> str:
    return reverse("coordination:referral_detail", args=[referral.pk])


def texts_of(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The referral page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", SENDERS + RECEIVERS)
def test_both_sides_read_the_request_and_the_read_is_audited(
    world: World, login_client: Login, persona: str
) -> None:
    referral = world.send()
    response = login_client(world.user(persona)).get(detail_url(referral))
    assert response.status_code == 200
    content = response.content.decode()
    assert REQUEST_TEXT in content
    assert reverse("cases:detail", args=[world.case.reference]) in content
    event = AuditEvent.objects.filter(action="referral.read").last()
    assert event is not None
    assert event.actor == world.user(persona)
    assert event.object_reference == world.case.reference
    assert event.details == {"referral": str(referral.pk), "from_agency": "soc-vuxen", "to_agency": "polisen"}
    assert event.reason == ("owner" if persona in SENDERS else "disclosure")
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("persona", NOBODY)
def test_everyone_else_gets_404_for_the_referral_page(
    world: World, login_client: Login, persona: str
) -> None:
    referral = world.send()
    response = login_client(world.user(persona)).get(detail_url(referral))
    assert response.status_code == 404
    assert REQUEST_TEXT not in response.content.decode()
    assert not AuditEvent.objects.filter(action="referral.read").exists()


def test_a_missing_referral_is_404_like_a_hidden_one(world: World, login_client: Login) -> None:
    response = login_client(world.user("owner_handlaggare")).get(
        reverse("coordination:referral_detail", args=[uuid.uuid4()])
    )
    assert response.status_code == 404


def test_the_read_fails_closed_when_the_audit_event_cannot_be_written(
    world: World, login_client: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coordination import referrals

    referral = world.send()
    opened: list[str] = []
    real_open = referrals.CaseVault.open

    def failing_record_event(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("audit down")

    def spying_open(self: object, instance: object, field: str) -> str:
        opened.append(field)
        return real_open(self, instance, field)

    monkeypatch.setattr(referrals, "record_event", failing_record_event)
    monkeypatch.setattr(referrals.CaseVault, "open", spying_open)
    client = login_client(world.user("receiver_handlaggare"))
    with pytest.raises(AuditWriteError):
        client.get(detail_url(referral))
    assert opened == []


def test_the_page_shows_the_status_history(world: World, login_client: Login) -> None:
    referral = world.send()
    do_accept_referral(referral, acting_user=world.user("receiver_samordnare"))
    content = login_client(world.user("owner_handlaggare")).get(detail_url(referral)).content.decode()
    assert "Skickad" in content and "Accepterad" in content
    assert world.user("owner_handlaggare").get_full_name() in content
    assert world.user("receiver_samordnare").get_full_name() in content


def _buttons(content: str) -> set[str]:
    labels = {
        "Acceptera förfrågan": ReferralStatus.ACCEPTED,
        "Avvisa förfrågan": ReferralStatus.REJECTED,
        "Återkalla förfrågan": ReferralStatus.REVOKED,
        "Markera som klar": ReferralStatus.DONE,
    }
    return {target for label, target in labels.items() if label in content}


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("persona", SENDERS + RECEIVERS)
def test_each_side_gets_exactly_its_buttons(
    world: World, login_client: Login, status: str, persona: str
) -> None:
    referral = put_in_status(world.send(), status)
    side = "sender" if persona in SENDERS else "receiver"
    expected = {target for target, who in REFERRAL_TRANSITIONS[status].items() if who == side}
    content = login_client(world.user(persona)).get(detail_url(referral)).content.decode()
    assert _buttons(content) == expected


# --- Transitions through the views: 404, 403 or a message, consistently --------------------------------


def _view_expectation(status: str, target: str, persona: str) -> str:
    side = "sender" if target == ReferralStatus.REVOKED else "receiver"
    sees = persona in SENDERS + RECEIVERS
    own_side = persona in (SENDERS if side == "sender" else RECEIVERS)
    if not sees:
        return "404"
    if not own_side:
        return "403"
    return "done" if target in REFERRAL_TRANSITIONS[status] else "message"


VIEW_MATRIX = [(s, t, p) for s in ALL_STATUSES for t in TARGETS for p in PERSONAS]


@pytest.mark.parametrize(
    ("status", "target", "persona"),
    VIEW_MATRIX,
    ids=[f"{s.value}->{t.value}-{p}" for s, t, p in VIEW_MATRIX],
)
def test_every_transition_through_the_views(
    world: World, login_client: Login, status: str, target: str, persona: str
) -> None:
    referral = put_in_status(world.send(), status)
    client = login_client(world.user(persona))
    url = reverse(URL_NAMES[target], args=[referral.pk])
    response = client.post(url, {"reason": REJECTION_TEXT})
    expected = _view_expectation(status, target, persona)
    row = Referral.objects.get(pk=referral.pk)
    if expected == "done":
        assert response.status_code == 302
        assert response["Location"] == detail_url(referral)
        assert row.status == target
    else:
        assert row.status == status
        if expected == "message":
            assert response.status_code == 302
            assert response["Location"] == detail_url(referral)
            assert any("kan inte" in text for text in texts_of(response))
        else:
            assert response.status_code == int(expected)


@pytest.mark.parametrize("target", TARGETS)
def test_transitions_refuse_get(world: World, login_client: Login, target: str) -> None:
    referral = world.send()
    client = login_client(
        world.user("receiver_handlaggare" if target != ReferralStatus.REVOKED else "owner_handlaggare")
    )
    response = client.get(reverse(URL_NAMES[target], args=[referral.pk]))
    if target == ReferralStatus.REJECTED:
        assert response.status_code == 200  # the rejection's form page
    else:
        assert response.status_code == 405
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_accepting_through_the_view_says_the_contribution_is_there(world: World, login_client: Login) -> None:
    referral = world.send()
    client = login_client(world.user("receiver_handlaggare"))
    response = client.post(reverse("coordination:referral_accept", args=[referral.pk]), follow=True)
    assert "Er myndighets bidrag finns nu i ärendet." in response.content.decode()
    case_page = client.get(reverse("cases:detail", args=[world.case.reference])).content.decode()
    assert "Förfrågan om samverkan accepterad." in case_page
    contribution = client.get(reverse("cases:contribution", args=[world.case.reference]))
    assert contribution.status_code == 200


# --- The rejection form -------------------------------------------------------------------------------


def test_the_rejection_form_keeps_the_input_and_asks_for_a_reason(world: World, login_client: Login) -> None:
    referral = world.send()
    client = login_client(world.user("receiver_handlaggare"))
    url = reverse("coordination:referral_reject", args=[referral.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "   "})
    assert response.status_code == 200
    assert "Skriv varför förfrågan avvisas." in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT
    response = client.post(url, {"reason": REJECTION_TEXT})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.REJECTED
    page = login_client(world.user("owner_handlaggare")).get(detail_url(referral)).content.decode()
    assert REJECTION_TEXT in page


def test_the_rejection_form_is_not_for_the_sender(world: World, login_client: Login) -> None:
    referral = world.send()
    url = reverse("coordination:referral_reject", args=[referral.pk])
    assert login_client(world.user("owner_handlaggare")).get(url).status_code == 403


def test_the_rejection_form_of_a_closed_referral_says_why(world: World, login_client: Login) -> None:
    referral = world.send()
    do_revoke_referral(referral, acting_user=world.user("owner_handlaggare"))
    response = login_client(world.user("receiver_handlaggare")).get(
        reverse("coordination:referral_reject", args=[referral.pk])
    )
    assert response.status_code == 302
    assert texts_of(response) == ["Förfrågan har status Återkallad och kan inte avvisas."]


# --- The inbox and the sent list --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", RECEIVERS)
def test_the_inbox_lists_referrals_to_the_users_agency(
    world: World, login_client: Login, persona: str
) -> None:
    referral = world.send()
    content = login_client(world.user(persona)).get(INBOX).content.decode()
    assert world.case.reference in content
    assert detail_url(referral) in content
    assert "Socialtjänsten vuxen" in content
    # A list decrypts nothing.
    assert REQUEST_TEXT not in content
    assert not AuditEvent.objects.filter(action="referral.read").exists()


def test_the_inbox_puts_open_referrals_first(world: World, login_client: Login) -> None:
    closed = world.send()
    do_revoke_referral(closed, acting_user=world.user("owner_handlaggare"))
    newer_closed = world.send()
    do_revoke_referral(newer_closed, acting_user=world.user("owner_handlaggare"))
    still_open = world.send()
    # The open one is older than a closed one: by sending time alone it would not come first.
    Referral.objects.filter(pk=closed.pk).update(sent_at=still_open.sent_at.replace(year=2000))
    Referral.objects.filter(pk=still_open.pk).update(sent_at=still_open.sent_at.replace(year=2001))
    Referral.objects.filter(pk=newer_closed.pk).update(sent_at=still_open.sent_at.replace(year=2002))
    content = login_client(world.user("receiver_handlaggare")).get(INBOX).content.decode()
    positions = [content.index(detail_url(r)) for r in (still_open, newer_closed, closed)]
    assert positions == sorted(positions)


@pytest.mark.parametrize("persona", SENDERS + ("third_handlaggare", "emergency_reader"))
def test_the_inbox_of_other_agencies_shows_nothing_of_it(
    world: World, login_client: Login, persona: str
) -> None:
    world.send()
    response = login_client(world.user(persona)).get(INBOX)
    assert response.status_code == 200
    assert world.case.reference not in response.content.decode()


@pytest.mark.parametrize("persona", NO_CASEWORK)
def test_the_referral_lists_do_not_exist_without_casework(
    world: World, login_client: Login, persona: str
) -> None:
    world.send()
    client = login_client(world.user(persona))
    assert client.get(INBOX).status_code == 404
    assert client.get(SENT).status_code == 404


@pytest.mark.parametrize("persona", SENDERS)
def test_the_sent_list_shows_the_sending_agencys_referrals(
    world: World, login_client: Login, persona: str
) -> None:
    referral = world.send()
    content = login_client(world.user(persona)).get(SENT).content.decode()
    assert detail_url(referral) in content
    assert "Polisen" in content


@pytest.mark.parametrize("persona", RECEIVERS + ("third_handlaggare", "emergency_reader"))
def test_the_sent_list_of_other_agencies_shows_nothing_of_it(
    world: World, login_client: Login, persona: str
) -> None:
    world.send()
    content = login_client(world.user(persona)).get(SENT).content.decode()
    assert world.case.reference not in content


def test_the_inbox_runs_a_fixed_number_of_queries(
    world: World, login_client: Login, django_assert_max_num_queries: Callable[..., object]
) -> None:
    from tests.factories import open_case

    client = login_client(world.user("receiver_handlaggare"))
    world.send()
    client.get(INBOX)  # warm the session and the caches
    with django_assert_max_num_queries(11) as few:
        client.get(INBOX)
    for number in range(5):
        other = open_case(world.membership("owner_handlaggare"), identity_number=f"19811218{number:04d}")
        world.case = other
        from cases.sharing import do_disclose_case

        do_disclose_case(
            other,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            recipient=world.receiver,
            legal_basis="osl_10_2",
            categories=["sammanfattning"],
            justification="Behövs.",
        )
        world.send()
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get(INBOX)
    assert response.content.decode().count("Förfrågan om VR-") == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_case_section_lists_the_cases_referrals_and_offers_sending_to_the_owner(world: World) -> None:
    from django.template.loader import render_to_string

    from cases.permissions import case_access
    from coordination.referrals import case_referrals

    referral = world.send()
    for persona, can_send in (("owner_handlaggare", True), ("receiver_handlaggare", False)):
        access = case_access(world.user(persona), world.case)
        assert access is not None
        html = render_to_string(
            "coordination/referrals/_case_section.html",
            {"case": world.case, "referrals": case_referrals(access), "can_send": access.can_write},
        )
        assert detail_url(referral) in html
        assert "Från Socialtjänsten vuxen till Polisen" in html
        send = reverse("coordination:referral_send", args=[world.case.reference])
        assert (send in html) is can_send
        assert REQUEST_TEXT not in html
