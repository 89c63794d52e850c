"""Who may reach which case page: every view against every persona.

Anonymous users are sent to the login page; a handläggare of another agency gets a 404 that cannot be
told apart from a reference that does not exist; managers, auditors and administrators never reach a
case page at all; the owning agency's caseworkers get through. Changes are POST only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from access.models import AuditEvent, User
from cases.models import Case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MISSING_REFERENCE = "VR-ZZZZ-Z9"


@dataclass(frozen=True)
class Page:
    name: str
    method: str = "get"
    data: tuple[tuple[str, str], ...] = ()
    takes_reference: bool = True

    def url(self, reference: str) -> str:
        return reverse(f"cases:{self.name}", args=[reference] if self.takes_reference else [])

    def call(self, client: Client, reference: str):
        return getattr(client, self.method)(self.url(reference), dict(self.data))


CASE_PAGES = [
    Page("detail"),
    Page("person"),
    Page("classification"),
    Page("risk_assessment_add"),
    Page("protective_measure_add"),
    Page("incident_add"),
    Page("summary"),
    Page("summary_history"),
    Page("contribution"),
    Page("status", "post", (("status", "bevakning"),)),
    Page("legal_hold", "post", (("hold", "ja"),)),
    Page("disclosures"),
    Page("disclose"),
]
GENERAL_PAGES = [
    Page("list", takes_reference=False),
    Page("create", takes_reference=False),
    Page("search", "post", (("kind", "personnummer"), ("number", "19811218-9876")), takes_reference=False),
]
ALL_PAGES = CASE_PAGES + GENERAL_PAGES
POST_ONLY = [page for page in ALL_PAGES if page.method == "post"]


def _ids(pages: list[Page]) -> list[str]:
    return [page.name for page in pages]


def _comparable(body: str, reference: str) -> str:
    """The page with what legitimately differs between two requests removed: the masked CSRF token
    (new on every response) and the reference typed into the address."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return body.replace(reference, "<REFERENS>")


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids(ALL_PAGES))
def test_it_sends_anonymous_users_to_the_login_page(page: Page, case: Case) -> None:
    response = page.call(Client(), case.reference)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("page", CASE_PAGES, ids=_ids(CASE_PAGES))
def test_a_caseworker_of_another_agency_gets_the_same_404_as_for_a_missing_case(
    page: Page, case: Case, outsider: User, login_client
) -> None:
    client = login_client(outsider)
    forbidden = page.call(client, case.reference)
    missing = page.call(client, MISSING_REFERENCE)
    assert forbidden.status_code == 404
    assert missing.status_code == 404
    assert _comparable(forbidden.content.decode(), case.reference) == _comparable(
        missing.content.decode(), MISSING_REFERENCE
    )
    assert not AuditEvent.objects.filter(actor=outsider, action__startswith="case.").exists()


@pytest.mark.parametrize("persona", ["chef", "granskare", "systemadministrator"])
@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids(ALL_PAGES))
def test_managers_auditors_and_administrators_never_reach_a_case_page(
    page: Page, persona: str, case: Case, request: pytest.FixtureRequest, login_client
) -> None:
    """Same agency, but no casework role: for them the case pages do not exist."""
    user: User = request.getfixturevalue(persona)
    response = page.call(login_client(user), case.reference)
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(actor=user, action__startswith="case.").exists()


@pytest.mark.parametrize("persona", ["handlaggare", "samordnare"])
@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids(ALL_PAGES))
def test_the_owning_agencys_caseworkers_get_through(
    page: Page, persona: str, case: Case, request: pytest.FixtureRequest, login_client
) -> None:
    user: User = request.getfixturevalue(persona)
    response = page.call(login_client(user), case.reference)
    expected = 302 if page.name in {"status", "legal_hold"} else 200
    assert response.status_code == expected, response.content.decode()[:500]


@pytest.mark.parametrize("page", POST_ONLY, ids=_ids(POST_ONLY))
def test_changes_cannot_be_made_with_get(page: Page, case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).get(page.url(case.reference), dict(page.data))
    assert response.status_code == 405
    case.refresh_from_db()
    assert case.status == "oppet"
    assert case.legal_hold is False


def test_the_reference_is_found_whatever_its_letter_case(case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).get(reverse("cases:detail", args=[case.reference.lower()]))
    assert response.status_code == 200


def test_a_user_without_any_role_gets_404_on_the_list(login_client) -> None:
    assert login_client(UserFactory()).get(reverse("cases:list")).status_code == 404
