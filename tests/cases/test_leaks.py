"""Lists and searches never leak: Case.objects.visible_to against a model of the rules in plain Python.

The world has five agencies (one closed down), cases in each, disclosures in every state (in force,
revoked, consent withdrawn, expired with and without the nightly job, on their last day, overlapping,
to a closed-down agency), emergency accesses (active, expired, on top of a disclosure), and two
deliberate inconsistencies (a grant with no disclosure, a disclosure with no grant). For every user, the
queryset must equal what ``expected_visible`` computes by looping over plain rows, alone and combined
with every filter or ordering a view could add, without duplicates. A failure names the user, the
leaked reference and how that case stands.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.utils import timezone
from guardian.shortcuts import assign_perm

from access.models import Agency, Membership, Role, User
from cases.choices import CaseStatus, DisclosureEnd, InformationCategory, LegalBasis, ProtectedIdentity
from cases.crypto import blind_index
from cases.models import Case, CaseGroupObjectPermission, Disclosure, EmergencyAccess
from cases.permissions import case_access
from cases.sharing import do_disclose_case, do_end_disclosure, do_request_emergency_access, expire_disclosures
from cases.views.browsing import LIST_ORDERING
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

SHARED_NUMBER = "198112189876"  # a person known to three agencies, each unaware of the others
CASEWORK = {Role.HANDLAGGARE.value, Role.SAMORDNARE.value}


@dataclass
class World:
    agencies: dict[str, Agency]
    users: dict[str, User]
    # How each case stands, by reference: what a failure message prints.
    story: dict[str, list[str]] = field(default_factory=dict)

    def membership(self, username: str, agency: str) -> Membership:
        return Membership.objects.get(user=self.users[username], agency=self.agencies[agency])

    def note(self, case: Case, text: str) -> None:
        self.story.setdefault(case.reference, []).append(text)

    def describe(self, reference: str) -> str:
        return f"{reference} ({'; '.join(self.story.get(reference, []))})"


def today() -> datetime.date:
    return timezone.localdate()


def build_world() -> World:
    agencies = {
        code: AgencyFactory.create(code=code, name=name)
        for code, name in [
            ("soc", "Socialtjänsten"),
            ("polis", "Polisen"),
            ("skola", "Skolan"),
            ("jour", "Kvinnojouren"),
            ("nedlagd", "Nedlagda enheten"),
        ]
    }
    memberships: dict[str, list[tuple[str, str]]] = {
        "soc-handlaggare": [("soc", Role.HANDLAGGARE)],
        "soc-samordnare": [("soc", Role.SAMORDNARE)],
        "soc-chef": [("soc", Role.CHEF)],
        "soc-granskare": [("soc", Role.GRANSKARE)],
        "soc-admin": [("soc", Role.SYSTEMADMINISTRATOR)],
        "soc-inaktiv": [("soc", Role.HANDLAGGARE)],
        "polis-handlaggare": [("polis", Role.HANDLAGGARE)],
        "polis-chef": [("polis", Role.CHEF)],
        "skola-handlaggare": [("skola", Role.HANDLAGGARE)],
        "jour-samordnare": [("jour", Role.SAMORDNARE)],
        "jour-nodatkomst": [("jour", Role.HANDLAGGARE)],
        "polis-och-skola": [("polis", Role.HANDLAGGARE), ("skola", Role.SAMORDNARE)],
        "polis-handl-skola-chef": [("polis", Role.HANDLAGGARE), ("skola", Role.CHEF)],
        "nedlagd-handlaggare": [("nedlagd", Role.HANDLAGGARE)],
        "utan-medlemskap": [],
        "superanvandare": [],
    }
    users: dict[str, User] = {}
    for username, roles in memberships.items():
        users[username] = UserFactory.create(username=username, is_superuser=username == "superanvandare")
        for code, role in roles:
            MembershipFactory.create(user=users[username], agency=agencies[code], role=role)
    world = World(agencies, users)

    def open_in(code: str, count: int, owner: str) -> list[Case]:
        membership = world.membership(owner, code)
        cases = []
        for number in range(count):
            protected = number == 1
            case = open_case(
                membership,
                identity_number=SHARED_NUMBER if number == 0 else "",
                protected_identity=ProtectedIdentity.SECRECY_MARKING if protected else ProtectedIdentity.NONE,
            )
            # Spread dates and statuses so orderings and status filters have something to do.
            status = [CaseStatus.OPEN, CaseStatus.WATCH, CaseStatus.CLOSED][number % 3]
            opened = today() - datetime.timedelta(days=40 * number + 3 * len(world.story))
            Case.objects.filter(pk=case.pk).update(
                status=status,
                opened_on=opened,
                last_entry_on=opened + datetime.timedelta(days=number % 4),
                closed_on=opened + datetime.timedelta(days=5) if status == CaseStatus.CLOSED else None,
            )
            world.note(case, f"owned by {code}, {status}" + (", protected identity" if protected else ""))
            cases.append(case)
        return cases

    soc = open_in("soc", 9, "soc-handlaggare")
    polis = open_in("polis", 6, "polis-handlaggare")
    skola = open_in("skola", 5, "skola-handlaggare")
    jour = open_in("jour", 4, "jour-samordnare")
    nedlagd = open_in("nedlagd", 3, "nedlagd-handlaggare")

    def disclose(
        case: Case, by: str, owner_code: str, to: str, *categories: str, **kwargs: Any
    ) -> Disclosure:
        membership = world.membership(by, owner_code)
        disclosure = do_disclose_case(
            case,
            acting_user=membership.user,
            membership=membership,
            recipient=agencies[to],
            legal_basis=kwargs.pop("legal_basis", LegalBasis.NECESSARY),
            categories=categories or [InformationCategory.RISK],
            justification="Motivering.",
            **kwargs,
        )
        world.note(case, f"disclosed to {to}")
        return disclosure

    def end(disclosure: Disclosure, by: str, owner_code: str, kind: str = DisclosureEnd.REVOKED) -> None:
        membership = world.membership(by, owner_code)
        do_end_disclosure(disclosure, acting_user=membership.user, membership=membership, kind=kind)
        world.note(disclosure.case, f"disclosure to {disclosure.recipient.code} ended: {kind}")

    def expire(disclosure: Disclosure) -> None:
        Disclosure.objects.filter(pk=disclosure.pk).update(valid_until=today() - datetime.timedelta(days=1))
        world.note(disclosure.case, f"disclosure to {disclosure.recipient.code} expired yesterday")

    in_30_days = today() + datetime.timedelta(days=30)
    consent = {"legal_basis": LegalBasis.CONSENT, "valid_until": in_30_days}

    disclose(soc[0], "soc-handlaggare", "soc", "polis", InformationCategory.RISK)
    end(disclose(soc[1], "soc-handlaggare", "soc", "polis"), "soc-handlaggare", "soc")
    end(
        disclose(soc[2], "soc-samordnare", "soc", "polis", **consent),
        "soc-handlaggare",
        "soc",
        DisclosureEnd.CONSENT_WITHDRAWN,
    )
    expire(disclose(soc[3], "soc-handlaggare", "soc", "polis", valid_until=in_30_days))
    expire(disclose(soc[4], "soc-handlaggare", "soc", "skola", valid_until=in_30_days))
    disclose(soc[5], "soc-handlaggare", "soc", "skola", InformationCategory.CHILDREN, **consent)
    end(disclose(soc[5], "soc-handlaggare", "soc", "polis"), "soc-handlaggare", "soc")
    disclose(soc[5], "soc-handlaggare", "soc", "polis", InformationCategory.IDENTITY)
    disclose(soc[6], "soc-handlaggare", "soc", "nedlagd", *InformationCategory.values)
    disclose(soc[8], "soc-handlaggare", "soc", "jour", valid_until=today())
    disclose(polis[0], "polis-handlaggare", "polis", "soc", *InformationCategory.values)
    disclose(polis[1], "polis-handlaggare", "polis", "jour", InformationCategory.CHILDREN)
    disclose(skola[0], "skola-handlaggare", "skola", "polis", InformationCategory.IDENTITY)
    disclose(skola[1], "skola-handlaggare", "skola", "soc", InformationCategory.SUMMARY)
    disclose(nedlagd[0], "nedlagd-handlaggare", "nedlagd", "soc", InformationCategory.MEASURES)
    expire_disclosures()
    expire(disclose(jour[0], "jour-samordnare", "jour", "polis", valid_until=in_30_days))

    # Inconsistencies only a bug or a hand edit could cause; both must fail closed.
    assign_perm("cases.view_case", Group.objects.get(name="myndighet:jour"), soc[7])
    world.note(soc[7], "stale grant to jour, no disclosure")
    Disclosure.objects.create(
        case=polis[2],
        recipient=agencies["skola"],
        legal_basis=LegalBasis.NECESSARY,
        categories=[InformationCategory.RISK],
        created_by=users["polis-handlaggare"],
    )
    world.note(polis[2], "disclosure to skola without its grant")

    def emergency(case: Case, username: str, code: str, *, expired: bool = False) -> None:
        membership = world.membership(username, code)
        access = do_request_emergency_access(
            case, acting_user=membership.user, membership=membership, reason="Akut fara, personen saknas."
        )
        if expired:
            now = timezone.now()
            EmergencyAccess.objects.filter(pk=access.pk).update(
                started_at=now - datetime.timedelta(hours=3), expires_at=now - datetime.timedelta(hours=2)
            )
        world.note(case, f"emergency access by {username}" + (" (expired)" if expired else ""))

    emergency(soc[7], "jour-nodatkomst", "jour")
    emergency(polis[3], "jour-nodatkomst", "jour", expired=True)
    emergency(soc[0], "polis-handlaggare", "polis")  # on top of a disclosure in force
    emergency(nedlagd[1], "skola-handlaggare", "skola")

    # Closing an agency down afterwards: its people lose its cases and what was disclosed to it.
    closed = agencies["nedlagd"]
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    inactive = users["soc-inaktiv"]
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    return world


# --- The rules, from first principles ----------------------------------------------------------------


def expected_visible(user: User) -> dict[str, str]:
    """Reference -> why the user may see it, computed from plain rows with loops, no query filtering."""
    if not user.is_active:
        return {}
    day = timezone.localdate()
    now = timezone.now()
    agencies = {agency.pk: agency for agency in Agency.objects.all()}
    casework = {
        membership.agency_id
        for membership in Membership.objects.all()
        if membership.user_id == user.pk
        and membership.role in CASEWORK
        and agencies[membership.agency_id].is_active
    }
    grants = {
        (grant.group.name, grant.content_object_id)
        for grant in CaseGroupObjectPermission.objects.select_related("group", "permission")
        if grant.permission.codename == "view_case"
    }
    disclosures = list(Disclosure.objects.all())
    emergencies = list(EmergencyAccess.objects.all())
    visible: dict[str, str] = {}
    for case in Case.objects.all():
        reasons = []
        if case.agency_id in casework:
            reasons.append("owner")
        for disclosure in disclosures:
            in_force = disclosure.ended_at is None and (
                disclosure.valid_until is None or disclosure.valid_until >= day
            )
            recipient = agencies[disclosure.recipient_id]
            if (
                disclosure.case_id == case.pk
                and in_force
                and disclosure.recipient_id in casework
                and (f"myndighet:{recipient.code}", case.pk) in grants
            ):
                reasons.append(f"disclosure to {recipient.code}")
        for access in emergencies:
            if access.case_id == case.pk and access.user_id == user.pk and access.expires_at > now:
                reasons.append("emergency access")
        if reasons:
            visible[case.reference] = ", ".join(reasons)
    return visible


def compare(
    world: World, user: User, queryset: QuerySet[Case], wanted: set[str], what: str, *, count: bool = True
) -> list[str]:
    """Problems with ``queryset`` for ``user``: leaks, misses and duplicates, each named (``count``: also
    check that SQL COUNT agrees, which the rows alone would not show)."""
    rows = list(queryset.values_list("reference", flat=True))
    got = set(rows)
    problems = [
        f"LEAK {what}: {user.username} gets {world.describe(reference)}" for reference in sorted(got - wanted)
    ]
    problems += [
        f"MISSING {what}: {user.username} does not get {world.describe(reference)}"
        for reference in sorted(wanted - got)
    ]
    if len(rows) != len(got):
        duplicated = sorted({reference for reference in rows if rows.count(reference) > 1})
        problems.append(f"DUPLICATES {what}: {user.username} gets {duplicated} more than once")
    if count and queryset.count() != len(got):
        problems.append(f"COUNT {what}: {user.username} counts {queryset.count()} for {len(got)} cases")
    return problems


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def test_the_world_has_something_to_hide(world: World) -> None:
    # Guard against a world so small that the other tests would pass vacuously.
    totals = {name: len(expected_visible(user)) for name, user in world.users.items()}
    everything = Case.objects.count()
    assert everything == 27
    assert totals["soc-handlaggare"] == 9 + 3  # own, polis[0], skola[1], nedlagd[0]
    assert totals["polis-handlaggare"] == 6 + 3  # own, soc[0], soc[5], skola[0]
    assert totals["jour-nodatkomst"] == 4 + 3  # own, soc[8] (last day), polis[1], soc[7] by emergency
    assert totals["polis-och-skola"] == 6 + 5 + 2  # both agencies' own, soc[0], soc[5]
    for nobody in ("soc-chef", "soc-granskare", "soc-admin", "soc-inaktiv", "polis-chef"):
        assert totals[nobody] == 0, nobody
    for nobody in ("nedlagd-handlaggare", "utan-medlemskap", "superanvandare"):
        assert totals[nobody] == 0, nobody
    assert all(0 < total < everything for name, total in totals.items() if total)


def test_every_user_sees_exactly_what_the_rules_allow(world: World) -> None:
    problems = []
    for user in world.users.values():
        user.refresh_from_db()
        wanted = set(expected_visible(user))
        problems += compare(world, user, Case.objects.visible_to(user), wanted, "visible_to")
        distinct = Case.objects.visible_to(user).distinct().count()
        if distinct != Case.objects.visible_to(user).count():
            problems.append(f"DUPLICATES visible_to: {user.username} count differs from distinct count")
    assert not problems, "\n".join(problems)


# Filters and orderings a view could put on top of visible_to: (what, apply, which visible cases remain).
Filter = tuple[str, Callable[[QuerySet[Case]], QuerySet[Case]], Callable[[Case], bool]]


def lookup(what: str, keeps: Callable[[Case], bool], **conditions: object) -> Filter:
    return (what, lambda queryset: queryset.filter(**conditions), keeps)


def same(attribute: str, value: object) -> Callable[[Case], bool]:
    return lambda case: bool(getattr(case, attribute) == value)


def starts_with(prefix: str) -> Callable[[Case], bool]:
    return lambda case: case.reference.startswith(prefix)


def ordered(*ordering: str) -> Filter:
    def apply(queryset: QuerySet[Case]) -> QuerySet[Case]:
        queryset = queryset.select_related("agency", "responsible", "person")
        return queryset.order_by(*ordering) if ordering else queryset

    return (f"order_by{ordering} with the list view's select_related", apply, lambda case: True)


def filters_for(world: World) -> list[Filter]:
    everything = list(Case.objects.select_related("person", "agency").order_by("agency__code", "opened_on"))
    index = blind_index(SHARED_NUMBER)
    found: list[Filter] = [
        lookup(f"status={status}", same("status", status), status=status) for status in CaseStatus.values
    ]
    found.append(("open()", lambda queryset: queryset.open(), lambda case: case.status != CaseStatus.CLOSED))
    for number, case in enumerate(everything):
        reference = case.reference
        # Every reference exactly (what the reference search does); other spellings for a third of them,
        # which still covers each agency and each kind of case: the ORM work is what makes this test slow.
        found.append(lookup(f"reference={reference}", same("reference", reference), reference=reference))
        if number % 3:
            continue
        found.append(
            lookup(
                f"reference iexact {reference.lower()}",
                same("reference", reference),
                reference__iexact=reference.lower(),
            )
        )
        found.append(
            lookup(
                f"reference prefix {reference[:5]}",
                starts_with(reference[:5]),
                reference__startswith=reference[:5],
            )
        )
    found.append(lookup("reference prefix VR-", starts_with("VR-"), reference__startswith="VR-"))
    found.append(
        lookup(
            "identity number shared with other agencies",
            lambda case: case.person.identity_index == index,
            person__identity_index=index,
        )
    )
    found.append(
        (
            "protected identity",
            lambda queryset: queryset.exclude(person__protected_identity=ProtectedIdentity.NONE),
            lambda case: case.person.protected_identity != ProtectedIdentity.NONE,
        )
    )
    found += [
        lookup(f"agency={code}", same("agency_id", agency.pk), agency=agency)
        for code, agency in world.agencies.items()
    ]
    found += [
        ordered("-last_entry_on", "reference"),  # the list view
        ordered(),  # Case.Meta.ordering
        ordered("opened_on"),
        ordered("-agency__name", "reference"),
        ordered("person__protected_identity", "-reference"),
        ordered("responsible__username"),
    ]
    return found


def test_no_filter_or_ordering_adds_to_what_the_user_may_see(world: World) -> None:
    everything = {case.reference: case for case in Case.objects.select_related("person", "agency")}
    problems = []
    filters = filters_for(world)
    for user in world.users.values():
        user.refresh_from_db()
        visible = set(expected_visible(user))
        for what, apply, keeps in filters:
            wanted = {reference for reference in visible if keeps(everything[reference])}
            # Duplicates show in the rows; COUNT is checked (once per user) in the test above.
            problems += compare(world, user, apply(Case.objects.visible_to(user)), wanted, what, count=False)
    assert not problems, "\n".join(problems[:50])


def test_the_first_page_holds_only_visible_cases_in_the_list_order(world: World) -> None:
    for user in world.users.values():
        user.refresh_from_db()
        visible = expected_visible(user)
        ordered = Case.objects.visible_to(user).order_by("-last_entry_on", "reference")
        page = list(ordered[:5].values_list("reference", flat=True))
        leaked = [world.describe(reference) for reference in page if reference not in visible]
        assert not leaked, f"{user.username}'s first page shows {leaked}"
        assert len(page) == min(5, len(visible)), user.username


def test_the_list_views_pages_together_hold_exactly_the_visible_cases_in_order(world: World) -> None:
    """Case.objects.page_for, which the list view uses: every page, for every user."""
    for user in world.users.values():
        user.refresh_from_db()
        visible = expected_visible(user)
        shown: list[Case] = []
        number = 1
        while True:
            page = Case.objects.page_for(user, number, ordering=LIST_ORDERING, per_page=4)
            shown += page.object_list
            if not page.has_next():
                break
            number += 1
        references = [case.reference for case in shown]
        leaked = [world.describe(reference) for reference in references if reference not in visible]
        assert not leaked, f"{user.username}'s list shows {leaked}"
        assert sorted(references) == sorted(visible), user.username  # each once, none missing
        in_order = sorted(shown, key=lambda case: case.reference)
        in_order.sort(key=lambda case: case.last_entry_on, reverse=True)
        assert references == [case.reference for case in in_order], user.username


def test_a_number_known_elsewhere_is_not_found_through_another_agency(world: World) -> None:
    index = blind_index(SHARED_NUMBER)
    holders = {
        case.agency.code
        for case in Case.objects.filter(person__identity_index=index).select_related("agency")
    }
    assert holders == {"soc", "polis", "skola", "jour", "nedlagd"}
    for username in ("jour-samordnare", "nedlagd-handlaggare", "soc-chef", "superanvandare"):
        user = world.users[username]
        found = {
            world.describe(reference)
            for reference in Case.objects.visible_to(user)
            .filter(person__identity_index=index)
            .exclude(agency__code="jour")
            .values_list("reference", flat=True)
        }
        assert not found, f"{username} finds the shared number in {found}"


def test_a_grant_alone_or_a_disclosure_alone_shows_nothing(world: World) -> None:
    stale_grant = next(
        reference for reference, story in world.story.items() if "stale grant to jour, no disclosure" in story
    )
    no_grant = next(
        reference
        for reference, story in world.story.items()
        if "disclosure to skola without its grant" in story
    )
    jour = world.users["jour-samordnare"]
    skola = world.users["skola-handlaggare"]
    assert not Case.objects.visible_to(jour).filter(reference=stale_grant).exists()
    assert not Case.objects.visible_to(skola).filter(reference=no_grant).exists()


def test_a_grant_held_through_another_agency_does_not_back_a_disclosure(
    handlaggare_membership: Membership, other_agency: Agency
) -> None:
    """Both must agree per agency: a disclosure in force to the user's agency A counts only with A's own
    grant, not with a grant the user's other agency B still holds (B's disclosure expired yesterday and
    the nightly job has not yet removed its grant)."""
    school = AgencyFactory.create(code="skola", name="Skolan")
    both = MembershipFactory.create(agency=other_agency, role=Role.HANDLAGGARE).user
    MembershipFactory.create(user=both, agency=school, role=Role.HANDLAGGARE)
    owner = handlaggare_membership
    case = open_case(owner)
    to_school = do_disclose_case(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=school,
        legal_basis=LegalBasis.NECESSARY,
        categories=list(InformationCategory.values),
        justification="Motivering.",
        valid_until=today() + datetime.timedelta(days=3),
    )
    Disclosure.objects.filter(pk=to_school.pk).update(valid_until=today() - datetime.timedelta(days=1))
    # A disclosure to polisen without its grant (a bug or a hand edit).
    Disclosure.objects.create(
        case=case,
        recipient=other_agency,
        legal_basis=LegalBasis.NECESSARY,
        categories=list(InformationCategory.values),
        created_by=owner.user,
    )
    assert CaseGroupObjectPermission.objects.filter(
        content_object=case, group__name="myndighet:skola"
    ).exists()
    assert not Case.objects.visible_to(both).exists(), "listed through skola's stale grant"
    assert case_access(both, case) is None


# --- Query counts ---------------------------------------------------------------------------------------


def visible_mix(owner: Membership, recipient: Membership, count: int) -> None:
    """``count`` cases visible to ``recipient.user``: its own, disclosed to it and by emergency access,
    and as many again that it must not see."""
    for number in range(count):
        if number % 3 == 0:
            open_case(recipient)
            open_case(owner)
            continue
        case = open_case(owner)
        if number % 3 == 1:
            do_disclose_case(
                case,
                acting_user=owner.user,
                membership=owner,
                recipient=recipient.agency,
                legal_basis=LegalBasis.NECESSARY,
                categories=[InformationCategory.RISK],
                justification="Motivering.",
            )
        else:
            do_request_emergency_access(
                case, acting_user=recipient.user, membership=recipient, reason="Akut fara för personen."
            )
        open_case(owner)


@pytest.mark.parametrize("visible", [1, 30])
def test_visible_to_is_one_query_however_many_cases_it_finds(
    handlaggare_membership: Membership, outsider: User, visible: int, django_assert_num_queries: Any
) -> None:
    visible_mix(handlaggare_membership, outsider.memberships.get(), visible)
    outsider = User.objects.get(pk=outsider.pk)
    with django_assert_num_queries(1):
        found = list(Case.objects.visible_to(outsider))
    assert len(found) == visible
    with django_assert_num_queries(1):
        page = list(
            Case.objects.visible_to(outsider)
            .select_related("agency", "responsible", "person")
            .order_by("-last_entry_on", "reference")[:25]
        )
    assert len(page) == min(visible, 25)


@pytest.mark.parametrize("visible", [1, 30])
def test_the_list_views_page_is_three_queries_with_its_related_rows(
    handlaggare_membership: Membership, outsider: User, visible: int, django_assert_num_queries: Any
) -> None:
    visible_mix(handlaggare_membership, outsider.memberships.get(), visible)
    outsider = User.objects.get(pk=outsider.pk)
    # The count, the page's ids, the rows with agency, responsible and person joined.
    with django_assert_num_queries(3):
        page = Case.objects.page_for(outsider, 2 if visible > 25 else 1, ordering=LIST_ORDERING, per_page=25)
        shown = [(case.agency.code, case.responsible, case.person.protected_identity) for case in page]
    assert len(shown) == (visible - 25 if visible > 25 else visible)
