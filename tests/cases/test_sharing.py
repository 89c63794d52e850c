"""The actions that cross a secrecy domain: disclosures, their end and expiry, emergency access and its
review, and the exact-match search that precedes an emergency access.

Every refused action must leave nothing behind (no disclosure, no grant, no audit entry); every action
that goes through writes one audit entry naming its legal basis or kind, never the sealed free text.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.utils import timezone

from access.groups import agency_group
from access.models import Agency, AuditEvent, Membership, Role, User
from cases.actions import CaseActionError
from cases.choices import CaseStatus, DisclosureEnd, InformationCategory, LegalBasis
from cases.crypto import blind_index
from cases.models import Case, CaseGroupObjectPermission, Disclosure, EmergencyAccess
from cases.permissions import case_access
from cases.sharing import (
    consent_refusals,
    do_disclose_case,
    do_end_disclosure,
    do_request_emergency_access,
    do_review_emergency_access,
    expire_disclosures,
    find_for_emergency,
)
from cases.vault import CaseVault
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

# Sealed free texts, each with a marker that must never show up in the audit trail.
JUSTIFICATION = "Polisen behöver riskbilden inför beslut om kontaktförbud JUSTMARKER-7731"
REASON = "Personen är medvetslös på akuten, hotbild okänd REASONMARKER-5512"
COMMENT = "Befogad: akut läge, ingen annan väg COMMENTMARKER-9021"
SEALED_MARKERS = ("JUSTMARKER", "REASONMARKER", "COMMENTMARKER")

CATEGORY_CODENAMES = {
    InformationCategory.IDENTITY: "view_case_identity",
    InformationCategory.VIOLENCE: "view_case_violence",
    InformationCategory.SUMMARY: "view_case_summary",
    InformationCategory.RISK: "view_case_risk",
    InformationCategory.MEASURES: "view_case_measures",
    InformationCategory.CHILDREN: "view_case_children",
}


def days_from_today(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def disclose(case: Case, membership: Membership, recipient: Agency, **changes: Any) -> Disclosure:
    """A valid disclosure under OSL 10 kap. 2 § of the risk category, unless ``changes`` say otherwise."""
    arguments: dict[str, Any] = {
        "legal_basis": LegalBasis.NECESSARY,
        "categories": [InformationCategory.RISK],
        "justification": JUSTIFICATION,
    }
    arguments.update(changes)
    return do_disclose_case(
        case, acting_user=membership.user, membership=membership, recipient=recipient, **arguments
    )


def consent(case: Case, membership: Membership, recipient: Agency, **changes: Any) -> Disclosure:
    arguments: dict[str, Any] = {"legal_basis": LegalBasis.CONSENT, "valid_until": days_from_today(30)}
    arguments.update(changes)
    return disclose(case, membership, recipient, **arguments)


def granted(case: Case, agency: Agency) -> set[str]:
    """The codenames the agency's group holds on the case."""
    return set(
        CaseGroupObjectPermission.objects.filter(content_object=case, group=agency_group(agency)).values_list(
            "permission__codename", flat=True
        )
    )


def grants_on(case: Case) -> set[tuple[str, str]]:
    return set(
        CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
            "group__name", "permission__codename"
        )
    )


def expected_grant(*categories: str) -> set[str]:
    return {"view_case", "contribute_to_case", *(CATEGORY_CODENAMES[c] for c in categories)}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def audit_trail_text() -> str:
    """Every field of every audit entry, as one string to search for what must not be there."""
    return json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)


@pytest.fixture
def recipient(other_agency: Agency) -> Agency:
    return other_agency


@pytest.fixture
def school(db: None) -> Agency:
    return AgencyFactory.create(code="skola", name="Skolan")


@pytest.fixture
def outsider_membership(outsider: User) -> Membership:
    return outsider.memberships.get()


@pytest.fixture
def granskare_membership(granskare: User) -> Membership:
    return granskare.memberships.get()


# --- Who may disclose, and to whom -------------------------------------------------------------------


def test_the_owning_agencys_handlaggare_discloses_exactly_what_was_chosen(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User
) -> None:
    disclosure = disclose(
        case,
        handlaggare_membership,
        recipient,
        categories=[InformationCategory.RISK, InformationCategory.IDENTITY, InformationCategory.RISK],
        valid_until=days_from_today(10),
    )
    disclosure.refresh_from_db()
    assert disclosure.case == case
    assert disclosure.recipient == recipient
    assert disclosure.legal_basis == LegalBasis.NECESSARY
    assert disclosure.categories == sorted([InformationCategory.IDENTITY, InformationCategory.RISK])
    assert disclosure.valid_until == days_from_today(10)
    assert disclosure.created_by == handlaggare_membership.user
    assert disclosure.is_active()
    access = case_access(outsider, case)
    assert access is not None
    assert access.via == "disclosure"
    assert access.categories == {InformationCategory.IDENTITY, InformationCategory.RISK}


