"""A number links to a case only for someone who may already read that case's identity.

The personnummer search matches only among the cases whose identity the searcher may read: the owning
agency's, those disclosed with the identity category (never with a protected identity), and the
searcher's own emergency accesses (again never a protected identity). Everywhere else it answers as
for a number no case has: the same page, the same audit entry and the same number of queries, so
neither the page nor its cost tells a hit outside that scope from a miss.

(The emergency search's answers are in tests/cases/test_search_scope.py.)
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.choices import InformationCategory, ProtectedIdentity
from cases.models import Case, Disclosure
from cases.sharing import do_disclose_case, do_request_emergency_access
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

SEARCH = reverse("cases:search")
EMERGENCY_SEARCH = reverse("cases:emergency_search")
EMERGENCY_REQUEST = reverse("cases:emergency_request")
NUMBER = "19811218-9876"
# Valid (Luhn) but used by no case.
UNUSED = "19121212-1212"
OTHER_NUMBER = "19850101-1236"
IDENTITY = InformationCategory.IDENTITY.value
EVERYTHING_BUT_IDENTITY = [c for c in InformationCategory.values if c != IDENTITY]
REASON = "Akut hot mot personen, polisen på plats"


def _comparable(body: str) -> str:
    """The page without what differs on every request: the CSRF token and the emergency search token."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'name="search" value="[^"]+"', "", body)


def search_token(body: str) -> str:
    """The opaque token the emergency request page carries instead of the case's reference."""
    match = re.search(r'name="search" value="([^"]+)"', body)
    assert match is not None, "the request page carries no search token"
    return match.group(1)


def disclose(case: Case, recipient: Agency, categories: list[str]) -> Disclosure:
    owner = case.agency.memberships.get(role=Role.HANDLAGGARE)
    return do_disclose_case(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=recipient,
        legal_basis="osl_10_18c",
        categories=categories,
        justification="Risk för allvarligt våld.",
    )


@pytest.fixture
def recipient(outsider: User) -> User:
    """A handläggare of the police, the agency a case is disclosed to."""
    return outsider


@pytest.fixture
def police(other_agency: Agency) -> Agency:
    return other_agency


def protected_case(membership: Membership) -> Case:
    return open_case(membership, protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION)


def number_search(client: Client, number: str = NUMBER):
    return client.post(SEARCH, {"kind": "personnummer", "number": number})


def measured(client: Client, number: str) -> tuple[int, str]:
    """(queries, comparable HTML) of one number search."""
    with CaptureQueriesContext(connection) as queries:
        response = number_search(client, number)
    assert response.status_code == 200
    return len(queries), _comparable(response.content.decode())


def assert_answered_as_a_miss(client: Client, hidden: Case) -> None:
    """The number of ``hidden`` is answered exactly as a number no case has, and so audited."""
    hit_queries, hit_body = measured(client, NUMBER)
    miss_queries, miss_body = measured(client, UNUSED)
    assert hidden.reference not in hit_body
    assert "Inget ärende hittades." in hit_body
    assert hit_body == miss_body
    assert hit_queries == miss_queries
    hit_event, miss_event = AuditEvent.objects.filter(action="case.search").order_by("id")
    assert hit_event.details == miss_event.details == {"hits": 0, "kind": "personnummer", "references": []}


# --- The personnummer search ----------------------------------------------------------------------------


def test_a_recipient_without_the_identity_category_gets_no_hit(
    case: Case, police: Agency, recipient: User, login_client
) -> None:
    disclose(case, police, EVERYTHING_BUT_IDENTITY)
    client = login_client(recipient)
    # The recipient holds the case: it is on their list and opens by reference.
    assert case.reference in client.get(reverse("cases:list")).content.decode()
    assert_answered_as_a_miss(client, case)


def test_a_recipient_of_a_protected_identity_gets_no_hit_even_with_the_identity_category(
    handlaggare_membership: Membership, police: Agency, recipient: User, login_client
) -> None:
    case = protected_case(handlaggare_membership)
    disclose(case, police, list(InformationCategory.values))
    assert_answered_as_a_miss(login_client(recipient), case)


def test_an_emergency_reader_of_a_protected_identity_gets_no_hit(
    handlaggare_membership: Membership, recipient: User, login_client
) -> None:
    case = protected_case(handlaggare_membership)
    do_request_emergency_access(
        case, acting_user=recipient, membership=recipient.memberships.get(), reason=REASON
    )
    assert_answered_as_a_miss(login_client(recipient), case)


def test_a_disclosure_with_identity_that_has_run_out_gives_no_hit_while_another_is_in_force(
    case: Case, police: Agency, recipient: User, login_client
) -> None:
    """Its grant is dropped only by the daily job; until then the disclosure itself must decide."""
    with_identity = disclose(case, police, [IDENTITY])
    disclose(case, police, ["risk"])
    Disclosure.objects.filter(pk=with_identity.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert_answered_as_a_miss(login_client(recipient), case)


def test_a_recipient_with_the_identity_category_finds_the_case(
    case: Case, police: Agency, recipient: User, login_client
) -> None:
    disclose(case, police, [IDENTITY, "risk"])
    body = number_search(login_client(recipient)).content.decode()
    assert case.reference in body
    assert AuditEvent.objects.get(action="case.search").details["references"] == [case.reference]


def test_an_emergency_reader_of_an_unprotected_identity_finds_the_case(
    case: Case, recipient: User, login_client
) -> None:
    do_request_emergency_access(
        case, acting_user=recipient, membership=recipient.memberships.get(), reason=REASON
    )
    assert case.reference in number_search(login_client(recipient)).content.decode()


def test_the_owner_finds_a_protected_identity(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = protected_case(handlaggare_membership)
    assert case.reference in number_search(login_client(handlaggare)).content.decode()


def test_only_the_cases_with_identity_are_listed_when_the_number_has_several(
    case: Case, police: Agency, recipient: User, login_client
) -> None:
    """The police's own case with the number is found; the disclosed one without identity is not."""
    own = open_case(recipient.memberships.get())
    disclose(case, police, ["risk"])
    body = number_search(login_client(recipient)).content.decode()
    assert own.reference in body
    assert case.reference not in body
    assert AuditEvent.objects.get(action="case.search").details["references"] == [own.reference]


# --- The emergency search by number ---------------------------------------------------------------------


def emergency_number_search(client: Client, number: str = NUMBER):
    return client.post(EMERGENCY_SEARCH, {"reference": "", "kind": "personnummer", "number": number})


def measured_emergency(client: Client, number: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = emergency_number_search(client, number)
    assert response.status_code == 200
    return len(queries), _comparable(response.content.decode())


@pytest.fixture
def stranger(db: None) -> User:
    """A handläggare of a third agency, which holds nothing of the case."""
    agency = AgencyFactory.create(code="skolan", name="Skolan")
    return MembershipFactory.create(user=UserFactory.create(username="skola"), agency=agency).user
