"""Nödåtkomst: an exact search (audited, without the number), a stated reason, a read-only and
time-limited view of the case, and the granskare's review queue, which never opens the case."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.choices import ProtectedIdentity
from cases.models import Case, EmergencyAccess
from cases.sharing import do_request_emergency_access
from tests.cases.test_views_sharing import MARKERS, marked_case
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:emergency_search")
REQUEST = reverse("cases:emergency_request")
REVIEWS = reverse("cases:emergency_reviews")
REASON = "ZZREASON: polisen på plats, akut hot mot personen"
BANNER = re.compile(r"Nödåtkomst – endast läsning, upphör \d\d:\d\d")


@pytest.fixture
def requester(outsider: User) -> User:
    """A handläggare of the police, who cannot otherwise see the social services' case."""
    return outsider


def emergency(case: Case, user: User, reason: str = REASON) -> EmergencyAccess:
    membership = user.memberships.get(role=Role.HANDLAGGARE)
    return do_request_emergency_access(case, acting_user=user, membership=membership, reason=reason)


def search(client: Client, **data: str) -> tuple[int, str]:
    response = client.post(SEARCH, {"reference": "", "kind": "personnummer", "number": "", **data})
    return response.status_code, response.content.decode()


def found_and_requested(client: Client, case: Case, reason: str = REASON, **extra: object):
    """Search by reference, then ask for access: the way through the pages."""
    search(client, reference=case.reference)
    return client.post(REQUEST, {"reference": case.reference, "reason": reason, **extra})


# --- Personas ---------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_the_login_page(case: Case, requester: User) -> None:
    access = emergency(case, requester)
    for url in (SEARCH, REVIEWS, reverse("cases:emergency_review", args=[access.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("access:login"))
    response = Client().post(REQUEST, {"reference": case.reference, "reason": REASON})
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("persona", ["chef", "granskare", "systemadministrator"])
def test_managers_auditors_and_administrators_may_not_use_emergency_access(
    persona: str, case: Case, request: pytest.FixtureRequest, login_client
) -> None:
    user: User = request.getfixturevalue(persona)
    client = login_client(user)
    assert client.get(SEARCH).status_code == 403
    assert client.post(SEARCH, {"reference": case.reference}).status_code == 403
    assert client.post(REQUEST, {"reference": case.reference, "reason": REASON}).status_code == 403
    assert not EmergencyAccess.objects.exists()
    assert not AuditEvent.objects.filter(actor=user, action="case.emergency_search").exists()


def test_the_request_cannot_be_made_with_get(requester: User, login_client) -> None:
    assert login_client(requester).get(REQUEST).status_code == 405


@pytest.mark.parametrize("persona", ["handlaggare", "samordnare", "chef", "systemadministrator"])
def test_only_a_granskare_reaches_the_review_queue(
    persona: str, case: Case, requester: User, request: pytest.FixtureRequest, login_client
) -> None:
    access = emergency(case, requester)
    client = login_client(request.getfixturevalue(persona))
    assert client.get(REVIEWS).status_code == 403
    assert client.get(reverse("cases:emergency_review", args=[access.pk])).status_code == 403
    assert (
        client.post(reverse("cases:emergency_review", args=[access.pk]), {"comment": "Ok"}).status_code == 403
    )
    assert EmergencyAccess.objects.get().reviewed_at is None


def test_the_review_queue_cannot_be_posted_to(granskare: User, login_client) -> None:
    assert login_client(granskare).post(REVIEWS).status_code == 405


# --- Searching ---------------------------------------------------------------------------------------------


def test_a_reference_search_shows_the_reference_only_not_the_owning_agency(
    handlaggare_membership: Membership, requester: User, login_client
) -> None:
    case = marked_case(handlaggare_membership)
    status, body = search(login_client(requester), reference=f" {case.reference.lower()} ")
    assert status == 200
    assert case.reference in body
    # The owner is named only after a reason is given: a search alone does not say where a person is known.
    assert "Socialtjänsten vuxen" not in body
    assert "Nödåtkomsten loggas och granskas." in body
    for markers in MARKERS.values():
        for marker in markers:
            assert marker not in body
    assert not EmergencyAccess.objects.exists()
    event = AuditEvent.objects.get(action="case.emergency_search")
    assert event.actor == requester
    assert event.details == {"found": True, "kind": "referens"}
    assert event.object_reference == case.reference


@pytest.mark.parametrize("spelling", ["19811218-9876", "198112189876", "811218-9876"])
def test_a_number_search_finds_the_case_and_never_records_the_number(
    spelling: str, case: Case, requester: User, login_client
) -> None:
    status, body = search(login_client(requester), number=spelling)
    assert case.reference in body
    assert spelling not in body
    event = AuditEvent.objects.get(action="case.emergency_search")
    assert event.details == {"found": True, "kind": "personnummer"}
    assert "9876" not in str(event.details) + event.reason + event.object_reference


@pytest.mark.parametrize(
    "data",
    [
        {"reference": "VR-ZZZZ-Z9"},
        {"number": "19900101-0017"},
    ],
    ids=["reference", "number"],
)
def test_nothing_found_says_so_and_is_audited(
    data: dict[str, str], case: Case, requester: User, login_client
):
    status, body = search(login_client(requester), **data)
    assert status == 200
    assert "Inget ärende hittades" in body
    assert "19900101-0017" not in body
    event = AuditEvent.objects.get(action="case.emergency_search")
    assert event.details["found"] is False
    assert event.object_reference == ""


def test_a_partial_reference_or_number_never_matches(case: Case, requester: User, login_client) -> None:
    client = login_client(requester)
    assert "Inget ärende hittades" in search(client, reference=case.reference[:-1])[1]
    status, body = search(client, number="19811218")
    assert case.reference not in body
    assert "Skriv numret som" in body


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "Skriv en ärendereferens eller ett nummer."),
        ({"reference": "VR-ZZZZ-Z9", "number": "19811218-9876"}, "inte på båda"),
    ],
)
def test_exactly_one_key_is_searched(data: dict[str, str], error: str, requester: User, login_client) -> None:
    status, body = search(login_client(requester), **data)
    assert error in body
    assert not AuditEvent.objects.filter(action="case.emergency_search").exists()