def test_the_justification_is_sealed_not_stored_in_plaintext(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient, justification=f"  {JUSTIFICATION}\n")
    disclosure.refresh_from_db()
    assert b"JUSTMARKER" not in bytes(disclosure.justification_sealed)
    assert CaseVault.for_case(case).open(disclosure, "justification") == JUSTIFICATION


def test_a_samordnare_of_the_owning_agency_may_disclose(
    case: Case, samordnare: User, recipient: Agency
) -> None:
    disclose(case, samordnare.memberships.get(), recipient)
    assert Disclosure.objects.filter(case=case, recipient=recipient).count() == 1


def assert_nothing_disclosed(case: Case) -> None:
    assert not Disclosure.objects.filter(case=case).exists()
    assert not CaseGroupObjectPermission.objects.filter(content_object=case).exists()
    assert events("case.disclose") == []


@pytest.mark.parametrize("role_fixture", ["chef", "granskare", "systemadministrator"])
def test_other_roles_of_the_owning_agency_may_not_disclose(
    case: Case, recipient: Agency, role_fixture: str, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(role_fixture)
    with pytest.raises(CaseActionError, match="Bara den ägande myndighetens handläggare"):
        disclose(case, user.memberships.get(), recipient)
    assert_nothing_disclosed(case)


def test_another_agency_may_not_disclose_the_case(
    case: Case, outsider_membership: Membership, school: Agency
) -> None:
    with pytest.raises(CaseActionError, match="Bara den ägande myndighetens handläggare"):
        disclose(case, outsider_membership, school)
    assert_nothing_disclosed(case)


def test_a_case_is_not_disclosed_to_its_owner(case: Case, handlaggare_membership: Membership) -> None:
    with pytest.raises(CaseActionError, match="ägs redan av den myndigheten"):
        disclose(case, handlaggare_membership, handlaggare_membership.agency)
    assert_nothing_disclosed(case)


def test_a_case_is_not_disclosed_to_an_inactive_agency(
    case: Case, handlaggare_membership: Membership
) -> None:
    closed_down = AgencyFactory.create(code="nedlagd", is_active=False)
    with pytest.raises(CaseActionError, match="inte en aktiv myndighet"):
        disclose(case, handlaggare_membership, closed_down)
    assert_nothing_disclosed(case)


def test_a_disclosure_is_made_through_the_acting_users_own_membership(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User
) -> None:
    # Otherwise anyone holding a caseworker's Membership could disclose in that caseworker's name and role.
    with pytest.raises(CaseActionError, match="Bara den ägande myndighetens handläggare"):
        do_disclose_case(
            case,
            acting_user=outsider,
            membership=handlaggare_membership,
            recipient=recipient,
            legal_basis=LegalBasis.NECESSARY,
            categories=[InformationCategory.RISK],
            justification=JUSTIFICATION,
        )


# --- What a disclosure must state ---------------------------------------------------------------------

# (what is wrong, changes to a valid disclosure to polisen, the start of the message the user sees)
# "days_valid" is turned into valid_until relative to today, so the table does not go stale at midnight.
INVALID_DISCLOSURES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown legal basis", {"legal_basis": "magkansla"}, "Välj en rättslig grund."),
    ("no legal basis", {"legal_basis": ""}, "Välj en rättslig grund."),
    ("no categories", {"categories": []}, "Välj vilka uppgifter som lämnas ut."),
    ("an unknown category", {"categories": ["risk", "allt"]}, "Välj vilka uppgifter som lämnas ut."),
    ("no justification", {"justification": ""}, "Motivera utlämnandet."),
    ("a blank justification", {"justification": " \n\t "}, "Motivera utlämnandet."),
    (
        "consent without an end date",
        {"legal_basis": LegalBasis.CONSENT},
        "Ett samtycke behöver ett slutdatum",
    ),
    (
        "consent that ended yesterday",
        {"legal_basis": LegalBasis.CONSENT, "days_valid": -1},
        "Ett samtycke behöver ett slutdatum",
    ),
    (
        "consent whose own never list names the recipient",
        {"legal_basis": LegalBasis.CONSENT, "days_valid": 30, "never_disclose_to": ["polisen"]},
        "Personen har sagt nej",
    ),
    (
        "a never list on a legal ground that is not consent",
        {"legal_basis": LegalBasis.DUTY_TO_REPORT, "never_disclose_to": ["skola"]},
        "En lista över myndigheter som aldrig får uppgifter hör bara till ett samtycke.",
    ),
    ("a legal ground that ended yesterday", {"days_valid": -1}, "Slutdatumet har redan passerat."),
]


@pytest.mark.parametrize(
    ("changes", "message"),
    [(changes, message) for _what, changes, message in INVALID_DISCLOSURES],
    ids=[what for what, _changes, _message in INVALID_DISCLOSURES],
)
def test_an_invalid_disclosure_is_refused_and_leaves_nothing_behind(
    case: Case,
    handlaggare_membership: Membership,
    recipient: Agency,
    outsider: User,
    changes: dict[str, Any],
    message: str,
) -> None:
    changes = dict(changes)
    if "days_valid" in changes:
        changes["valid_until"] = days_from_today(changes.pop("days_valid"))
    with pytest.raises(CaseActionError) as refused:
        disclose(case, handlaggare_membership, recipient, **changes)
    assert str(refused.value).startswith(message)
    assert_nothing_disclosed(case)
    assert case_access(outsider, case) is None


