"""The permission matrix: every scenario against every persona, generated from one table.

Each row of MATRIX is a scenario: how the case and its disclosures stand, and what each persona then
sees. A persona a row does not name sees nothing (deny by default). For every cell the test checks the
four ways a decision shows: Case.objects.visible_to (lists), case_access (the policy), access_case (the
one door) and user.has_perm (the permission backend), and that read_case decrypts only the categories
the policy allows.

To add a persona, add a row to PERSONAS (and name it in the scenarios where it sees something); to add
a scenario, add a row to MATRIX.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from access.models import Agency, AuditEvent, Role, User
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_save_contribution,
    do_save_summary,
)
from cases.choices import DisclosureEnd, InformationCategory, LegalBasis, ProtectedIdentity
from cases.models import Case, Disclosure, EmergencyAccess, ProtectiveMeasure, RiskAssessment
from cases.permissions import CaseAccess, case_access
from cases.policy import access_case
from cases.reading import CaseDetail, read_case
from cases.records import Children, Classification
from cases.sharing import do_disclose_case, do_end_disclosure, do_request_emergency_access
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

IDENTITY = InformationCategory.IDENTITY.value
VIOLENCE = InformationCategory.VIOLENCE.value
SUMMARY = InformationCategory.SUMMARY.value
RISK = InformationCategory.RISK.value
MEASURES = InformationCategory.MEASURES.value
CHILDREN = InformationCategory.CHILDREN.value
ALL = frozenset({IDENTITY, VIOLENCE, SUMMARY, RISK, MEASURES, CHILDREN})

# Written out here rather than imported from cases.permissions: the test states the rule independently.
CATEGORY_CODENAMES = {
    IDENTITY: "view_case_identity",
    VIOLENCE: "view_case_violence",
    SUMMARY: "view_case_summary",
    RISK: "view_case_risk",
    MEASURES: "view_case_measures",
    CHILDREN: "view_case_children",
}
CODENAMES = ("view_case", *CATEGORY_CODENAMES.values(), "contribute_to_case")


@dataclass(frozen=True)
class Persona:
    agency: str | None  # "owner", "recipient", "unrelated" or None
    role: str | None
    is_superuser: bool = False
    is_active: bool = True


@dataclass(frozen=True)
class Sees:
    via: str
    categories: frozenset[str]

    def codenames(self) -> set[str]:
        granted = {"view_case", *(CATEGORY_CODENAMES[category] for category in self.categories)}
        if self.via in ("owner", "disclosure"):
            granted.add("contribute_to_case")
        return granted


@dataclass(frozen=True)
class Scenario:
    """How the case stands; ``sees`` maps persona to what it sees, everyone else sees nothing."""

    sees: Mapping[str, Sees]
    disclosed: frozenset[str] = frozenset()  # categories disclosed to the recipient agency
    legal_basis: str = LegalBasis.NECESSARY
    end: str = ""  # a DisclosureEnd recorded through do_end_disclosure
    expired: bool = False  # valid_until set to yesterday with update(): no job has run
    protected: bool = False
    emergency: str = ""  # "active" or "expired" emergency access by the emergency-access user


OWNER_HANDLAGGARE = "owner handläggare"
OWNER_SAMORDNARE = "owner samordnare"
RECIPIENT_HANDLAGGARE = "recipient-agency handläggare"
EMERGENCY_USER = "emergency-access user"
SUPERUSER = "superuser"

PERSONAS: dict[str, Persona] = {
    OWNER_HANDLAGGARE: Persona("owner", Role.HANDLAGGARE),
    OWNER_SAMORDNARE: Persona("owner", Role.SAMORDNARE),
    "owner chef": Persona("owner", Role.CHEF),
    "owner granskare": Persona("owner", Role.GRANSKARE),
    "owner systemadministratör": Persona("owner", Role.SYSTEMADMINISTRATOR),
    RECIPIENT_HANDLAGGARE: Persona("recipient", Role.HANDLAGGARE),
    "recipient-agency chef": Persona("recipient", Role.CHEF),
    "unrelated-agency handläggare": Persona("unrelated", Role.HANDLAGGARE),
    # In the unrelated agency too: emergency access is the user's own, not their agency's.
    EMERGENCY_USER: Persona("unrelated", Role.HANDLAGGARE),
    SUPERUSER: Persona(None, None, is_superuser=True),
    "inactive owner handläggare": Persona("owner", Role.HANDLAGGARE, is_active=False),
}


def owner_casework() -> dict[str, Sees]:
    return {OWNER_HANDLAGGARE: Sees("owner", ALL), OWNER_SAMORDNARE: Sees("owner", ALL)}


def disclosure(*categories: str) -> Sees:
    return Sees("disclosure", frozenset(categories))


MATRIX: dict[str, Scenario] = {
    "no disclosure": Scenario(sees=owner_casework()),
    "identity disclosed": Scenario(
        disclosed=frozenset({IDENTITY}),
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(IDENTITY)},
    ),
    "violence disclosed": Scenario(
        disclosed=frozenset({VIOLENCE}),
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(VIOLENCE)},
    ),
    "summary disclosed": Scenario(
        disclosed=frozenset({SUMMARY}), sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(SUMMARY)}
    ),
    "risk disclosed": Scenario(
        disclosed=frozenset({RISK}), sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(RISK)}
    ),
    "measures disclosed": Scenario(
        disclosed=frozenset({MEASURES}),
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(MEASURES)},
    ),
    "children disclosed": Scenario(
        disclosed=frozenset({CHILDREN}),
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(CHILDREN)},
    ),
    "every category disclosed": Scenario(
        disclosed=ALL, sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(*ALL)}
    ),
    "consent in force": Scenario(
        disclosed=ALL,
        legal_basis=LegalBasis.CONSENT,
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(*ALL)},
    ),
    "revoked": Scenario(disclosed=ALL, end=DisclosureEnd.REVOKED, sees=owner_casework()),
    "expired yesterday, no job run yet": Scenario(disclosed=ALL, expired=True, sees=owner_casework()),
    "consent withdrawn": Scenario(
        disclosed=ALL,
        legal_basis=LegalBasis.CONSENT,
        end=DisclosureEnd.CONSENT_WITHDRAWN,
        sees=owner_casework(),
    ),
    "protected identity, identity disclosed": Scenario(
        protected=True,
        disclosed=ALL,
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure(*(ALL - {IDENTITY}))},
    ),
    "protected identity, only identity disclosed": Scenario(
        # Still listed (the disclosure is in force), but nothing of it can be shown.
        protected=True,
        disclosed=frozenset({IDENTITY}),
        sees={**owner_casework(), RECIPIENT_HANDLAGGARE: disclosure()},
    ),
    "emergency access active": Scenario(
        emergency="active", sees={**owner_casework(), EMERGENCY_USER: Sees("emergency", ALL)}
    ),
    "emergency access expired": Scenario(emergency="expired", sees=owner_casework()),
    "protected identity, emergency access active": Scenario(
        protected=True,
        emergency="active",
        sees={**owner_casework(), EMERGENCY_USER: Sees("emergency", ALL - {IDENTITY})},
    ),
}

# Each category's marker strings: present in read_case's output exactly when the category is seen.
MARKERS: dict[str, tuple[str, ...]] = {
    IDENTITY: (
        "ZZIDENTITY-name",
        "198112189876",
        "ZZIDENTITY-contact",
        "ZZIDENTITY-safe",
        "ZZIDENTITY-address",
    ),
    VIOLENCE: ("ZZVIOLENCE-incident", "sexuellt", "hbtqi"),
    SUMMARY: ("ZZSUMMARY-summary", "ZZSUMMARY-contribution"),
    RISK: ("ZZRISK-override", "ZZRISK-notes"),
    MEASURES: ("ZZMEASURES-notes",),
    CHILDREN: ("13-17",),
}
assert set(MARKERS) == ALL


# --- Building a scenario ---------------------------------------------------------------------------------


@dataclass
class World:
    people: dict[str, User]
    agencies: dict[str, Agency]
    case: Case = field(init=False)


def build_world() -> World:
    agencies = {
        "owner": AgencyFactory.create(code="soc-vuxen", name="Socialtjänsten vuxen"),
        "recipient": AgencyFactory.create(code="polisen", name="Polisen", police=True),
        "unrelated": AgencyFactory.create(code="kvinnojour", name="Kvinnojouren", womens_shelter=True),
    }
    people: dict[str, User] = {}
    for number, (name, persona) in enumerate(PERSONAS.items()):
        user = UserFactory.create(
            username=f"persona-{number}", is_superuser=persona.is_superuser, is_staff=persona.is_superuser
        )
        if persona.agency is not None:
            MembershipFactory.create(user=user, agency=agencies[persona.agency], role=persona.role)
        if not persona.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        people[name] = user
    return World(people, agencies)


_shared_world_once, world = shared_world(build_world)


def open_marked_case(world: World, *, protected: bool) -> Case:
    owner = world.people[OWNER_HANDLAGGARE].memberships.get()
    kwargs: dict[str, Any] = {"acting_user": owner.user, "membership": owner}
    case = open_case(
        owner,
        name="ZZIDENTITY-name Åsa Öberg",
        identity_number="198112189876",
        contact="ZZIDENTITY-contact",
        safe_contact="ZZIDENTITY-safe",
        # Protected identity never has an address (a constraint), so that marker is absent from the start.
        address="" if protected else "ZZIDENTITY-address",
        protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION if protected else ProtectedIdentity.NONE,
        classification=Classification(
            contexts=["hrv"],
            forms=["sexuellt"],
            relations=["flera"],
            flags=["hbtqi"],
            children=Children(count=2, age_bands=["13-17"], witnessed=True),
        ),
    )
    do_save_summary(case, text="ZZSUMMARY-summary", based_on=0, **kwargs)
    do_save_contribution(case, text="ZZSUMMARY-contribution", based_on=0, **kwargs)
    do_add_risk_assessment(
        case,
        assessment=RiskAssessment.new(
            instrument="patriark", assessed_on=datetime.date(2026, 1, 1), level="medel", override_level="hog"
        ),
        override_reason="ZZRISK-override",
        notes="ZZRISK-notes",
        **kwargs,
    )
    do_add_protective_measure(
        case,
        measure=ProtectiveMeasure.new(
            kind="skyddat_boende", starts_on=datetime.date(2026, 1, 2), responsible_agency=owner.agency
        ),
        notes="ZZMEASURES-notes",
        **kwargs,
    )
    do_add_incident(
        case, occurred_on=datetime.date(2026, 1, 3), forms=["sexuellt"], notes="ZZVIOLENCE-incident", **kwargs
    )
    return case


def arrange(scenario: Scenario, world: World) -> Case:
    case = open_marked_case(world, protected=scenario.protected)
    owner = world.people[OWNER_HANDLAGGARE].memberships.get()
    today = timezone.localdate()
    if scenario.disclosed:
        given = do_disclose_case(
            case,
            acting_user=owner.user,
            membership=owner,
            recipient=world.agencies["recipient"],
            legal_basis=scenario.legal_basis,
            categories=scenario.disclosed,
            justification="Motivering för testet.",
            valid_until=today + datetime.timedelta(days=30)
            if scenario.legal_basis == LegalBasis.CONSENT
            else None,
        )
        if scenario.end:
            do_end_disclosure(given, acting_user=owner.user, membership=owner, kind=scenario.end)
        if scenario.expired:
            Disclosure.objects.filter(pk=given.pk).update(valid_until=today - datetime.timedelta(days=1))
    if scenario.emergency:
        requester = world.people[EMERGENCY_USER].memberships.get()
        access = do_request_emergency_access(
            case, acting_user=requester.user, membership=requester, reason="Akut fara för personens liv."
        )
        if scenario.emergency == "expired":
            now = timezone.now()
            EmergencyAccess.objects.filter(pk=access.pk).update(
                started_at=now - datetime.timedelta(hours=2), expires_at=now - datetime.timedelta(hours=1)
            )
    # Fresh from the database, as a view would have it (nothing cached on the instance).
    return Case.objects.select_related("agency", "person").get(pk=case.pk)


def shown_text(value: object) -> list[str]:
    """Every string the dataclasses of a CaseDetail hold (their repr hides them, so walk the fields).
    Model instances are not followed: they hold only sealed bytes and plaintext metadata."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in shown_text(item)]
    if is_dataclass(value) and not isinstance(value, type | CaseAccess):
        return [text for item in fields(value) for text in shown_text(getattr(value, item.name))]
    return []