def test_a_case_the_user_can_already_see_opens_directly(case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).post(SEARCH, {"reference": case.reference, "kind": "personnummer"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    assert not EmergencyAccess.objects.exists()


# --- Requesting --------------------------------------------------------------------------------------------


def test_a_stated_reason_opens_the_case_read_only_with_a_red_banner(
    handlaggare_membership: Membership, requester: User, login_client
) -> None:
    case = marked_case(handlaggare_membership)
    client = login_client(requester)
    response = found_and_requested(client, case)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    access = EmergencyAccess.objects.get()
    assert access.user == requester
    assert access.agency.code == "polisen"
    assert b"ZZREASON" not in bytes(access.reason_sealed)
    body = client.get(response["Location"]).content.decode()
    match = BANNER.search(body)
    assert match is not None
    assert match.group(0).endswith(timezone.localtime(access.expires_at).strftime("%H:%M"))
    assert "access-banner--emergency" in body
    assert "ZZSUMMARY-text" in body
    for link in (
        "Ändra personuppgifter",
        "Ändra sammanfattningen",
        "Skriv er myndighets bidrag",
        "Ny händelse",
    ):
        assert link not in body
    event = AuditEvent.objects.filter(action="case.read", actor=requester).get()
    assert event.reason == "emergency"
    assert event.agency_code == "polisen"


def test_a_short_reason_is_refused(case: Case, requester: User, login_client) -> None:
    response = found_and_requested(login_client(requester), case, reason="Akut")
    assert response.status_code == 200
    assert "minst tio tecken" in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_a_request_must_follow_a_search_for_that_case(case: Case, requester: User, login_client) -> None:
    """Posting references straight to the request would tell their owning agencies without an audited
    search, and a second tab must not turn a reason into one for another case."""
    other = open_case(case.agency.memberships.get(role=Role.HANDLAGGARE))
    client = login_client(requester)
    response = client.post(REQUEST, {"reference": case.reference, "reason": REASON})
    assert response.status_code == 302
    assert response["Location"] == SEARCH
    search(client, reference=other.reference)
    response = client.post(REQUEST, {"reference": case.reference, "reason": REASON})
    assert response["Location"] == SEARCH
    assert not EmergencyAccess.objects.exists()


def test_a_user_in_several_agencies_chooses_which_one_asks(case: Case, login_client) -> None:
    user = UserFactory.create(username="tva-myndigheter")
    police = MembershipFactory.create(user=user, agency=AgencyFactory.create(code="p2", name="Polis 2"))
    MembershipFactory.create(user=user, agency=AgencyFactory.create(code="j2", name="Jour 2"))
    client = login_client(user)
    assert "Du begär åtkomsten som" in search(client, reference=case.reference)[1]
    response = client.post(REQUEST, {"reference": case.reference, "reason": REASON})
    assert "Välj i vilken myndighet du arbetar med ärendet." in response.content.decode()
    response = client.post(REQUEST, {"reference": case.reference, "reason": REASON, "membership": police.pk})
    assert response.status_code == 302
    assert EmergencyAccess.objects.get().agency.code == "p2"


def test_emergency_access_never_shows_a_protected_identity(
    handlaggare_membership: Membership, requester: User, login_client
) -> None:
    case = marked_case(handlaggare_membership, protected_identity=ProtectedIdentity.SECRECY_MARKING)
    emergency(case, requester)
    body = login_client(requester).get(reverse("cases:detail", args=[case.reference])).content.decode()
    for marker in MARKERS["identitet"]:
        assert marker not in body
    assert "Skyddade personuppgifter – visas bara för ägande myndighet" in body
    assert 'class="protected-banner"' in body


EVERY_CHANGE = [
    ("person", "get"),
    ("classification", "get"),
    ("risk_assessment_add", "get"),
    ("protective_measure_add", "get"),
    ("incident_add", "get"),
    ("summary", "get"),
    ("contribution", "get"),
    ("contribution", "post"),
    ("status", "post"),
    ("legal_hold", "post"),
    ("disclosures", "get"),
    ("disclose", "get"),
    ("disclose", "post"),
]


@pytest.mark.parametrize(("name", "method"), EVERY_CHANGE, ids=[f"{n}-{m}" for n, m in EVERY_CHANGE])
def test_emergency_access_is_read_only(
    name: str, method: str, case: Case, requester: User, login_client
) -> None:
    emergency(case, requester)
    client = login_client(requester)
    response = getattr(client, method)(
        reverse(f"cases:{name}", args=[case.reference]), {"text": "x", "based_on": 0, "status": "avslutat"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "oppet"
    assert not case.contribution_versions.exists()


def test_emergency_access_ends_when_it_expires(case: Case, requester: User, login_client) -> None:
    access = emergency(case, requester)
    client = login_client(requester)
    url = reverse("cases:detail", args=[case.reference])
    assert client.get(url).status_code == 200
    EmergencyAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(url).status_code == 404
    assert case.reference not in client.get(reverse("cases:list")).content.decode()


# --- Review ------------------------------------------------------------------------------------------------


def test_the_queue_lists_unreviewed_first_with_reasons_read_under_audit_and_no_case_link(
    case: Case, requester: User, granskare: User, login_client
) -> None:
    reviewed = emergency(case, requester, reason="Tidigare skäl ZZEARLIER, redan granskat")
    EmergencyAccess.objects.filter(pk=reviewed.pk).update(
        reviewed_at=timezone.now(),
        reviewed_by=granskare,
        started_at=timezone.now() + datetime.timedelta(hours=1),
    )
    waiting = emergency(case, requester)
    body = login_client(granskare).get(REVIEWS).content.decode()
    assert "1 nödåtkomst väntar på granskning." in body
    assert body.index("ZZREASON") < body.index("ZZEARLIER")
    assert reverse("cases:emergency_review", args=[waiting.pk]) in body
    assert reverse("cases:emergency_review", args=[reviewed.pk]) not in body
    assert case.reference in body
    assert reverse("cases:detail", args=[case.reference]) not in body
    assert "Testperson" not in body
    event = AuditEvent.objects.get(action="case.emergency_access.reasons.read")
    assert event.actor == granskare
    assert set(event.details["accesses"]) == {str(waiting.pk), str(reviewed.pk)}
    assert "ZZREASON" not in str(event.details)


def test_a_granskare_reviews_an_emergency_access(case: Case, requester: User, granskare: User, login_client):
    access = emergency(case, requester)
    client = login_client(granskare)
    url = reverse("cases:emergency_review", args=[access.pk])
    body = client.get(url).content.decode()
    assert "ZZREASON" in body
    assert reverse("cases:detail", args=[case.reference]) not in body
    assert "Skriv en kommentar till granskningen." in client.post(url, {"comment": " "}).content.decode()
    response = client.post(url, {"comment": "Skälet godtas ZZCOMMENT"})
    assert response.status_code == 302
    assert response["Location"] == REVIEWS
    access.refresh_from_db()
    assert access.reviewed_by == granskare
    assert access.reviewed_at is not None
    assert b"ZZCOMMENT" not in bytes(access.review_comment_sealed)
    queue = client.get(REVIEWS).content.decode()
    assert "Skälet godtas ZZCOMMENT" in queue
    assert "0 nödåtkomster väntar på granskning." in queue
    event = AuditEvent.objects.get(action="case.emergency_access.review")
    assert event.agency_code == "soc-vuxen"
    assert "ZZCOMMENT" not in str(event.details)


def test_a_granskare_sees_only_accesses_that_concern_their_agencies(
    case: Case, requester: User, login_client
) -> None:
    access = emergency(case, requester)
    elsewhere = AgencyFactory.create(code="annanstans", name="Annanstans")
    unrelated = MembershipFactory.create(
        user=UserFactory.create(username="annan-granskare"), agency=elsewhere, role=Role.GRANSKARE
    ).user
    client = login_client(unrelated)
    assert case.reference not in client.get(REVIEWS).content.decode()
    assert client.get(reverse("cases:emergency_review", args=[access.pk])).status_code == 404
    # The granskare of the agency whose staff made the access reviews it too.
    police_auditor = MembershipFactory.create(
        user=UserFactory.create(username="polis-granskare"), agency=access.agency, role=Role.GRANSKARE
    ).user
    assert case.reference in login_client(police_auditor).get(REVIEWS).content.decode()


def test_nobody_reviews_their_own_emergency_access(
    case: Case, other_agency: Agency, agency: Agency, login_client
) -> None:
    user = UserFactory.create(username="dubbel")
    MembershipFactory.create(user=user, agency=other_agency, role=Role.HANDLAGGARE)
    MembershipFactory.create(user=user, agency=agency, role=Role.GRANSKARE)
    access = emergency(case, user)
    client = login_client(user)
    url = reverse("cases:emergency_review", args=[access.pk])
    assert "En annan granskare måste granska den." in client.get(url).content.decode()
    assert client.post(url, {"comment": "Godkänner mig själv"}).status_code == 403
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_an_unknown_emergency_access_is_not_found(granskare: User, login_client) -> None:
    url = reverse("cases:emergency_review", args=["00000000-0000-0000-0000-000000000001"])
    assert login_client(granskare).get(url).status_code == 404


def test_the_start_page_and_menu_lead_the_granskare_to_the_queue(
    case: Case, requester: User, granskare: User, handlaggare: User, login_client
) -> None:
    client = login_client(granskare)
    start = client.get(reverse("start")).content.decode()
    assert "Inga nödåtkomster väntar på granskning." in start
    assert f'href="{REVIEWS}"' in start
    emergency(case, requester)
    start = client.get(reverse("start")).content.decode()
    assert "1 nödåtkomst väntar på granskning." in start
    assert case.reference not in start
    # The menu's "Granskning" leads to the granskare's start page, and is current on the queue too.
    assert f'href="{reverse("compliance:start")}" aria-current="page"' in client.get(REVIEWS).content.decode()
    assert f'href="{REVIEWS}"' not in login_client(handlaggare).get(reverse("start")).content.decode()


def test_the_queue_needs_as_many_queries_for_ten_accesses_as_for_one(
    handlaggare_membership: Membership, requester: User, granskare: User, login_client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login_client(granskare)
    emergency(open_case(handlaggare_membership), requester)
    with CaptureQueriesContext(connection) as one:
        client.get(REVIEWS)
    for _ in range(9):
        emergency(open_case(handlaggare_membership), requester)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(REVIEWS).content.decode().count("Skäl:") == 10
    assert len(ten) == len(one), [query["sql"] for query in ten.captured_queries]