def test_consent_is_valid_through_its_last_day(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User
) -> None:
    # valid_until is inclusive (Disclosure.objects.active uses >= today), so "today" is still in the future
    # for the purpose of the rule: the consent holds until midnight.
    consent(case, handlaggare_membership, recipient, valid_until=timezone.localdate())
    assert case_access(outsider, case) is not None


def test_a_legal_ground_may_run_without_an_end_date(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(
        case, handlaggare_membership, recipient, legal_basis=LegalBasis.POLICE_SERIOUS_VIOLENCE
    )
    assert disclosure.valid_until is None
    assert disclosure.is_active()


def test_never_disclose_to_is_honoured_by_every_later_consent(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency
) -> None:
    consent(case, handlaggare_membership, school, never_disclose_to=["polisen"])
    with pytest.raises(CaseActionError, match="Personen har sagt nej"):
        consent(case, handlaggare_membership, recipient)
    assert not Disclosure.objects.filter(recipient=recipient).exists()


def test_never_disclose_to_lists_of_several_consents_add_up(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency
) -> None:
    shelter = AgencyFactory.create(code="kvinnojour", womens_shelter=True)
    consent(case, handlaggare_membership, shelter, never_disclose_to=["polisen"])
    consent(case, handlaggare_membership, shelter, never_disclose_to=["skola"])
    assert consent_refusals(case) == {"polisen", "skola"}
    for refused in (recipient, school):
        with pytest.raises(CaseActionError, match="Personen har sagt nej"):
            consent(case, handlaggare_membership, refused)


@pytest.mark.parametrize("end", [DisclosureEnd.CONSENT_WITHDRAWN, DisclosureEnd.REVOKED, "expired"])
def test_a_refusal_outlives_the_consent_that_carried_it(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency, end: str
) -> None:
    # A refusal protects the person; it is not forgotten when its consent is withdrawn, revoked or runs out.
    given = consent(case, handlaggare_membership, school, never_disclose_to=["polisen"])
    if end == "expired":
        Disclosure.objects.filter(pk=given.pk).update(valid_until=days_from_today(-1))
        expire_disclosures()
    else:
        do_end_disclosure(
            given, acting_user=handlaggare_membership.user, membership=handlaggare_membership, kind=end
        )
    assert not Disclosure.objects.active().filter(pk=given.pk).exists()
    assert consent_refusals(case) == {"polisen"}
    with pytest.raises(CaseActionError, match="Personen har sagt nej"):
        consent(case, handlaggare_membership, recipient)
    assert not Disclosure.objects.filter(recipient=recipient).exists()


def test_a_refusal_in_one_case_does_not_reach_another_case(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency
) -> None:
    consent(case, handlaggare_membership, school, never_disclose_to=["polisen"])
    other = open_case(handlaggare_membership)
    assert consent_refusals(other) == set()
    assert consent(other, handlaggare_membership, recipient).is_active()


def test_a_legal_ground_other_than_consent_overrides_the_persons_refusal_only_knowingly(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency, outsider: User
) -> None:
    # OSL 10 kap. 18 c § and the duties to report apply without consent, so a refusal given in a consent
    # cannot block them; but they override it only as a decision taken knowingly, and flagged (issue 12).
    consent(case, handlaggare_membership, school, never_disclose_to=["polisen"])
    serious = LegalBasis.POLICE_SERIOUS_VIOLENCE
    with pytest.raises(CaseActionError, match="sagt nej"):
        disclose(case, handlaggare_membership, recipient, legal_basis=serious)
    with pytest.raises(CaseActionError, match="minst 40 tecken"):
        disclose(
            case,
            handlaggare_membership,
            recipient,
            legal_basis=serious,
            overrides_refusal=True,
            justification="Krävs.",
        )
    assert case_access(outsider, case) is None
    why = "Polisen utreder grovt våld nu; personens nej till polisen har vägts mot skyddsbehovet."
    disclose(
        case,
        handlaggare_membership,
        recipient,
        legal_basis=serious,
        overrides_refusal=True,
        justification=why,
    )
    assert case_access(outsider, case) is not None
    event = AuditEvent.objects.filter(action="case.disclose").latest("id")
    assert event.details["overrides_refusal"] is True
    assert why not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_an_emergency_access_by_a_refused_agency_needs_the_refusal_overridden(
    case: Case, handlaggare_membership: Membership, school: Agency, outsider: User
) -> None:
    consent(case, handlaggare_membership, school, never_disclose_to=["polisen"])
    membership = outsider.memberships.get()
    with pytest.raises(CaseActionError, match="sagt nej"):
        do_request_emergency_access(
            case, acting_user=outsider, membership=membership, reason="Akut hot nu, polis på plats."
        )
    do_request_emergency_access(
        case,
        acting_user=outsider,
        membership=membership,
        reason="Akut hot nu, polis på plats; personens nej till polisen är vägt mot livsfaran.",
        overrides_refusal=True,
    )
    assert AuditEvent.objects.get(action="case.emergency_access").details["overrides_refusal"] is True


# --- Guardian grants follow the disclosures in force ---------------------------------------------------


def test_a_disclosure_grants_the_recipients_group_exactly_view_contribute_and_the_categories(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclose(
        case,
        handlaggare_membership,
        recipient,
        categories=[InformationCategory.SUMMARY, InformationCategory.CHILDREN],
    )
    assert grants_on(case) == {
        (agency_group(recipient).name, codename)
        for codename in expected_grant(InformationCategory.SUMMARY, InformationCategory.CHILDREN)
    }


@pytest.mark.parametrize("kind", [DisclosureEnd.REVOKED, DisclosureEnd.CONSENT_WITHDRAWN])
def test_ending_a_disclosure_removes_its_grants_and_access_at_once(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User, kind: str
) -> None:
    disclosure = consent(case, handlaggare_membership, recipient)
    assert case_access(outsider, case) is not None
    do_end_disclosure(
        disclosure, acting_user=handlaggare_membership.user, membership=handlaggare_membership, kind=kind
    )
    disclosure.refresh_from_db()
    assert disclosure.end_kind == kind
    assert disclosure.ended_by == handlaggare_membership.user
    assert disclosure.ended_at is not None
    assert grants_on(case) == set()
    assert case_access(outsider, case) is None
    assert not Case.objects.visible_to(outsider).exists()


def test_expiry_ends_access_at_midnight_and_the_job_then_removes_the_grants(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(5))
    Disclosure.objects.filter(pk=disclosure.pk).update(valid_until=days_from_today(-1))
    # Before the daily job: the grant is still stored, but the policy checks the date.
    assert granted(case, recipient) == expected_grant(InformationCategory.RISK)
    assert case_access(outsider, case) is None
    assert not Case.objects.visible_to(outsider).exists()
    assert expire_disclosures() == 1
    assert grants_on(case) == set()


def test_overlapping_disclosures_to_one_agency_grant_the_union_and_revoking_one_keeps_the_other(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider: User
) -> None:
    first = disclose(
        case,
        handlaggare_membership,
        recipient,
        categories=[InformationCategory.RISK, InformationCategory.MEASURES],
    )
    disclose(
        case,
        handlaggare_membership,
        recipient,
        legal_basis=LegalBasis.POLICE_SERIOUS_VIOLENCE,
        categories=[InformationCategory.RISK, InformationCategory.IDENTITY],
    )
    union = {InformationCategory.RISK, InformationCategory.MEASURES, InformationCategory.IDENTITY}
    assert granted(case, recipient) == expected_grant(*union)
    access = case_access(outsider, case)
    assert access is not None
    assert access.categories == union

    do_end_disclosure(first, acting_user=handlaggare_membership.user, membership=handlaggare_membership)
    # Risk was in both: it stays, with identity; only measures goes.
    assert granted(case, recipient) == expected_grant(InformationCategory.RISK, InformationCategory.IDENTITY)
    access = case_access(outsider, case)
    assert access is not None
    assert access.categories == {InformationCategory.RISK, InformationCategory.IDENTITY}


def test_ending_one_agencys_disclosure_leaves_another_agencys_grants_alone(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency
) -> None:
    to_police = disclose(case, handlaggare_membership, recipient)
    disclose(case, handlaggare_membership, school, categories=[InformationCategory.CHILDREN])
    do_end_disclosure(to_police, acting_user=handlaggare_membership.user, membership=handlaggare_membership)
    assert granted(case, recipient) == set()
    assert granted(case, school) == expected_grant(InformationCategory.CHILDREN)


# --- Ending a disclosure -----------------------------------------------------------------------------


def test_only_the_owning_agency_ends_a_disclosure(
    case: Case, handlaggare_membership: Membership, recipient: Agency, outsider_membership: Membership
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient)
    with pytest.raises(
        CaseActionError, match="Bara den ägande myndighetens handläggare och samordnare kan återkalla"
    ):
        do_end_disclosure(disclosure, acting_user=outsider_membership.user, membership=outsider_membership)
    disclosure.refresh_from_db()
    assert disclosure.is_active()
    assert events("case.disclosure.end") == []


def test_a_disclosure_is_ended_once(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient)
    do_end_disclosure(disclosure, acting_user=handlaggare_membership.user, membership=handlaggare_membership)
    with pytest.raises(CaseActionError, match="redan avslutat"):
        do_end_disclosure(
            disclosure,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            kind=DisclosureEnd.CONSENT_WITHDRAWN,
        )
    disclosure.refresh_from_db()
    assert disclosure.end_kind == DisclosureEnd.REVOKED
    assert len(events("case.disclosure.end")) == 1


def test_only_a_consent_can_be_withdrawn(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient)
    with pytest.raises(CaseActionError, match="bygger inte på samtycke"):
        do_end_disclosure(
            disclosure,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            kind=DisclosureEnd.CONSENT_WITHDRAWN,
        )
    disclosure.refresh_from_db()
    assert disclosure.is_active()


@pytest.mark.parametrize("kind", ["påhittat", DisclosureEnd.EXPIRED])
def test_ending_refuses_a_kind_that_is_not_a_manual_end(
    case: Case, handlaggare_membership: Membership, recipient: Agency, kind: str
) -> None:
    # "utgatt" is expire_disclosures' to record; anything else would be stored in end_kind and audited.
    disclosure = disclose(case, handlaggare_membership, recipient)
    with pytest.raises(CaseActionError, match="Välj om utlämnandet återkallas"):
        do_end_disclosure(
            disclosure, acting_user=handlaggare_membership.user, membership=handlaggare_membership, kind=kind
        )
    disclosure.refresh_from_db()
    assert disclosure.is_active()
    assert disclosure.end_kind == ""
    assert events("case.disclosure.end") == []


@pytest.mark.parametrize("role_fixture", ["chef", "granskare", "systemadministrator"])
def test_only_the_owning_agencys_casework_ends_a_disclosure(
    case: Case,
    handlaggare_membership: Membership,
    recipient: Agency,
    role_fixture: str,
    request: pytest.FixtureRequest,
) -> None:
    # As for disclosing: a role that could never have made the disclosure cannot end it either.
    disclosure = disclose(case, handlaggare_membership, recipient)
    other_role: User = request.getfixturevalue(role_fixture)
    with pytest.raises(
        CaseActionError, match="Bara den ägande myndighetens handläggare och samordnare kan återkalla"
    ):
        do_end_disclosure(disclosure, acting_user=other_role, membership=other_role.memberships.get())
    disclosure.refresh_from_db()
    assert disclosure.is_active()
    assert events("case.disclosure.end") == []


def test_a_disclosure_is_ended_through_the_acting_users_own_membership(
    case: Case, handlaggare_membership: Membership, recipient: Agency, samordnare: User
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient)
    with pytest.raises(
        CaseActionError, match="Bara den ägande myndighetens handläggare och samordnare kan återkalla"
    ):
        do_end_disclosure(disclosure, acting_user=samordnare, membership=handlaggare_membership)
    disclosure.refresh_from_db()
    assert disclosure.is_active()


# --- Expiry ---------------------------------------------------------------------------------------------


def test_expire_disclosures_records_each_expired_disclosure_once(
    case: Case, handlaggare_membership: Membership, recipient: Agency, school: Agency
) -> None:
    old_consent = consent(case, handlaggare_membership, recipient)
    old_ground = disclose(case, handlaggare_membership, school, valid_until=days_from_today(3))
    still_valid = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(1))
    open_ended = disclose(case, handlaggare_membership, school, legal_basis=LegalBasis.DUTY_TO_REPORT)
    revoked = disclose(case, handlaggare_membership, school, valid_until=days_from_today(3))
    do_end_disclosure(revoked, acting_user=handlaggare_membership.user, membership=handlaggare_membership)
    Disclosure.objects.filter(pk__in=[old_consent.pk, old_ground.pk, revoked.pk]).update(
        valid_until=days_from_today(-1)
    )

    assert expire_disclosures() == 2
    assert expire_disclosures() == 0

    expired = {str(event.details["disclosure"]) for event in events("case.disclosure.expired")}
    assert expired == {str(old_consent.pk), str(old_ground.pk)}
    assert len(events("case.disclosure.expired")) == 2
    for disclosure in (old_consent, old_ground):
        disclosure.refresh_from_db()
        assert disclosure.end_kind == DisclosureEnd.EXPIRED
        assert disclosure.ended_at is not None
    for disclosure in (still_valid, open_ended):
        disclosure.refresh_from_db()
        assert disclosure.ended_at is None
    revoked.refresh_from_db()
    assert revoked.end_kind == DisclosureEnd.REVOKED
    # What stays in force keeps its grants.
    assert granted(case, recipient) == expected_grant(InformationCategory.RISK)
    assert granted(case, school) == expected_grant(InformationCategory.RISK)


def test_expire_disclosures_counts_from_the_day_it_is_given(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(2))
    assert expire_disclosures(days_from_today(2)) == 0
    assert expire_disclosures(days_from_today(3)) == 1


def test_expire_disclosures_does_not_overwrite_a_disclosure_ended_meanwhile(
    case: Case, handlaggare_membership: Membership, recipient: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(3))
    second = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(3))
    Disclosure.objects.filter(pk__in=[first.pk, second.pk]).update(valid_until=days_from_today(-1))

    from cases import sharing

    real_record_event = sharing.record_event

    def revoke_the_rest_while_the_job_runs(action: str, **kwargs: Any) -> AuditEvent:
        # Another request revokes whichever disclosure the job has not reached yet.
        Disclosure.objects.filter(ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_by=handlaggare_membership.user, end_kind=DisclosureEnd.REVOKED
        )
        return real_record_event(action, **kwargs)

    monkeypatch.setattr(sharing, "record_event", revoke_the_rest_while_the_job_runs)
    assert expire_disclosures() == 1
    ends = dict(Disclosure.objects.values_list("pk", "end_kind"))
    assert sorted(ends.values()) == [DisclosureEnd.REVOKED, DisclosureEnd.EXPIRED]
    assert len(events("case.disclosure.expired")) == 1