# --- The matrix ------------------------------------------------------------------------------------------


def test_the_matrix_names_only_known_personas_and_codenames() -> None:
    for name, scenario in MATRIX.items():
        unknown = set(scenario.sees) - set(PERSONAS)
        assert not unknown, f"{name}: unknown personas {unknown}"
    assert {codename for codename, _label in Case._meta.permissions} == set(CODENAMES)


CELLS = [(scenario, persona) for scenario in MATRIX for persona in PERSONAS]


@pytest.mark.parametrize(("scenario_name", "persona"), CELLS, ids=[f"{s} | {p}" for s, p in CELLS])
def test_the_cell(world: World, scenario_name: str, persona: str) -> None:
    scenario = MATRIX[scenario_name]
    case = arrange(scenario, world)
    user = world.people[persona]
    expected = scenario.sees.get(persona)
    where = f"[{scenario_name} | {persona}]"

    # The list.
    listed = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    assert listed == (expected is not None), f"{where} visible_to lists the case: {listed}"

    # The policy.
    access = case_access(user, case)
    if expected is None:
        assert access is None, f"{where} case_access gave {access and (access.via, set(access.categories))}"
    else:
        assert access is not None, f"{where} case_access gave nothing"
        assert (access.via, set(access.categories)) == (expected.via, set(expected.categories)), where

    # The one door.
    if expected is None:
        with pytest.raises(Http404):
            access_case(user, case.reference)
    else:
        assert access_case(user, case.reference) == case, where

    # The permission backend, for every codename.
    has = {codename for codename in CODENAMES if user.has_perm(f"cases.{codename}", case)}
    if persona == SUPERUSER:
        # Known Django behaviour, not the policy: PermissionsMixin.has_perm answers True for an active
        # superuser before any backend is asked. Skyddsnät never decides access with has_perm (views go
        # through access_case, lists through visible_to, reads through read_case), and the checks above
        # and below deny the superuser everything.
        assert has == set(CODENAMES), where
        assert user.has_perm("cases.view_case"), where
    else:
        assert has == (expected.codenames() if expected else set()), f"{where} has_perm: {sorted(has)}"
        # No model-wide permission exists: without a case the answer is always no.
        assert not any(user.has_perm(f"cases.{codename}") for codename in CODENAMES), where

    # The audited read decrypts only what the policy allows.
    reads_before = AuditEvent.objects.filter(action="case.read").count()
    if expected is None:
        with pytest.raises(Http404):
            read_case(case, user=user, membership=None, request=None)
        assert AuditEvent.objects.filter(action="case.read").count() == reads_before, where
        return
    detail = read_case(case, user=user, membership=None, request=None)
    assert_read_shows_exactly(detail, expected.categories, where)
    event = AuditEvent.objects.filter(action="case.read").latest("id")
    assert event.actor == user
    assert event.object_reference == case.reference
    assert event.reason == expected.via
    # The entry names the agency the reader acted in (for emergency access: the one they requested it in).
    assert event.agency_code == world.agencies[PERSONAS[persona].agency or ""].code, where
    assert event.object_agency == case.agency.code, where
    assert event.details == {
        "categories": sorted(expected.categories),
        "protected_identity": case.person.protected_identity != ProtectedIdentity.NONE,
    }, where


