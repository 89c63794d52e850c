"""One small world for the referral tests: an owning agency with every role, a receiving agency with
every role, a third agency, a user with an emergency access and a user with no membership at all, one
case disclosed to the receiving agency, and helpers to send and move referrals."""

from __future__ import annotations

from dataclasses import dataclass, field

from access.models import Agency, Membership, Role, User
from cases.choices import InformationCategory, LegalBasis
from cases.models import Case, Disclosure
from cases.sharing import do_disclose_case, do_end_disclosure, do_request_emergency_access
from coordination.models import Referral, ReferralStatus
from coordination.referrals import do_send_referral
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

REQUEST_TEXT = "Hjälp oss med en skyddsbedömning inför hemgången på fredag."
REJECTION_TEXT = "Vi har ingen handläggare som kan ta detta före fredag."
PERSON_NAME = "Testperson Exempelsson"

# Who is who in the world: the persona names the tests parametrise over.
SENDERS = ("owner_handlaggare", "owner_samordnare")
RECEIVERS = ("receiver_handlaggare", "receiver_samordnare")
NOBODY = (
    "owner_chef",
    "owner_granskare",
    "owner_systemadministrator",
    "receiver_chef",
    "receiver_granskare",
    "third_handlaggare",
    "emergency_reader",
    "no_membership",
)
PERSONAS = SENDERS + RECEIVERS + NOBODY


@dataclass
class World:
    owner: Agency
    receiver: Agency
    third: Agency
    users: dict[str, User]
    case: Case
    disclosure: Disclosure
    memberships: dict[str, Membership] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return self.users[name]

    def membership(self, name: str) -> Membership:
        return self.memberships[name]

    def send(self, *, text: str = REQUEST_TEXT, by: str = "owner_handlaggare") -> Referral:
        return do_send_referral(
            self.case,
            acting_user=self.user(by),
            membership=self.membership(by),
            recipient=self.receiver,
            request_text=text,
        )

    def end_disclosure(self) -> None:
        do_end_disclosure(
            self.disclosure,
            acting_user=self.user("owner_handlaggare"),
            membership=self.membership("owner_handlaggare"),
        )


def _person(agency: Agency, role: str, username: str, email: str = "") -> Membership:
    user = UserFactory.create(username=username, email=email or f"{username}@example.org")
    return MembershipFactory.create(user=user, agency=agency, role=role)


def build_world() -> World:
    owner = AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen")
    receiver = AgencyFactory.create(code="polisen", name="Polisen", police=True)
    third = AgencyFactory.create(code="kvinnojouren", name="Kvinnojouren", womens_shelter=True)
    memberships = {
        "owner_handlaggare": _person(owner, Role.HANDLAGGARE, "agare-handlaggare"),
        "owner_samordnare": _person(owner, Role.SAMORDNARE, "agare-samordnare"),
        "owner_chef": _person(owner, Role.CHEF, "agare-chef"),
        "owner_granskare": _person(owner, Role.GRANSKARE, "agare-granskare"),
        "owner_systemadministrator": _person(owner, Role.SYSTEMADMINISTRATOR, "agare-admin"),
        "receiver_handlaggare": _person(receiver, Role.HANDLAGGARE, "polis-handlaggare"),
        "receiver_samordnare": _person(receiver, Role.SAMORDNARE, "polis-samordnare"),
        "receiver_chef": _person(receiver, Role.CHEF, "polis-chef"),
        "receiver_granskare": _person(receiver, Role.GRANSKARE, "polis-granskare"),
        "third_handlaggare": _person(third, Role.HANDLAGGARE, "jour-handlaggare"),
        "emergency_reader": _person(third, Role.HANDLAGGARE, "jour-nodatkomst"),
    }
    users = {name: membership.user for name, membership in memberships.items()}
    users["no_membership"] = UserFactory.create(username="utan-roll", email="utan-roll@example.org")
    case = open_case(memberships["owner_handlaggare"], name=PERSON_NAME)
    disclosure = do_disclose_case(
        case,
        acting_user=users["owner_handlaggare"],
        membership=memberships["owner_handlaggare"],
        recipient=receiver,
        legal_basis=LegalBasis.NECESSARY,
        categories=[InformationCategory.SUMMARY, InformationCategory.RISK],
        justification="Polisen behöver underlag för skyddsåtgärder.",
    )
    do_request_emergency_access(
        case,
        acting_user=users["emergency_reader"],
        membership=memberships["emergency_reader"],
        reason="Akut läge i natt, ingen på socialtjänsten nås.",
    )
    return World(owner, receiver, third, users, case, disclosure, memberships)


def put_in_status(referral: Referral, status: str) -> Referral:
    """Test setup only: a referral as if it had reached ``status`` through the actions."""
    Referral.objects.filter(pk=referral.pk).update(status=status)
    referral.refresh_from_db()
    return referral


ALL_STATUSES = list(ReferralStatus)
TARGETS = [
    ReferralStatus.ACCEPTED,
    ReferralStatus.REJECTED,
    ReferralStatus.REVOKED,
    ReferralStatus.DONE,
]
