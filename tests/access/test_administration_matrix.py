"""The permission matrix of every administration view (issue 12), like the case views' matrix
(tests/cases/test_view_matrix.py): rows are views (every URL of the administration must have one),
columns are personas, each cell the status code the persona must get. A persona who is refused
changes nothing: no membership, account change or link appears, and no admin.* event is written
except the audited refusal of a change to one's own account."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from access.models import AccountChange, Agency, AuditEvent, EnrolmentLink, Membership, Role, User
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

PERSONAS = (
    "admin",  # systemadministratör, the one who granted the pending role and asked for the change
    "admin2",  # another systemadministratör: a possible second person
    "chef",  # chef of the target's agency: second person for its members' account changes
    "other_chef",  # chef of the agency where the target's role waits: second person for that grant
    "handlaggare",
    "samordnare",
    "granskare",
    "anonymous",
)

# 2 = 200, 3 = 302 (the view answered, with a message, or the login page for anonymous), F = 403.
#                                      ad a2 ch oc ha sa gr an
MATRIX: dict[str, tuple[str, str, str]] = {
    "overview": ("get", "2 2 2 2 F F F 3", "administrators and chefs (their queue)"),
    "user_create": ("get", "2 2 F F F F F 3", "administrators only"),
    "user_detail": ("get", "2 2 F F F F F 3", "administrators only"),
    "membership_grant": ("post", "3 3 F F F F F 3", "administrators only"),
    "membership_confirm": ("post", "3 3 3 3 F F F 3", "a second person (the action decides which)"),
    "membership_reject": ("post", "3 3 3 3 F F F 3", "a second person (the action decides which)"),
    "membership_end": ("post", "3 3 F F F F F 3", "administrators only"),
    "user_deactivate": ("post", "3 3 F F F F F 3", "administrators only"),
    "user_reactivate": ("post", "3 3 F F F F F 3", "administrators only"),
    "lockout_lift": ("post", "3 3 F F F F F 3", "administrators only"),
    "invitation_resend": ("post", "3 3 F F F F F 3", "administrators only"),
    "account_change_request": ("post", "3 3 F F F F F 3", "administrators only"),
    "account_change_confirm": ("post", "3 3 3 3 F F F 3", "a second person (the action decides which)"),
    "account_change_cancel": ("post", "3 3 3 3 F F F 3", "a second person (the action decides which)"),
}
CODES = {"2": 200, "3": 302, "F": 403}
MEMBERSHIP_VIEWS = ("membership_confirm", "membership_reject", "membership_end")
CHANGE_VIEWS = ("account_change_confirm", "account_change_cancel")


@dataclass
class World:
    users: dict[str, User]
    target: User
    agency: Agency
    pending: Membership
    change: AccountChange


def build_world() -> World:
    agency = AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen")
    other = AgencyFactory.create(code="polisen", name="Polisen", police=True)
    it = AgencyFactory.create(code="it", name="IT-enheten")
    users: dict[str, User] = {}
    for persona, role, where in (
        ("admin", Role.SYSTEMADMINISTRATOR, it),
        ("admin2", Role.SYSTEMADMINISTRATOR, it),
        ("chef", Role.CHEF, agency),
        ("other_chef", Role.CHEF, other),
        ("handlaggare", Role.HANDLAGGARE, agency),
        ("samordnare", Role.SAMORDNARE, agency),
        ("granskare", Role.GRANSKARE, agency),
    ):
        users[persona] = MembershipFactory.create(
            user=UserFactory.create(username=persona), agency=where, role=role
        ).user
    target = UserFactory.create(username="target", email="target@example.org")
    MembershipFactory.create(user=target, agency=agency, role=Role.HANDLAGGARE)
    # A role at the police waiting for a second person (the police chef or another administrator).
    pending = Membership.objects.create(
        user=target, agency=other, role=Role.HANDLAGGARE, granted_by=users["admin"], confirmed_at=None
    )
    change = AccountChange.objects.create(user=target, kind="login_reset", requested_by=users["admin"])
    return World(users, target, agency, pending, change)


_shared_world_once, world = shared_world(build_world)


def _url(name: str, world: World) -> str:
    if name in ("overview", "user_create"):
        return reverse(f"administration:{name}")
    if name in MEMBERSHIP_VIEWS:
        return reverse(f"administration:{name}", args=[world.pending.public_id])
    if name in CHANGE_VIEWS:
        return reverse(f"administration:{name}", args=[world.change.public_id])
    return reverse(f"administration:{name}", args=[world.target.public_id])


def _post_data(name: str, world: World) -> dict[str, object]:
    if name == "membership_grant":
        return {"agency": world.agency.pk, "role": Role.GRANSKARE}
    if name == "account_change_request":
        return {"kind": "email", "new_email": "ny.adress@example.org"}
    return {}


def _state(world: World) -> tuple[object, ...]:
    """Everything an administration view could change, as one comparable value."""
    world.target.refresh_from_db()
    return (
        world.target.is_active,
        world.target.email,
        list(
            Membership.objects.filter(user=world.target)
            .order_by("pk")
            .values_list("role", "confirmed_at", "ended_at")
        ),
        list(AccountChange.objects.order_by("pk").values_list("kind", "confirmed_at", "cancelled_at")),
        EnrolmentLink.objects.count(),
        list(AuditEvent.objects.filter(action__startswith="admin.").values_list("action", flat=True)),
    )


def test_every_administration_url_has_a_row_in_the_matrix() -> None:
    names = {pattern.name for pattern in get_resolver().namespace_dict["administration"][1].url_patterns}
    assert names == set(MATRIX), (
        f"views without a row: {names - set(MATRIX)}; rows without a view: {set(MATRIX) - names}"
    )


CELLS = [(view, index, persona) for view in MATRIX for index, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("view", "index", "persona"), CELLS, ids=[f"{view}-{persona}" for view, _i, persona in CELLS]
)
def test_each_persona_gets_the_expected_answer_and_a_refusal_changes_nothing(
    view: str, index: int, persona: str, world: World, login_client
) -> None:
    method, codes, about = MATRIX[view]
    expected = CODES[codes.split()[index]]
    client = Client() if persona == "anonymous" else login_client(world.users[persona])
    before = _state(world)
    response = getattr(client, method)(_url(view, world), _post_data(view, world))
    assert response.status_code == expected, (
        f"{persona} on {view} ({about}): {response.status_code}, expected {expected}"
    )
    if expected == 302:
        goes_to_login = response["Location"].startswith(reverse("access:login"))
        assert goes_to_login == (persona == "anonymous"), f"{persona} on {view}: {response['Location']}"
    if expected == 403 or persona == "anonymous":
        assert _state(world) == before, f"{persona} on {view} was refused but changed something"