# --- Audit ----------------------------------------------------------------------------------------------


def test_disclosing_is_audited_with_the_legal_basis_as_reason(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(
        case,
        handlaggare_membership,
        recipient,
        legal_basis=LegalBasis.CRIME_AGAINST_CHILD,
        categories=[InformationCategory.CHILDREN, InformationCategory.IDENTITY],
        valid_until=days_from_today(7),
    )
    (event,) = events("case.disclose")
    assert event.actor == handlaggare_membership.user
    assert event.agency_code == "soc-vuxen"
    assert event.role == Role.HANDLAGGARE
    assert event.object_type == "case"
    assert event.object_reference == case.reference
    assert event.reason == LegalBasis.CRIME_AGAINST_CHILD
    assert event.details == {
        "recipient": "polisen",
        "categories": [InformationCategory.CHILDREN, InformationCategory.IDENTITY],
        "valid_until": days_from_today(7).isoformat(),
        "disclosure": str(disclosure.pk),
    }


@pytest.mark.parametrize("kind", [DisclosureEnd.REVOKED, DisclosureEnd.CONSENT_WITHDRAWN])
def test_ending_is_audited_with_its_kind_as_reason(
    case: Case, handlaggare_membership: Membership, recipient: Agency, kind: str
) -> None:
    disclosure = consent(case, handlaggare_membership, recipient)
    do_end_disclosure(
        disclosure, acting_user=handlaggare_membership.user, membership=handlaggare_membership, kind=kind
    )
    (event,) = events("case.disclosure.end")
    assert event.actor == handlaggare_membership.user
    assert event.agency_code == "soc-vuxen"
    assert event.object_reference == case.reference
    assert event.reason == kind
    assert event.details == {"recipient": "polisen", "disclosure": str(disclosure.pk)}


def test_expiry_is_audited_without_an_actor(
    case: Case, handlaggare_membership: Membership, recipient: Agency
) -> None:
    disclosure = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(1))
    Disclosure.objects.filter(pk=disclosure.pk).update(valid_until=days_from_today(-1))
    expire_disclosures()
    (event,) = events("case.disclosure.expired")
    assert event.actor is None
    assert event.actor_username == ""
    assert event.object_reference == case.reference
    assert event.details == {"recipient": "polisen", "disclosure": str(disclosure.pk)}


