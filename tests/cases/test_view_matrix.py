"""The permission matrix of every case view, generated from one table.

Rows are views (every URL of the cases app must have one, or the first test fails), columns are
personas: the owning agency's roles, a recipient agency with every category, a recipient with risk
only, an unrelated agency, a user with emergency access, and an anonymous visitor. Each cell is the
status code the persona must get.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from access.models import Role, User
from cases.models import Case
from cases.sharing import do_disclose_case, do_request_emergency_access
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

PERSONAS = (
    "owner_handlaggare",
    "owner_samordnare",
    "owner_chef",
    "owner_granskare",
    "owner_admin",
    "recipient_all",
    "recipient_risk",
    "outsider",
    "emergency",
    "anonymous",
)

# Expected answers, one string per view in PERSONAS order. 2 = 200, 3 = 302 (redirect: done, or to
# login for anonymous), 4 = 404, F = 403.
#                                   oh os oc og oa ra rr ou em an
MATRIX: dict[str, tuple[str, str, str]] = {
    # name: (method, expected codes, what the row is about)
    "detail": ("get", "2 2 4 4 4 2 2 4 2 3", "read, filtered by category"),
    "person": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "classification": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "risk_assessment_add": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "protective_measure_add": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "incident_add": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "summary": ("get", "2 2 4 4 4 F F 4 F 3", "owner writes"),
    "summary_history": ("get", "2 2 4 4 4 2 F 4 2 3", "needs the summary category"),
    "contribution": ("get", "2 2 4 4 4 2 2 4 F 3", "each agency writes its own"),
    "status": ("post", "3 3 4 4 4 F F 4 F 3", "owner writes"),
    "legal_hold": ("post", "3 3 4 4 4 F F 4 F 3", "owner writes"),
    "disclosures": ("get", "2 2 4 4 4 F F 4 F 3", "owner only"),
    "disclose": ("get", "2 2 4 4 4 F F 4 F 3", "owner only"),
    "end_disclosure": ("get", "2 2 4 4 4 F F 4 F 3", "owner only"),
    "list": ("get", "2 2 4 4 4 2 2 2 2 3", "caseworkers only"),
    "create": ("get", "2 2 4 4 4 2 2 2 2 3", "caseworkers only"),
    "search": ("post", "2 2 4 4 4 2 2 2 2 3", "caseworkers only"),
    # The reference box: to the case for whoever reaches it, "not found" on the list for the outsider.
    "open_reference": ("post", "3 3 4 4 4 3 3 2 3 3", "caseworkers only"),
    "emergency_search": ("get", "2 2 F F F 2 2 2 2 3", "caseworkers only"),
    "emergency_request": ("post", "3 3 F F F 3 3 3 3 3", "only after a search: back to the search"),
    "emergency_reviews": ("get", "F F F 2 F F F F F 3", "granskare only"),
    "emergency_review": ("get", "F F F 2 F F F F F 3", "granskare only"),
}
CODES = {"2": 200, "3": 302, "4": 404, "F": 403}
POST_DATA = {
    "status": {"status": "bevakning"},
    "legal_hold": {"hold": "ja"},
    "search": {"kind": "personnummer", "number": "19811218-9876"},
    "emergency_request": {"reason": "Akut hotbild mot personen i natt."},
}


@dataclass
class World:
    case: Case
    users: dict[str, User]
    disclosure_id: str
    emergency_id: str


def _user(agency, role: str, name: str) -> User:
    return MembershipFactory.create(user=UserFactory.create(username=name), agency=agency, role=role).user


def build_world() -> World:
    handlaggare_membership = MembershipFactory.create(
        user=UserFactory.create(username="handlaggare"),
        agency=AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen"),
        role=Role.HANDLAGGARE,
    )
    owner = handlaggare_membership.agency
    case = open_case(handlaggare_membership)
    users = {"owner_handlaggare": handlaggare_membership.user}
    for persona, role in (
        ("owner_samordnare", Role.SAMORDNARE),
        ("owner_chef", Role.CHEF),
        ("owner_granskare", Role.GRANSKARE),
        ("owner_admin", Role.SYSTEMADMINISTRATOR),
    ):
        users[persona] = _user(owner, role, persona)
    for persona in ("recipient_all", "recipient_risk", "outsider", "emergency"):
        users[persona] = _user(AgencyFactory.create(), Role.HANDLAGGARE, persona)
    kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
    everything = do_disclose_case(
        case,
        recipient=users["recipient_all"].memberships.get().agency,
        legal_basis="osl_10_2",
        categories=["identitet", "vald", "sammanfattning", "risk", "insatser", "barn"],
        justification="Nödvändigt för att skydda personen.",
        **kwargs,
    )
    do_disclose_case(
        case,
        recipient=users["recipient_risk"].memberships.get().agency,
        legal_basis="samtycke",
        categories=["risk"],
        justification="Personen har samtyckt.",
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        **kwargs,
    )
    emergency_membership = users["emergency"].memberships.get()
    access = do_request_emergency_access(
        case,
        acting_user=users["emergency"],
        membership=emergency_membership,
        reason="Akut hotbild mot personen i natt.",
    )
    return World(case, users, str(everything.pk), str(access.pk))


_shared_world_once, world = shared_world(build_world)


def _url(name: str, world: World) -> str:
    if name in (
        "list",
        "create",
        "search",
        "open_reference",
        "emergency_search",
        "emergency_request",
        "emergency_reviews",
    ):
        return reverse(f"cases:{name}")
    if name == "emergency_review":
        return reverse("cases:emergency_review", args=[world.emergency_id])
    if name == "end_disclosure":
        return reverse("cases:end_disclosure", args=[world.case.reference, world.disclosure_id])
    return reverse(f"cases:{name}", args=[world.case.reference])


def test_every_case_url_has_a_row_in_the_matrix() -> None:
    names = {pattern.name for pattern in get_resolver().namespace_dict["cases"][1].url_patterns}
    assert names == set(MATRIX), (
        f"views without a row: {names - set(MATRIX)}; rows without a view: {set(MATRIX) - names}"
    )


CELLS = [(view, index, persona) for view in MATRIX for index, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("view", "index", "persona"), CELLS, ids=[f"{view}-{persona}" for view, _i, persona in CELLS]
)
def test_each_persona_gets_the_expected_answer(
    view: str, index: int, persona: str, world: World, login_client
) -> None:
    method, codes, about = MATRIX[view]
    expected = CODES[codes.split()[index]]
    client = Client() if persona == "anonymous" else login_client(world.users[persona])
    data = {"referens": world.case.reference} if view == "open_reference" else POST_DATA.get(view, {})
    response = getattr(client, method)(_url(view, world), data)
    assert response.status_code == expected, (
        f"{persona} on {view} ({about}): {response.status_code}, expected {expected}"
    )
    if expected == 302:
        # Anonymous visitors go to the login page; everyone else was redirected by the view itself.
        goes_to_login = response["Location"].startswith(reverse("access:login"))
        assert goes_to_login == (persona == "anonymous"), (
            f"{persona} on {view} redirected to {response['Location']}"
        )
