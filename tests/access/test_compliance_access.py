"""Who may use the granskare's pages: granskare only, everyone else 403, anonymous to the login; and
the way in from the main menu and the start page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from access.models import Agency, AuditEvent, Role, User
from tests.access.compliance_events import make_event
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("compliance:start"),
    reverse("compliance:search"),
    reverse("compliance:case_history", args=["VR-AAAA-11"]),
    reverse("compliance:user_activity", args=["handlaggare"]),
    reverse("compliance:anomalies"),
]
EXPORT = reverse("compliance:export")
EXPORT_DATA = {"format": "csv", "grund": "egenkontroll"}
NOT_AUDITORS = ["handlaggare", "samordnare", "chef", "systemadministrator"]


@pytest.mark.parametrize("path", [*PAGES, EXPORT])
def test_it_sends_anonymous_visitors_to_the_login(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("persona", NOT_AUDITORS)
@pytest.mark.parametrize("path", PAGES)
def test_it_refuses_every_other_role(
    persona: str, path: str, request: pytest.FixtureRequest, login_client
) -> None:
    make_event(reference="VR-LEAK-99", username="handlaggare")
    user: User = request.getfixturevalue(persona)
    response = login_client(user).get(path)
    assert response.status_code == 403
    assert "Åtkomst nekad" in response.content.decode()
    assert "VR-LEAK-99" not in response.content.decode()


@pytest.mark.parametrize("persona", NOT_AUDITORS)
def test_it_refuses_an_export_to_every_other_role(
    persona: str, request: pytest.FixtureRequest, login_client
) -> None:
    make_event(reference="VR-AAAA-11")
    user: User = request.getfixturevalue(persona)
    response = login_client(user).post(EXPORT, EXPORT_DATA)
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.export").exists()


@pytest.mark.parametrize("path", PAGES)
def test_it_lets_a_granskare_in(path: str, granskare: User, login_client) -> None:
    assert login_client(granskare).get(path).status_code == 200


def test_a_granskare_role_in_an_inactive_agency_counts_for_nothing(
    granskare: User, agency: Agency, login_client
) -> None:
    agency.is_active = False
    agency.save()
    client = login_client(granskare)
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_a_caseworker_is_let_in_only_once_granskare_somewhere(
    agency: Agency, other_agency: Agency, login_client
) -> None:
    user = UserFactory.create(username="dubbelroll")
    MembershipFactory.create(user=user, agency=other_agency, role=Role.HANDLAGGARE)
    assert login_client(user).get(reverse("compliance:search")).status_code == 403
    MembershipFactory.create(user=user, agency=agency, role=Role.GRANSKARE)
    assert login_client(user).get(reverse("compliance:search")).status_code == 200


def test_the_export_takes_only_post(granskare: User, login_client) -> None:
    assert login_client(granskare).get(EXPORT).status_code == 405


# --- The way in -----------------------------------------------------------------------------------------

MENU_LINK = f'href="{reverse("compliance:start")}"'


@pytest.mark.parametrize(
    ("persona", "has_link"),
    [("granskare", True), ("handlaggare", False), ("chef", False), ("systemadministrator", False)],
)
def test_the_menu_offers_the_review_to_granskare_only(
    persona: str, has_link: bool, request: pytest.FixtureRequest, login_client
) -> None:
    user: User = request.getfixturevalue(persona)
    body = login_client(user).get(reverse("start")).content.decode()
    assert (MENU_LINK in body) is has_link


@pytest.mark.parametrize("path", [*PAGES, reverse("cases:emergency_reviews")])
def test_the_menu_marks_every_review_page_as_current(path: str, granskare: User, login_client) -> None:
    body = login_client(granskare).get(path).content.decode()
    assert f'{MENU_LINK} aria-current="page"' in body


def test_the_start_page_leads_to_the_search_the_anomalies_and_the_emergency_reviews(
    granskare: User, login_client
) -> None:
    body = login_client(granskare).get(reverse("compliance:start")).content.decode()
    for name in ("compliance:search", "compliance:anomalies", "cases:emergency_reviews"):
        assert f'href="{reverse(name)}"' in body, name
    assert "Socialtjänsten vuxen" in body