def test_emergency_access_is_audited_with_its_expiry(case: Case, outsider_membership: Membership) -> None:
    access = do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason=REASON
    )
    (event,) = events("case.emergency_access")
    assert event.actor == outsider_membership.user
    assert event.agency_code == "polisen"
    assert event.role == Role.HANDLAGGARE
    assert event.object_reference == case.reference
    assert event.reason == "nodatkomst"
    assert event.details == {"expires_at": access.expires_at.isoformat(), "access": str(access.pk)}


def test_reviewing_is_audited(
    case: Case, outsider_membership: Membership, granskare_membership: Membership
) -> None:
    access = do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason=REASON
    )
    do_review_emergency_access(
        access, acting_user=granskare_membership.user, membership=granskare_membership, comment=COMMENT
    )
    (event,) = events("case.emergency_access.review")
    assert event.actor == granskare_membership.user
    assert event.role == Role.GRANSKARE
    assert event.object_reference == case.reference
    assert event.details == {"access": str(access.pk)}


def test_no_justification_reason_or_comment_reaches_the_audit_trail(
    case: Case,
    handlaggare_membership: Membership,
    recipient: Agency,
    outsider_membership: Membership,
    granskare_membership: Membership,
) -> None:
    given = consent(case, handlaggare_membership, recipient)
    do_end_disclosure(
        given,
        acting_user=handlaggare_membership.user,
        membership=handlaggare_membership,
        kind=DisclosureEnd.CONSENT_WITHDRAWN,
    )
    expiring = disclose(case, handlaggare_membership, recipient, valid_until=days_from_today(1))
    Disclosure.objects.filter(pk=expiring.pk).update(valid_until=days_from_today(-1))
    expire_disclosures()
    access = do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason=REASON
    )
    do_review_emergency_access(
        access, acting_user=granskare_membership.user, membership=granskare_membership, comment=COMMENT
    )
    trail = audit_trail_text()
    for action in (
        "case.disclose",
        "case.disclosure.end",
        "case.disclosure.expired",
        "case.emergency_access",
        "case.emergency_access.review",
    ):
        assert action in trail
    leaked = [marker for marker in SEALED_MARKERS if marker in trail]
    assert leaked == [], f"sealed free text in the audit trail: {leaked}"
    # And at rest the reason and the comment are sealed too.
    access.refresh_from_db()
    assert b"REASONMARKER" not in bytes(access.reason_sealed)
    assert b"COMMENTMARKER" not in bytes(access.review_comment_sealed)