def assert_read_shows_exactly(detail: CaseDetail, categories: frozenset[str], where: str) -> None:
    text = "\n".join(shown_text(detail))
    for category, markers in MARKERS.items():
        present = [marker for marker in markers if marker in text]
        if category in categories:
            if detail.person.protected_identity != ProtectedIdentity.NONE:
                markers = tuple(marker for marker in markers if marker != "ZZIDENTITY-address")
            assert present == list(markers), f"{where} {category} is seen but shows only {present}"
        else:
            assert present == [], f"{where} {category} is not seen but the read shows {present}"
    # What is not a string: counts, years and lists of codes.
    assert (detail.classification.children.count == 2) == (CHILDREN in categories), where
    assert bool(detail.classification.children.witnessed) == (CHILDREN in categories), where
    assert (detail.person.birth_year == 1981) == (IDENTITY in categories), where
    assert bool(detail.classification.contexts) == (VIOLENCE in categories), where
    assert bool(detail.classification.relations) == (VIOLENCE in categories), where
    assert bool(detail.incidents) == (VIOLENCE in categories), where
    assert bool(detail.risks) == (RISK in categories), where
    assert bool(detail.measures) == (MEASURES in categories), where
    assert bool(detail.summary) == (SUMMARY in categories), where
    # The protection level itself is shown to everyone who reaches the case: it is what tells them why
    # identity is missing.
    assert detail.person.protected_identity in ProtectedIdentity.values, where


def test_the_superuser_flag_opens_nothing_by_itself(world: World) -> None:
    """Apart from has_perm (Django's shortcut, see test_the_cell), a superuser without a membership is an
    outsider: no list, no policy answer, 404 at the door and on read."""
    case = arrange(MATRIX["every category disclosed"], world)
    superuser = world.people[SUPERUSER]
    assert superuser.is_superuser and superuser.is_active
    assert not Case.objects.visible_to(superuser).exists()
    assert case_access(superuser, case) is None
    with pytest.raises(Http404):
        access_case(superuser, case.reference)
    with pytest.raises(Http404):
        read_case(case, user=superuser, membership=None, request=None)
