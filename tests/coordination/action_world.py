"""One small world for the action-plan and start-page tests.

The case is owned by the social services ("owner"). The police ("police") and a women's shelter
("shelter") received disclosures that include protective measures (MEASURES), so both see the plan and
may own actions; a school ("school") received one without MEASURES and sees the case but not its plan;
a health-care caseworker reads the case through emergency access; chef, granskare and
systemadministratör of the owning agency never reach it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from access.models import Agency, AgencyKind, Membership, Role, User
from cases.choices import InformationCategory, LegalBasis
from cases.models import Case, Disclosure
from cases.sharing import do_disclose_case, do_request_emergency_access
from coordination.action_plan import do_add_action
from coordination.models import Action
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

DESCRIPTION = "ZZDESCRIPTION Följ med till tingsrätten och ordna skyddat boende"
PERSON_NAME = "ZZNAME Testperson"
ALL_BUT_MEASURES = [c for c in InformationCategory.values if c != InformationCategory.MEASURES]

# Persona → (agency key, role). Every persona is the only user with that name in the world.
PERSONAS: dict[str, tuple[str, str]] = {
    "owner_handlaggare": ("owner", Role.HANDLAGGARE),
    "owner_samordnare": ("owner", Role.SAMORDNARE),
    "owner_chef": ("owner", Role.CHEF),
    "owner_granskare": ("owner", Role.GRANSKARE),
    "owner_systemadministrator": ("owner", Role.SYSTEMADMINISTRATOR),
    "police_handlaggare": ("police", Role.HANDLAGGARE),
    "police_samordnare": ("police", Role.SAMORDNARE),
    "police_chef": ("police", Role.CHEF),
    "shelter_handlaggare": ("shelter", Role.HANDLAGGARE),
    "school_handlaggare": ("school", Role.HANDLAGGARE),
    "health_handlaggare": ("health", Role.HANDLAGGARE),
}


@dataclass
class World:
    agencies: dict[str, Agency]
    users: dict[str, User]
    memberships: dict[str, Membership]
    case: Case
    disclosures: dict[str, Disclosure] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]

    def membership(self, name: str) -> Membership:
        return self.memberships[name]

    def agency(self, name: str) -> Agency:
        return self.agencies[name]

    def add(
        self,
        *,
        by: str = "owner_handlaggare",
        owner: str = "police_handlaggare",
        agency: str | None = None,
        due_in: int = 7,
        description: str = DESCRIPTION,
        case: Case | None = None,
    ) -> Action:
        """An action added through the real action, owned by ``owner`` for their agency."""
        return do_add_action(
            case or self.case,
            acting_user=self.user(by),
            membership=self.membership(by),
            agency=self.agency(agency or PERSONAS[owner][0]),
            owner=self.user(owner),
            due_on=timezone.localdate() + datetime.timedelta(days=due_in),
            description=description,
        )

    def disclose(self, to: str, categories: list[str], case: Case | None = None) -> Disclosure:
        disclosure = do_disclose_case(
            case or self.case,
            acting_user=self.user("owner_handlaggare"),
            membership=self.membership("owner_handlaggare"),
            recipient=self.agency(to),
            legal_basis=LegalBasis.NECESSARY,
            categories=categories,
            justification="Nödvändigt för att genomföra skyddsinsatserna.",
        )
        self.disclosures[to] = disclosure
        return disclosure


def make_overdue(action: Action, days: int = 3) -> Action:
    """As if the due date had passed (an action cannot be added with a past due date)."""
    Action.objects.filter(pk=action.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=days))
    action.refresh_from_db()
    return action


def build_world() -> World:
    agencies = {
        "owner": AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen"),
        "police": AgencyFactory.create(code="polisen", name="Polisen", kind=AgencyKind.POLICE),
        "shelter": AgencyFactory.create(code="kvinnojouren", name="Kvinnojouren", kind=AgencyKind.NON_PROFIT),
        "school": AgencyFactory.create(code="skolan", name="Skolan", kind=AgencyKind.SCHOOL),
        "health": AgencyFactory.create(code="regionen", name="Regionen", kind=AgencyKind.HEALTH_CARE),
    }
    users: dict[str, User] = {}
    memberships: dict[str, Membership] = {}
    for persona, (agency, role) in PERSONAS.items():
        membership = MembershipFactory.create(
            user=UserFactory.create(username=persona, first_name=persona, last_name="Testsson"),
            agency=agencies[agency],
            role=role,
        )
        users[persona] = membership.user
        memberships[persona] = membership
    case = open_case(memberships["owner_handlaggare"], name=PERSON_NAME)
    world = World(agencies=agencies, users=users, memberships=memberships, case=case)
    world.disclose("police", [InformationCategory.MEASURES, InformationCategory.RISK])
    world.disclose("shelter", [InformationCategory.MEASURES])
    world.disclose("school", ALL_BUT_MEASURES)
    do_request_emergency_access(
        case,
        acting_user=users["health_handlaggare"],
        membership=memberships["health_handlaggare"],
        reason="Personen har sökt akutvård och uppger hot om våld.",
    )
    return world
