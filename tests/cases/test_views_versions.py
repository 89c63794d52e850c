"""Concurrent edits of the summary and of a contribution: the second save is detected, the user's text
is kept, the newer version is shown beside it, and no version is ever lost."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from access.models import Membership, Role, User
from cases.models import Case, ContributionVersion, SummaryVersion
from cases.reading import read_summary_history
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

STALE_MESSAGE = "Någon annan har sparat en ny version (version 1) medan du skrev."


@pytest.fixture
def colleague(handlaggare_membership: Membership) -> User:
    """A second handläggare of the same agency, editing at the same time."""
    user = UserFactory.create(username="kollega")
    MembershipFactory.create(user=user, agency=handlaggare_membership.agency, role=Role.HANDLAGGARE)
    return user


def based_on(body: str) -> str:
    match = re.search(r'<input type="hidden" name="based_on" value="(\d+)"', body)
    assert match is not None, "the form carries no based_on version"
    return match.group(1)


def textarea(body: str) -> str:
    match = re.search(r'<textarea name="text"[^>]*>\n?(.*?)</textarea>', body, re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("page", ["summary", "contribution"])
def test_two_saves_from_the_same_version_lose_nothing(
    page: str, case: Case, handlaggare: User, colleague: User, login_client
) -> None:
    url = reverse(f"cases:{page}", args=[case.reference])
    mine, theirs = login_client(handlaggare), login_client(colleague)
    assert based_on(mine.get(url).content.decode()) == "0"
    assert based_on(theirs.get(url).content.decode()) == "0"

    assert theirs.post(url, {"text": "Kollegans text.", "based_on": "0"}).status_code == 302
    response = mine.post(url, {"text": "Min text &amp; mer.\n\nAndra stycket.", "based_on": "0"})

    body = response.content.decode()
    assert response.status_code == 200
    assert STALE_MESSAGE in body
    assert textarea(body) == "Min text &amp;amp; mer.\n\nAndra stycket."  # kept as typed, escaped once
    assert "Den senast sparade versionen (version 1)" in body
    assert "Kollegans text." in body
    assert based_on(body) == "1"
    model = SummaryVersion if page == "summary" else ContributionVersion
    assert model.objects.count() == 1

    # After comparing, saving again is a deliberate step and keeps both versions.
    assert mine.post(url, {"text": "Min text.", "based_on": based_on(body)}).status_code == 302
    assert model.objects.count() == 2
    assert sorted(model.objects.values_list("number", flat=True)) == [1, 2]


def test_the_summary_history_keeps_both_writers_text(
    case: Case, handlaggare: User, colleague: User, handlaggare_membership: Membership, login_client
) -> None:
    url = reverse("cases:summary", args=[case.reference])
    login_client(colleague).post(url, {"text": "Först.", "based_on": "0"})
    login_client(handlaggare).post(url, {"text": "Först.\n\nSedan.", "based_on": "1"})
    history = read_summary_history(case, user=handlaggare, membership=handlaggare_membership, request=None)
    assert [(number, [p.text for p in paragraphs]) for number, _a, _t, paragraphs in history] == [
        (2, ["Först.", "Sedan."]),
        (1, ["Först."]),
    ]


def test_the_summary_form_starts_from_the_current_text(case: Case, handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    url = reverse("cases:summary", args=[case.reference])
    client.post(url, {"text": "Ett.\r\n\r\nTvå.", "based_on": "0"})
    body = client.get(url).content.decode()
    assert textarea(body) == "Ett.\n\nTvå."
    assert based_on(body) == "1"


def test_an_empty_text_is_refused_in_swedish(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:summary", args=[case.reference])
    body = login_client(handlaggare).post(url, {"text": "  ", "based_on": "0"}).content.decode()
    assert "Skriv en text innan du sparar." in body
    assert not SummaryVersion.objects.exists()


def test_a_contribution_is_the_acting_agencys_own(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:contribution", args=[case.reference])
    client = login_client(handlaggare)
    assert "Bidrag från Socialtjänsten vuxen" in client.get(url).content.decode()
    client.post(url, {"text": "Vi har haft två samtal.", "based_on": "0"})
    version = ContributionVersion.objects.get()
    assert version.agency == case.agency
    assert version.author == handlaggare
