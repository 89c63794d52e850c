"""The case's coordination page brings the parts together: the action plan, the referrals the reader may
see (with the send link for the owning agency only) and the summary-PDF link (never by emergency access)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from access.models import User
from cases.sharing import do_request_emergency_access
from tests.coordination.referral_world import World, build_world
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]


_shared_world_once, world = shared_world(build_world)


def page(world: World, login_client: Login, persona: str) -> str:
    response = login_client(world.user(persona)).get(
        reverse("coordination:case_coordination", args=[world.case.reference])
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_sees_referrals_the_send_link_and_the_pdf_link(world: World, login_client: Login) -> None:
    referral = world.send()
    body = page(world, login_client, "owner_samordnare")
    assert reverse("coordination:referral_detail", args=[referral.pk]) in body
    assert reverse("coordination:referral_send", args=[world.case.reference]) in body
    assert reverse("coordination:case_summary_pdf", args=[world.case.reference]) in body


def test_the_receiving_agency_sees_its_referral_but_may_not_send(world: World, login_client: Login) -> None:
    referral = world.send()
    body = page(world, login_client, "receiver_handlaggare")
    assert reverse("coordination:referral_detail", args=[referral.pk]) in body
    assert reverse("coordination:referral_send", args=[world.case.reference]) not in body


def test_emergency_access_shows_no_referral_and_no_pdf_link(world: World, login_client: Login) -> None:
    referral = world.send()
    user = world.user("third_handlaggare")
    do_request_emergency_access(
        world.case, acting_user=user, membership=user.memberships.get(), reason="Akut fara i natt."
    )
    body = page(world, login_client, "third_handlaggare")
    assert reverse("coordination:referral_detail", args=[referral.pk]) not in body
    assert reverse("coordination:case_summary_pdf", args=[world.case.reference]) not in body