# --- Emergency access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HANDLAGGARE, Role.SAMORDNARE])
def test_casework_roles_may_request_emergency_access(case: Case, school: Agency, role: str) -> None:
    membership = MembershipFactory.create(agency=school, role=role)
    access = do_request_emergency_access(
        case, acting_user=membership.user, membership=membership, reason=REASON
    )
    assert access.user == membership.user
    assert access.agency == school
    assert access.reviewed_at is None
    granted_access = case_access(membership.user, case)
    assert granted_access is not None
    assert granted_access.via == "emergency"
    # The membership is carried for the audit trail; it writes nothing.
    assert granted_access.membership == membership
    assert not granted_access.can_write
    assert not granted_access.can_contribute


@pytest.mark.parametrize("role", [Role.CHEF, Role.GRANSKARE, Role.SYSTEMADMINISTRATOR])
def test_other_roles_may_not_request_emergency_access(case: Case, school: Agency, role: str) -> None:
    membership = MembershipFactory.create(agency=school, role=role)
    with pytest.raises(CaseActionError, match="Bara handläggare och samordnare"):
        do_request_emergency_access(case, acting_user=membership.user, membership=membership, reason=REASON)
    assert not EmergencyAccess.objects.exists()
    assert events("case.emergency_access") == []


def test_emergency_access_is_requested_through_ones_own_membership(
    case: Case, outsider_membership: Membership
) -> None:
    someone_else = UserFactory.create()
    with pytest.raises(CaseActionError, match="Bara handläggare och samordnare"):
        do_request_emergency_access(
            case, acting_user=someone_else, membership=outsider_membership, reason=REASON
        )
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize("reason", ["", "          ", "för kort", "123456789", "  123456789 \n"])
def test_emergency_access_needs_a_reason_of_at_least_ten_characters(
    case: Case, outsider_membership: Membership, reason: str
) -> None:
    with pytest.raises(CaseActionError, match="minst tio tecken"):
        do_request_emergency_access(
            case, acting_user=outsider_membership.user, membership=outsider_membership, reason=reason
        )
    assert not EmergencyAccess.objects.exists()
    assert events("case.emergency_access") == []


