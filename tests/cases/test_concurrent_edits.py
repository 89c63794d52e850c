"""Two people edit the same person details or classification at once: the second save is refused
instead of silently overwriting the first, what the second typed stays in the form, and saving again
after that is a deliberate overwrite. (Summaries, contributions and minutes had this already.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from access.models import Membership, Role, User
from cases.models import Case
from tests.cases.test_views_forms import new_case_data, read
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(handlaggare_membership: Membership) -> User:
    return MembershipFactory.create(agency=handlaggare_membership.agency, role=Role.HANDLAGGARE).user


def based_on(client: Client, url: str) -> str:
    found = re.search(r'name="based_on" value="([0-9a-f]+)"', client.get(url).content.decode())
    assert found, "the edit form carries what it is based on"
    return found.group(1)


def post(client: Client, url: str, token: str, **changes: Any) -> Any:
    return client.post(url, {**new_case_data(Case.objects.get().agency, **changes), "based_on": token})


def test_the_second_of_two_person_edits_is_refused_and_keeps_what_was_typed(
    case: Case, handlaggare: User, colleague: User, login_client
) -> None:
    url = reverse("cases:person", args=[case.reference])
    first, second = login_client(handlaggare), login_client(colleague)
    first_token, second_token = based_on(first, url), based_on(second, url)
    assert first_token == second_token
    assert post(first, url, first_token, name="Först Sparad").status_code == 302
    response = post(second, url, second_token, name="Sent Skriven", contact="070-999 88 77")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Någon annan har ändrat personuppgifterna medan du skrev." in body
    assert 'value="Sent Skriven"' in body and 'value="070-999 88 77"' in body
    assert read(case, handlaggare).person.name == "Först Sparad"
    # Saving again, now based on the newest save, is a deliberate overwrite.
    rebased = re.search(r'name="based_on" value="([0-9a-f]+)"', body)
    assert rebased and rebased.group(1) != second_token
    assert post(second, url, rebased.group(1), name="Sent Skriven").status_code == 302
    assert read(case, handlaggare).person.name == "Sent Skriven"


def test_the_second_of_two_classification_edits_is_refused_and_keeps_what_was_typed(
    case: Case, handlaggare: User, colleague: User, login_client
) -> None:
    url = reverse("cases:classification", args=[case.reference])
    first, second = login_client(handlaggare), login_client(colleague)
    first_token, second_token = based_on(first, url), based_on(second, url)
    assert post(first, url, first_token, contexts=["hrv"]).status_code == 302
    response = post(second, url, second_token, contexts=["vinr_narstaende"], violence_forms=["digitalt"])
    assert response.status_code == 200
    body = response.content.decode()
    assert "Någon annan har ändrat klassificeringen medan du skrev." in body
    assert re.search(r'value="digitalt"[^>]*checked', body)
    assert read(case, handlaggare).classification.contexts == ["hrv"]


def test_a_save_based_on_the_newest_version_goes_through(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:person", args=[case.reference])
    client = login_client(handlaggare)
    assert post(client, url, based_on(client, url), name="Ett").status_code == 302
    assert post(client, url, based_on(client, url), name="Två").status_code == 302
    assert read(case, handlaggare).person.name == "Två"
