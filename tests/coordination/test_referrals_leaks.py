"""A referral never reveals a case to an agency without a disclosure in force. When the disclosure
ends after sending (revoked, consent withdrawn, expired), the receiving agency loses the referral with
the case: 404 for its page and the case, no row, reference or request in the inbox, refusals for every
transition, and a notification that leads to a 404 without naming anything on the way."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent, User
from cases.actions import CaseActionError
from cases.choices import InformationCategory, LegalBasis
from cases.models import Disclosure
from cases.sharing import do_disclose_case, expire_disclosures
from coordination.models import Referral, ReferralStatus
from coordination.referrals import (
    DisclosureTerms,
    do_accept_referral,
    do_complete_referral,
    do_reject_referral,
    do_send_referral,
    received_referrals,
    referral_access,
)
from tests.coordination.referral_world import PERSON_NAME, RECEIVERS, REQUEST_TEXT, World, build_world
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]
INBOX = reverse("coordination:referral_inbox")
NOTIFICATIONS = reverse("coordination:notifications")


_shared_world_once, world = shared_world(build_world)


def _end_by_revocation(world: World) -> None:
    world.end_disclosure()


def _end_by_expiry(world: World) -> None:
    # Access ends at midnight after valid_until, before any job records it.
    Disclosure.objects.filter(pk=world.disclosure.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )


def _end_by_expiry_recorded(world: World) -> None:
    _end_by_expiry(world)
    assert expire_disclosures() == 1


ENDINGS = {
    "revoked": _end_by_revocation,
    "expired": _end_by_expiry,
    "expired-and-recorded": _end_by_expiry_recorded,
}


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("persona", RECEIVERS)
@pytest.mark.parametrize("status", [ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.DONE])
def test_after_the_disclosure_ends_the_receiving_agency_sees_nothing(
    world: World, login_client: Login, ending: str, persona: str, status: str
) -> None:
    referral = world.send()
    receiver = world.user("receiver_handlaggare")
    if status != ReferralStatus.SENT:
        do_accept_referral(referral, acting_user=receiver)
    if status == ReferralStatus.DONE:
        do_complete_referral(referral, acting_user=receiver)
    ENDINGS[ending](world)
    client = login_client(world.user(persona))
    detail = client.get(reverse("coordination:referral_detail", args=[referral.pk]))
    assert detail.status_code == 404, "the referral's page is still shown without a disclosure"
    assert REQUEST_TEXT not in detail.content.decode()
    assert client.get(reverse("cases:detail", args=[world.case.reference])).status_code == 404
    inbox = client.get(INBOX).content.decode()
    for leaked in (world.case.reference, REQUEST_TEXT, PERSON_NAME, str(referral.pk)):
        assert leaked not in inbox, f"the inbox shows {leaked!r} after the disclosure ended"
    assert "1 förfrågan visas inte längre" in inbox
    assert not AuditEvent.objects.filter(action="referral.read", actor=world.user(persona)).exists()


@pytest.mark.parametrize("ending", ENDINGS)
def test_after_the_disclosure_ends_the_receiving_agency_cannot_answer(world: World, ending: str) -> None:
    referral = world.send()
    ENDINGS[ending](world)
    receiver = world.user("receiver_samordnare")
    assert referral_access(receiver, referral) is None
    assert list(received_referrals(receiver)) == []
    for answer in (
        lambda: do_accept_referral(referral, acting_user=receiver),
        lambda: do_reject_referral(referral, acting_user=receiver, reason="Nej."),
        lambda: do_complete_referral(referral, acting_user=receiver),
    ):
        with pytest.raises(CaseActionError):
            answer()
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


@pytest.mark.parametrize("ending", ENDINGS)
def test_after_the_disclosure_ends_the_views_refuse_with_404(
    world: World, login_client: Login, ending: str
) -> None:
    referral = world.send()
    ENDINGS[ending](world)
    client = login_client(world.user("receiver_handlaggare"))
    for name in ("referral_accept", "referral_reject", "referral_complete"):
        response = client.post(reverse(f"coordination:{name}", args=[referral.pk]), {"reason": "Nej."})
        assert response.status_code == 404, name
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.SENT


def test_the_notification_outlives_the_access_but_leads_to_a_404(world: World, login_client: Login) -> None:
    referral = world.send()
    world.end_disclosure()
    client = login_client(world.user("receiver_handlaggare"))
    page = client.get(NOTIFICATIONS).content.decode()
    assert "Ny förfrågan om samverkan" in page
    for leaked in (world.case.reference, REQUEST_TEXT, PERSON_NAME, "Socialtjänsten vuxen"):
        assert leaked not in page, f"the notification list shows {leaked!r}"
    target = reverse("coordination:referral_detail", args=[referral.pk])
    assert client.get(target).status_code == 404


def test_the_sending_agency_still_sees_and_may_revoke(world: World, login_client: Login) -> None:
    referral = world.send()
    world.end_disclosure()
    client = login_client(world.user("owner_handlaggare"))
    assert (
        REQUEST_TEXT
        in client.get(reverse("coordination:referral_detail", args=[referral.pk])).content.decode()
    )
    response = client.post(reverse("coordination:referral_revoke", args=[referral.pk]))
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.REVOKED


def test_a_new_disclosure_brings_the_referral_back(world: World, login_client: Login) -> None:
    """Access follows what is in force now, not the disclosure the referral was sent with."""
    referral = world.send()
    world.end_disclosure()
    do_disclose_case(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        recipient=world.receiver,
        legal_basis=LegalBasis.NECESSARY,
        categories=[InformationCategory.RISK],
        justification="Nytt beslut.",
    )
    client = login_client(world.user("receiver_handlaggare"))
    assert client.get(reverse("coordination:referral_detail", args=[referral.pk])).status_code == 200
    assert world.case.reference in client.get(INBOX).content.decode()


def test_a_disclosure_to_another_agency_gives_the_receiver_nothing(world: World) -> None:
    """The third agency's disclosure does not let the police see a referral the police lost."""
    referral = world.send()
    world.end_disclosure()
    do_send_referral(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        recipient=world.third,
        request_text="Stöd till personen.",
        disclosure_terms=DisclosureTerms(
            legal_basis=LegalBasis.NECESSARY,
            categories=[InformationCategory.SUMMARY],
            justification="Jouren behöver veta.",
        ),
    )
    assert referral_access(world.user("receiver_handlaggare"), referral) is None
    assert referral_access(world.user("third_handlaggare"), referral) is None