def test_a_reason_of_exactly_ten_characters_is_enough(case: Case, outsider_membership: Membership) -> None:
    access = do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason="  0123456789  "
    )
    assert CaseVault.for_case(case).open(access, "reason") == "0123456789"


def test_emergency_access_expires_after_the_configured_minutes(
    case: Case, outsider_membership: Membership, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EMERGENCY_ACCESS_MINUTES = 15
    outsider = outsider_membership.user
    access = do_request_emergency_access(
        case, acting_user=outsider, membership=outsider_membership, reason=REASON
    )
    assert access.expires_at - access.started_at == datetime.timedelta(minutes=15)
    started = access.started_at

    monkeypatch.setattr(timezone, "now", lambda: started + datetime.timedelta(minutes=14, seconds=59))
    assert case_access(outsider, case) is not None
    assert list(Case.objects.visible_to(outsider)) == [case]

    monkeypatch.setattr(timezone, "now", lambda: started + datetime.timedelta(minutes=15))
    assert case_access(outsider, case) is None
    assert list(Case.objects.visible_to(outsider)) == []


def test_emergency_access_is_personal_not_for_the_agency(
    case: Case, outsider_membership: Membership, other_agency: Agency
) -> None:
    colleague = MembershipFactory.create(agency=other_agency, role=Role.HANDLAGGARE).user
    do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason=REASON
    )
    assert case_access(colleague, case) is None
    assert not Case.objects.visible_to(colleague).exists()


# --- Review ---------------------------------------------------------------------------------------------


@pytest.fixture
def emergency(case: Case, outsider_membership: Membership) -> EmergencyAccess:
    return do_request_emergency_access(
        case, acting_user=outsider_membership.user, membership=outsider_membership, reason=REASON
    )


def test_a_granskare_reviews_an_emergency_access_with_a_comment(
    emergency: EmergencyAccess, granskare_membership: Membership
) -> None:
    do_review_emergency_access(
        emergency,
        acting_user=granskare_membership.user,
        membership=granskare_membership,
        comment=f" {COMMENT} ",
    )
    emergency.refresh_from_db()
    assert emergency.reviewed_by == granskare_membership.user
    assert emergency.reviewed_at is not None
    assert CaseVault.for_case(emergency.case_id).open(emergency, "review_comment") == COMMENT
    assert not EmergencyAccess.objects.awaiting_review().exists()


@pytest.mark.parametrize("role_fixture", ["handlaggare", "samordnare", "chef", "systemadministrator"])
def test_only_a_granskare_reviews(
    emergency: EmergencyAccess, role_fixture: str, request: pytest.FixtureRequest
) -> None:
    user: User = request.getfixturevalue(role_fixture)
    with pytest.raises(CaseActionError, match="Bara granskare"):
        do_review_emergency_access(
            emergency, acting_user=user, membership=user.memberships.get(), comment=COMMENT
        )
    emergency.refresh_from_db()
    assert emergency.reviewed_at is None
    assert events("case.emergency_access.review") == []


