"""The way in: "Ärenden" in the main menu for caseworkers only, and the start page's own open cases,
by reference only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Membership, User
from cases.actions import do_change_status
from tests.factories import open_case

pytestmark = pytest.mark.django_db

MENU_LINK = f'href="{reverse("cases:list")}"'


@pytest.mark.parametrize(
    ("persona", "has_link"),
    [
        ("handlaggare", True),
        ("samordnare", True),
        ("chef", False),
        ("granskare", False),
        ("systemadministrator", False),
    ],
)
def test_the_menu_offers_cases_to_caseworkers_only(
    persona: str, has_link: bool, request: pytest.FixtureRequest, login_client
) -> None:
    user: User = request.getfixturevalue(persona)
    body = login_client(user).get(reverse("start")).content.decode()
    assert (MENU_LINK in body) is has_link


def test_the_menu_marks_the_case_pages_as_current(handlaggare: User, login_client) -> None:
    body = login_client(handlaggare).get(reverse("cases:list")).content.decode()
    assert f'{MENU_LINK} aria-current="page"' in body


def test_the_start_page_lists_my_open_cases_by_reference_only(
    handlaggare_membership: Membership, handlaggare: User, samordnare: User, login_client
) -> None:
    mine = open_case(handlaggare_membership, name="Startsidans Namnmarkör")
    closed = open_case(handlaggare_membership)
    do_change_status(
        closed, acting_user=handlaggare, membership=handlaggare_membership, new_status="avslutat"
    )
    colleagues = open_case(samordnare.memberships.get())
    body = login_client(handlaggare).get(reverse("start")).content.decode()
    assert f'href="{reverse("cases:detail", args=[mine.reference])}"' in body
    assert closed.reference not in body
    assert colleagues.reference not in body
    assert "Startsidans Namnmarkör" not in body
    assert "Du har inga ärenden just nu." not in body


def test_the_start_page_says_when_there_are_no_cases(handlaggare: User, login_client) -> None:
    assert "Du har inga ärenden just nu." in login_client(handlaggare).get(reverse("start")).content.decode()