def test_emergency_access_never_reaches_a_referral(world: World, login_client: Login) -> None:
    """A receiving-agency caseworker who breaks the glass after the disclosure ended reads the case
    (read-only, reviewed), but not the referral."""
    from cases.sharing import do_request_emergency_access

    referral = world.send()
    world.end_disclosure()
    user = world.user("receiver_handlaggare")
    do_request_emergency_access(
        world.case,
        acting_user=user,
        membership=world.membership("receiver_handlaggare"),
        reason="Akut fara för personen i natt.",
    )
    client = login_client(user)
    assert client.get(reverse("cases:detail", args=[world.case.reference])).status_code == 200
    assert client.get(reverse("coordination:referral_detail", args=[referral.pk])).status_code == 404
    assert world.case.reference not in client.get(INBOX).content.decode()
    with pytest.raises(CaseActionError):
        do_accept_referral(referral, acting_user=user)


def test_the_start_page_shows_no_referral_through_emergency_access(world: World, login_client: Login) -> None:
    """The start page's incoming referrals follow the inbox's rule, not the case's: emergency access to
    the case after the disclosure ended shows the case, never the referral or its sender."""
    from cases.sharing import do_request_emergency_access

    world.send()
    user = world.user("receiver_handlaggare")
    start = login_client(user).get(reverse("start")).content.decode()
    assert world.case.reference in start, "while the disclosure is in force the referral is on the start page"
    world.end_disclosure()
    do_request_emergency_access(
        world.case,
        acting_user=user,
        membership=world.membership("receiver_handlaggare"),
        reason="Akut fara för personen i natt.",
    )
    start = login_client(user).get(reverse("start")).content.decode()
    assert world.case.reference not in start


def test_an_existing_referral_outside_the_scope_costs_what_a_random_id_costs(world: World) -> None:
    """A timing oracle: the referral fetch must not do more work for an existing id it then refuses."""
    import uuid

    from django.db import connection
    from django.http import Http404
    from django.test.utils import CaptureQueriesContext

    from coordination.referrals import access_referral

    referral = world.send()
    outsider = world.user("third_handlaggare")
    costs = []
    for referral_id in (referral.pk, uuid.uuid4()):
        with CaptureQueriesContext(connection) as queries, pytest.raises(Http404):
            access_referral(outsider, referral_id)
        costs.append([query["sql"].replace(str(referral_id).replace("-", ""), "ID") for query in queries])
    assert len(costs[0]) == len(costs[1])
    assert [len(sql) for sql in costs[0]] == [len(sql) for sql in costs[1]]
    # The sending and receiving agencies still open it.
    for name in ("owner_handlaggare", "receiver_handlaggare"):
        assert access_referral(world.user(name), referral.pk).referral.pk == referral.pk
