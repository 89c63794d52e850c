"""A search by number answers only what the searcher may already see (issue 12).

The attacker: a recipient agency's handläggare who holds a case without the identity category, or a
case whose person has a protected identity, and types numbers into both searches to learn whose case
it is. Each answer must be the one a number of no case gets: same page, same queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.choices import ProtectedIdentity
from cases.models import Case
from cases.sharing import do_disclose_case, do_request_emergency_access
from tests.factories import MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:search")
EMERGENCY_SEARCH = reverse("cases:emergency_search")
NUMBER = "198112189876"
PROTECTED_NUMBER = "197001011233"  # valid check digit, the protected person's
UNUSED_NUMBER = "191212121212"
ALL_BUT_IDENTITY = ["vald", "sammanfattning", "risk", "insatser", "barn"]


def without_csrf(body: str) -> str:
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'<input type="hidden" name="csrfmiddlewaretoken"[^>]*>', "", body)


@pytest.fixture
def recipient(other_agency: Agency) -> User:
    return MembershipFactory.create(
        user=UserFactory.create(username="polis"), agency=other_agency, role=Role.HANDLAGGARE
    ).user


def disclose(case: Case, owner: Membership, recipient: User, categories: list[str]) -> None:
    do_disclose_case(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=recipient.memberships.get().agency,
        legal_basis="osl_10_2",
        categories=categories,
        justification="Nödvändigt för att skydda personen.",
    )


@pytest.fixture
def held_without_identity(handlaggare_membership: Membership, recipient: User) -> Case:
    case = open_case(handlaggare_membership, identity_number=NUMBER)
    disclose(case, handlaggare_membership, recipient, ALL_BUT_IDENTITY)
    return case


@pytest.fixture
def protected_held_with_identity(handlaggare_membership: Membership, recipient: User) -> Case:
    case = open_case(
        handlaggare_membership,
        identity_number=PROTECTED_NUMBER,
        protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION,
    )
    disclose(case, handlaggare_membership, recipient, ["identitet", *ALL_BUT_IDENTITY])
    return case


def search(client: Client, url: str, number: str) -> tuple[str, int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"reference": "", "kind": "personnummer", "number": number})
    return without_csrf(response.content.decode()), response.status_code, len(queries)


# --- The personnummer search ---


@pytest.mark.parametrize("case_fixture", ["held_without_identity", "protected_held_with_identity"])
def test_a_number_search_answers_as_for_no_case_where_the_identity_is_not_the_searchers(
    request: pytest.FixtureRequest, case_fixture: str, recipient: User, login_client
) -> None:
    case: Case = request.getfixturevalue(case_fixture)
    number = NUMBER if case_fixture == "held_without_identity" else PROTECTED_NUMBER
    client = login_client(recipient)
    # The recipient does hold the case: it is in their list.
    assert case.reference in client.get(reverse("cases:list")).content.decode()

    hit_body, hit_status, hit_queries = search(client, SEARCH, number)
    miss_body, miss_status, miss_queries = search(client, SEARCH, UNUSED_NUMBER)

    assert case.reference not in hit_body
    assert (hit_status, hit_body) == (miss_status, miss_body)
    assert hit_queries == miss_queries
    hit_event, miss_event = AuditEvent.objects.filter(action="case.search").order_by("id")
    assert hit_event.details == miss_event.details == {"hits": 0, "kind": "personnummer", "references": []}


def test_the_owner_and_a_recipient_with_identity_still_find_the_case(
    handlaggare: User, handlaggare_membership: Membership, recipient: User, login_client
) -> None:
    case = open_case(handlaggare_membership, identity_number=NUMBER)
    assert case.reference in search(login_client(handlaggare), SEARCH, NUMBER)[0]
    assert case.reference not in search(login_client(recipient), SEARCH, NUMBER)[0]
    disclose(case, handlaggare_membership, recipient, ["identitet"])
    assert case.reference in search(login_client(recipient), SEARCH, NUMBER)[0]


def test_the_owner_finds_its_own_protected_case_by_number(
    handlaggare: User, protected_held_with_identity: Case, login_client
) -> None:
    assert (
        protected_held_with_identity.reference
        in search(login_client(handlaggare), SEARCH, PROTECTED_NUMBER)[0]
    )


# --- The emergency search ---


def test_the_emergency_search_does_not_link_a_number_to_a_case_held_without_identity(
    held_without_identity: Case, recipient: User, login_client
) -> None:
    client = login_client(recipient)
    hit_body, hit_status, hit_queries = search(client, EMERGENCY_SEARCH, NUMBER)
    miss_body, miss_status, miss_queries = search(client, EMERGENCY_SEARCH, UNUSED_NUMBER)
    assert hit_status == miss_status == 200
    assert held_without_identity.reference not in hit_body
    assert hit_body == miss_body
    # Same cost: the withheld case is not told from a miss by the number of queries it takes.
    assert hit_queries == miss_queries
    withheld = AuditEvent.objects.filter(action="case.emergency_search").order_by("id").first()
    assert withheld is not None
    # The owner's granskare sees that the number of its case was searched, and why it was withheld.
    assert withheld.object_agency == "soc-vuxen"
    assert withheld.details == {"found": False, "kind": "personnummer", "withheld": "no_identity"}


def test_the_emergency_search_never_ties_a_protected_identity_to_a_case_by_number(
    handlaggare_membership: Membership, outsider: User, login_client
) -> None:
    case = open_case(
        handlaggare_membership,
        identity_number=PROTECTED_NUMBER,
        protected_identity=ProtectedIdentity.SECRECY_MARKING,
    )
    client = login_client(outsider)
    hit_body, _status, hit_queries = search(client, EMERGENCY_SEARCH, PROTECTED_NUMBER)
    miss_body, _status, miss_queries = search(client, EMERGENCY_SEARCH, UNUSED_NUMBER)
    assert case.reference not in hit_body and "Socialtjänsten vuxen" not in hit_body
    assert hit_body == miss_body
    assert hit_queries == miss_queries
    withheld = AuditEvent.objects.filter(action="case.emergency_search").order_by("id").first()
    assert withheld is not None and withheld.details["withheld"] == "protected"
    # By its reference (which identifies no one) the case can still be reached in an emergency.
    by_reference = client.post(
        EMERGENCY_SEARCH, {"reference": case.reference, "kind": "personnummer", "number": ""}
    )
    assert case.reference in by_reference.content.decode()


def test_an_emergency_access_holder_does_not_learn_the_number_of_a_protected_case(
    handlaggare_membership: Membership, outsider: User, login_client
) -> None:
    case = open_case(
        handlaggare_membership,
        identity_number=PROTECTED_NUMBER,
        protected_identity=ProtectedIdentity.SECRECY_MARKING,
    )
    do_request_emergency_access(
        case, acting_user=outsider, membership=outsider.memberships.get(), reason="Akut hot mot personen nu."
    )
    client = login_client(outsider)
    assert case.reference not in search(client, SEARCH, PROTECTED_NUMBER)[0]
    hit_body, _status, hit_queries = search(client, EMERGENCY_SEARCH, PROTECTED_NUMBER)
    miss_body, _status, miss_queries = search(client, EMERGENCY_SEARCH, UNUSED_NUMBER)
    assert case.reference not in hit_body
    assert (hit_body, hit_queries) == (miss_body, miss_queries)


def test_someone_without_the_case_still_finds_an_unprotected_case_by_number(
    handlaggare_membership: Membership, outsider: User, login_client
) -> None:
    case = open_case(handlaggare_membership, identity_number=NUMBER)
    body, _status, _queries = search(login_client(outsider), EMERGENCY_SEARCH, NUMBER)
    assert case.reference in body