def test_a_review_is_made_through_ones_own_membership(
    emergency: EmergencyAccess, granskare_membership: Membership, handlaggare: User
) -> None:
    with pytest.raises(CaseActionError, match="Bara granskare"):
        do_review_emergency_access(
            emergency, acting_user=handlaggare, membership=granskare_membership, comment=COMMENT
        )
    emergency.refresh_from_db()
    assert emergency.reviewed_at is None


def test_an_emergency_access_is_reviewed_once(
    emergency: EmergencyAccess, granskare_membership: Membership
) -> None:
    do_review_emergency_access(
        emergency, acting_user=granskare_membership.user, membership=granskare_membership, comment=COMMENT
    )
    with pytest.raises(CaseActionError, match="redan granskad"):
        do_review_emergency_access(
            emergency, acting_user=granskare_membership.user, membership=granskare_membership, comment="Igen."
        )
    assert len(events("case.emergency_access.review")) == 1


def test_nobody_reviews_their_own_emergency_access(case: Case, agency: Agency, school: Agency) -> None:
    # One person, granskare in the owning agency and handläggare in another: the review is someone else's.
    both = MembershipFactory.create(agency=school, role=Role.HANDLAGGARE)
    as_granskare = MembershipFactory.create(user=both.user, agency=agency, role=Role.GRANSKARE)
    access = do_request_emergency_access(case, acting_user=both.user, membership=both, reason=REASON)
    with pytest.raises(CaseActionError, match="Ingen kan granska sin egen nödåtkomst"):
        do_review_emergency_access(access, acting_user=both.user, membership=as_granskare, comment=COMMENT)
    access.refresh_from_db()
    assert access.reviewed_at is None
    assert events("case.emergency_access.review") == []


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_a_review_needs_a_comment(
    emergency: EmergencyAccess, granskare_membership: Membership, comment: str
) -> None:
    with pytest.raises(CaseActionError, match="Skriv en kommentar"):
        do_review_emergency_access(
            emergency, acting_user=granskare_membership.user, membership=granskare_membership, comment=comment
        )
    emergency.refresh_from_db()
    assert emergency.reviewed_at is None
    assert bytes(emergency.review_comment_sealed) == b""


# --- Finding a case for emergency access ----------------------------------------------------------------


def test_find_for_emergency_finds_an_exact_reference_in_any_agency(case: Case) -> None:
    assert find_for_emergency(reference=case.reference) == case
    assert find_for_emergency(reference=f"  {case.reference.lower()} ") == case


@pytest.mark.parametrize(
    "spelling",
    [
        lambda reference: reference[:-1],
        lambda reference: reference[:7],
        lambda reference: "VR-",
        lambda reference: reference[3:],
        lambda reference: reference + "2",
        lambda reference: "%",
    ],
    ids=[
        "all but the last character",
        "prefix",
        "the fixed prefix",
        "without the prefix",
        "longer",
        "wildcard",
    ],
)
def test_find_for_emergency_finds_nothing_for_a_partial_reference(case: Case, spelling: Any) -> None:
    assert find_for_emergency(reference=spelling(case.reference)) is None


def test_find_for_emergency_finds_an_exact_identity_number_in_any_agency(
    handlaggare_membership: Membership,
) -> None:
    case = open_case(handlaggare_membership, identity_number="198112189876")
    assert find_for_emergency(identity_number="198112189876") == case
    # A number is looked up by its blind index only: nothing partial, and the caller normalises it first.
    for partial in ("19811218987", "8112189876", "19811218-9876", "198112189875", "1981"):
        assert find_for_emergency(identity_number=partial) is None, partial


def test_find_for_emergency_gives_one_case_not_a_listing(
    handlaggare_membership: Membership, outsider_membership: Membership
) -> None:
    older = open_case(handlaggare_membership, identity_number="198112189876")
    newer = open_case(outsider_membership, identity_number="198112189876")
    Case.objects.filter(pk=older.pk).update(opened_on=days_from_today(-400))
    found = find_for_emergency(identity_number="198112189876")
    assert isinstance(found, Case)
    assert found == newer
    assert blind_index("198112189876") == found.person.identity_index


def test_find_for_emergency_prefers_an_open_case_to_a_newer_closed_one(
    handlaggare_membership: Membership, outsider_membership: Membership
) -> None:
    still_open = open_case(handlaggare_membership, identity_number="198112189876")
    closed = open_case(outsider_membership, identity_number="198112189876")
    Case.objects.filter(pk=still_open.pk).update(opened_on=days_from_today(-400))
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.CLOSED, closed_on=days_from_today(0))
    assert find_for_emergency(identity_number="198112189876") == still_open


def test_find_for_emergency_without_anything_to_look_for_finds_nothing(
    handlaggare_membership: Membership,
) -> None:
    # A person without a number has an empty blind index: an empty search must not match it.
    open_case(handlaggare_membership, identity_number="", identity_kind="saknas")
    assert find_for_emergency() is None
    assert find_for_emergency(reference="", identity_number="") is None
