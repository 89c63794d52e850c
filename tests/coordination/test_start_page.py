"""The start page shows one section per role the user holds, and nothing of other roles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import Role, User
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SECTIONS = {
    "handlaggare": 'data-role-section="handlaggare"',
    "samordnare": 'data-role-section="samordnare"',
    "chef": 'data-role-section="chef"',
    "granskare": 'data-role-section="granskare"',
    "systemadministrator": 'data-role-section="systemadministrator"',
}

EXPECTED = {
    "handlaggare": {"handlaggare"},
    "samordnare": {"handlaggare", "samordnare"},
    "chef": {"chef"},
    "granskare": {"granskare"},
    "systemadministrator": {"systemadministrator"},
}


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_each_role_sees_its_own_sections_only(
    persona: str, request: pytest.FixtureRequest, login_client
) -> None:
    user: User = request.getfixturevalue(persona)
    body = login_client(user).get(reverse("start")).content.decode()
    shown = {name for name, marker in SECTIONS.items() if marker in body}
    assert shown == EXPECTED[persona]


def test_a_user_with_roles_in_two_agencies_sees_both(login_client) -> None:
    user = UserFactory(username="dubbel")
    MembershipFactory(user=user, agency=AgencyFactory(name="Socialtjänsten barn"), role=Role.HANDLAGGARE)
    MembershipFactory(user=user, agency=AgencyFactory(name="Socialtjänsten vuxen"), role=Role.CHEF)
    body = login_client(user).get(reverse("start")).content.decode()
    assert "Socialtjänsten barn" in body
    assert "Socialtjänsten vuxen" in body
    assert SECTIONS["handlaggare"] in body
    assert SECTIONS["chef"] in body


def test_a_user_without_a_role_is_told_to_contact_the_administrator(login_client) -> None:
    body = login_client(UserFactory()).get(reverse("start")).content.decode()
    assert "Du har ingen roll i någon myndighet" in body
    assert not any(marker in body for marker in SECTIONS.values())


def test_memberships_of_an_inactive_agency_give_no_role(login_client) -> None:
    membership = MembershipFactory(agency=AgencyFactory(is_active=False), role=Role.CHEF)
    body = login_client(membership.user).get(reverse("start")).content.decode()
    assert SECTIONS["chef"] not in body
