"""The start page's work lists per role: my actions and the agency's (overdue first), incoming
referrals, meetings, risk reviews due, and the chef's counts. References, dates and counts only; the
same scoping as the case list; as many queries for many rows as for one."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import Agency, User
from cases.actions import do_add_risk_assessment, do_change_status
from cases.choices import CaseStatus, InformationCategory, RiskInstrument, RiskLevel
from cases.models import Case, RiskAssessment
from cases.sharing import do_end_disclosure
from coordination.action_plan import do_close_action
from coordination.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Referral,
    ReferralStatus,
)
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.release import do_generate_draft, do_release_draft
from tests.coordination.action_world import DESCRIPTION, PERSON_NAME, World, build_world, make_overdue
from tests.factories import open_case
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

CASEWORK_SECTIONS = {
    "arenden",
    "mina-atgarder",
    "inkommande-forfragningar",
    "kommande-moten",
    "riskuppfoljningar",
}
COORDINATOR_SECTIONS = {"myndighetens-atgarder", "moten-att-forbereda"}
MANAGER_SECTIONS = {"arbetslage", "nulagesbild"}
EXPECTED_SECTIONS = {
    "owner_handlaggare": CASEWORK_SECTIONS,
    "owner_samordnare": CASEWORK_SECTIONS | COORDINATOR_SECTIONS,
    "owner_chef": MANAGER_SECTIONS,
    "owner_granskare": {"granskning"},
    "owner_systemadministrator": {"administration"},
}


_shared_world_once, world = shared_world(build_world)


def start_page(world: World, persona: str, login_client: Callable[[User], Client]) -> str:
    response = login_client(world.user(persona)).get(reverse("start"))
    assert response.status_code == 200
    return response.content.decode()


def sections(body: str) -> set[str]:
    return set(re.findall(r'<section class="card"[^>]*aria-labelledby="([^"]+)"', body))


def section(body: str, name: str) -> str:
    match = re.search(rf'<section[^>]*aria-labelledby="{name}".*?</section>', body, re.DOTALL)
    assert match is not None, f"no section {name!r} on the page"
    return match.group(0)


def owner_case(world: World, persona: str = "owner_handlaggare") -> Case:
    return open_case(world.membership(persona))


def positions(text: str, needles: list[str]) -> list[int]:
    return [text.index(needle) for needle in needles]


@pytest.mark.parametrize(("persona", "expected"), EXPECTED_SECTIONS.items())
def test_each_role_gets_its_own_lists(world: World, persona: str, expected: set[str], login_client) -> None:
    assert sections(start_page(world, persona, login_client)) == expected


# --- My actions and the agency's actions -------------------------------------------------------------


def test_my_actions_are_listed_by_reference_overdue_first(world: World, login_client) -> None:
    later, sooner, late = (owner_case(world) for _ in range(3))
    world.add(owner="owner_handlaggare", case=later, due_in=10)
    world.add(owner="owner_handlaggare", case=sooner, due_in=2)
    make_overdue(world.add(owner="owner_handlaggare", case=late))
    colleagues = world.add(owner="owner_samordnare", case=owner_case(world))
    finished = world.add(owner="owner_handlaggare", case=owner_case(world))
    do_close_action(
        finished,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        status=ActionStatus.DONE,
    )
    body = start_page(world, "owner_handlaggare", login_client)
    mine = section(body, "mina-atgarder")
    references = [late.reference, sooner.reference, later.reference]
    assert positions(mine, references) == sorted(positions(mine, references))
    assert mine.count("Försenad") == 1
    link = reverse("coordination:case_coordination", args=[late.reference])
    assert f'href="{link}"' in mine
    assert colleagues.case.reference not in mine
    assert finished.case.reference not in mine
    assert DESCRIPTION not in body
    # The markers of the world's name and free text (a bare "ZZ" can occur in a random CSRF token).
    assert "ZZNAME" not in body and "ZZDESCRIPTION" not in body


def test_without_actions_the_list_says_so(world: World, login_client) -> None:
    mine = section(start_page(world, "owner_handlaggare", login_client), "mina-atgarder")
    assert "Du har inga pågående åtgärder." in mine


def test_the_samordnare_sees_every_open_action_of_the_agency(world: World, login_client) -> None:
    handlaggares = world.add(owner="owner_handlaggare", case=owner_case(world), due_in=5)
    own = world.add(owner="owner_samordnare", case=owner_case(world), due_in=9)
    late = make_overdue(world.add(owner="owner_handlaggare", case=owner_case(world)))
    polices = world.add(owner="police_handlaggare")
    closed_case = owner_case(world)
    on_closed_case = world.add(owner="owner_handlaggare", case=closed_case)
    do_change_status(
        closed_case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        new_status=CaseStatus.CLOSED,
    )
    body = start_page(world, "owner_samordnare", login_client)
    agency = section(body, "myndighetens-atgarder")
    references = [late.case.reference, handlaggares.case.reference, own.case.reference]
    assert positions(agency, references) == sorted(positions(agency, references))
    assert agency.count("Försenad") == 1
    assert polices.case.reference not in agency
    assert on_closed_case.case.reference not in agency
    # Their own list holds only their own.
    mine = section(body, "mina-atgarder")
    assert own.case.reference in mine
    assert handlaggares.case.reference not in mine


def test_an_action_for_a_disclosed_case_leaves_the_list_with_the_disclosure(
    world: World, login_client
) -> None:
    world.add(owner="police_handlaggare")
    assert world.case.reference in section(
        start_page(world, "police_handlaggare", login_client), "mina-atgarder"
    )
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )
    body = start_page(world, "police_handlaggare", login_client)
    assert world.case.reference not in body


def test_an_action_whose_agency_no_longer_sees_the_plan_leaves_the_list(world: World, login_client) -> None:
    """The police still see the case (risk disclosed) but not the plan any more: the action goes."""
    world.add(owner="police_handlaggare")
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )
    world.disclose("police", [InformationCategory.RISK])
    body = start_page(world, "police_handlaggare", login_client)
    assert world.case.reference in section(body, "arenden")
    assert world.case.reference not in section(body, "mina-atgarder")


# --- Incoming referrals ----------------------------------------------------------------------------------


def referral(world: World, to: str, status: str = ReferralStatus.SENT, case: Case | None = None) -> Referral:
    return Referral.objects.create(
        case=case or world.case,
        from_agency=world.agency("owner"),
        to_agency=world.agency(to),
        disclosure=world.disclosures[to],
        status=status,
        sent_by=world.user("owner_handlaggare"),
    )


def test_incoming_referrals_are_listed_for_the_receiving_agency(world: World, login_client) -> None:
    waiting = referral(world, "police")
    referral(world, "police", status=ReferralStatus.ACCEPTED)
    to_shelter = referral(world, "shelter")
    incoming = section(start_page(world, "police_handlaggare", login_client), "inkommande-forfragningar")
    assert f'href="{reverse("coordination:referral_detail", args=[waiting.pk])}"' in incoming
    assert incoming.count(world.case.reference) == 1
    assert "från Socialtjänsten vuxen" in incoming
    assert str(to_shelter.pk) not in incoming
    sender = section(start_page(world, "owner_handlaggare", login_client), "inkommande-forfragningar")
    assert world.case.reference not in sender
    assert "Inga förfrågningar väntar på svar från er myndighet." in sender


# --- Meetings --------------------------------------------------------------------------------------------


def meeting(
    world: World,
    *,
    in_days: float,
    participants: list[str],
    organiser: str = "owner",
    status: str = MeetingStatus.PLANNED,
    agenda: int = 0,
    kind: str = MeetingKind.ORDINARY,
) -> Meeting:
    item = Meeting.objects.create(
        organiser=world.agency(organiser),
        starts_at=timezone.now() + datetime.timedelta(days=in_days),
        status=status,
        kind=kind,
        created_by=world.user("owner_samordnare"),
    )
    item.participants.set([world.agency(name) for name in participants])
    for position in range(agenda):
        AgendaItem.objects.create(
            meeting=item,
            case=owner_case(world),
            position=position + 1,
            added_by=world.user("owner_samordnare"),
        )
    return item


def when(item: Meeting) -> str:
    return timezone.localtime(item.starts_at).strftime("%Y-%m-%d %H:%M")


def test_upcoming_meetings_of_my_agencies_are_listed(world: World, login_client) -> None:
    soon = meeting(world, in_days=3, participants=["owner", "police"], kind=MeetingKind.EMERGENCY)
    later = meeting(world, in_days=30, participants=["owner", "police"])
    past = meeting(world, in_days=-1, participants=["owner", "police"])
    cancelled = meeting(world, in_days=5, participants=["owner", "police"], status=MeetingStatus.CANCELLED)
    elsewhere = meeting(world, in_days=4, participants=["shelter", "school"], organiser="shelter")
    upcoming = section(start_page(world, "police_handlaggare", login_client), "kommande-moten")
    assert positions(upcoming, [when(soon), when(later)]) == sorted(
        positions(upcoming, [when(soon), when(later)])
    )
    assert "Akut" in upcoming
    assert f'href="{reverse("coordination:meeting_detail", args=[soon.pk])}"' in upcoming
    for absent in (past, cancelled, elsewhere):
        assert when(absent) not in upcoming


def test_the_samordnare_prepares_the_agency_s_meetings_of_the_next_two_weeks(
    world: World, login_client
) -> None:
    soon = meeting(world, in_days=3, participants=["owner", "police"], agenda=2)
    later = meeting(world, in_days=20, participants=["owner", "police"])
    theirs = meeting(world, in_days=2, participants=["owner", "police"], organiser="police")
    body = start_page(world, "owner_samordnare", login_client)
    prepare = section(body, "moten-att-forbereda")
    assert when(soon) in prepare
    assert re.search(r'<td class="number">2</td>', prepare)
    assert when(later) not in prepare
    assert when(theirs) not in prepare
    assert when(later) in section(body, "kommande-moten")


# --- Risk reviews due -------------------------------------------------------------------------------------


def assess(
    world: World, case: Case, *, assessed_days_ago: int, review_in: int, by: str = "owner_handlaggare"
) -> None:
    today = timezone.localdate()
    do_add_risk_assessment(
        case,
        acting_user=world.user(by),
        membership=world.membership(by),
        assessment=RiskAssessment.new(
            instrument=RiskInstrument.FREDA,
            assessed_on=today - datetime.timedelta(days=assessed_days_ago),
            level=RiskLevel.HIGH,
            next_review_on=today + datetime.timedelta(days=review_in),
        ),
    )


def test_risk_reviews_due_follow_the_latest_assessment_of_my_cases(world: World, login_client) -> None:
    superseded, overdue, soon, far = (owner_case(world) for _ in range(4))
    assess(world, superseded, assessed_days_ago=30, review_in=3)
    assess(world, superseded, assessed_days_ago=1, review_in=60)
    assess(world, overdue, assessed_days_ago=40, review_in=-2)
    assess(world, soon, assessed_days_ago=5, review_in=10)
    assess(world, far, assessed_days_ago=5, review_in=20)
    colleagues = owner_case(world, "owner_samordnare")
    assess(world, colleagues, assessed_days_ago=5, review_in=1, by="owner_samordnare")
    closed = owner_case(world)
    assess(world, closed, assessed_days_ago=5, review_in=1)
    do_change_status(
        closed,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        new_status=CaseStatus.CLOSED,
    )
    reviews = section(start_page(world, "owner_handlaggare", login_client), "riskuppfoljningar")
    assert positions(reviews, [overdue.reference, soon.reference]) == sorted(
        positions(reviews, [overdue.reference, soon.reference])
    )
    assert reviews.count("Försenad") == 1
    for absent in (superseded, far, colleagues, closed):
        assert absent.reference not in reviews
    coordinator = section(start_page(world, "owner_samordnare", login_client), "riskuppfoljningar")
    for present in (overdue, soon, colleagues):
        assert present.reference in coordinator
    # The police see the risk category of the world's case, but reviewing it is the owner's work.
    assess(world, world.case, assessed_days_ago=1, review_in=1)
    police = section(start_page(world, "police_handlaggare", login_client), "riskuppfoljningar")
    assert world.case.reference not in police


# --- The chef: counts only ------------------------------------------------------------------------------


def counts_row(body: str, agency: Agency) -> list[int]:
    match = re.search(
        rf'<th scope="row">{agency.name}</th>(.*?)</tr>', section(body, "arbetslage"), re.DOTALL
    )
    assert match is not None, f"no row for {agency.name}"
    return [int(number) for number in re.findall(r'<td class="number">(\d+)</td>', match.group(1))]


def test_the_chef_sees_counts_of_the_agency_and_never_a_reference_or_a_name(
    world: World, login_client
) -> None:
    extra = [owner_case(world) for _ in range(3)]
    do_change_status(
        extra[2],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        new_status=CaseStatus.CLOSED,
    )
    world.add(owner="owner_handlaggare", case=extra[0])
    make_overdue(world.add(owner="owner_samordnare", case=extra[1]))
    make_overdue(world.add(owner="owner_handlaggare"))
    world.add(owner="police_handlaggare")
    body = start_page(world, "owner_chef", login_client)
    # Open cases: the world's case and two of the three extra ones.
    assert counts_row(body, world.agency("owner")) == [3, 3, 2]
    police = start_page(world, "police_chef", login_client)
    assert counts_row(police, world.agency("police")) == [0, 1, 0]
    assert "Socialtjänsten vuxen" not in section(police, "arbetslage")
    for page in (body, police):
        assert "VR-" not in page
        for case in [world.case, *extra]:
            assert case.reference not in page
        assert "owner_handlaggare" not in page
        assert "police_handlaggare" not in page
        assert PERSON_NAME not in page
        assert DESCRIPTION not in page


def test_the_chefs_start_page_lists_the_newest_releases_and_the_drafts_waiting(
    world: World, login_client
) -> None:
    body = start_page(world, "owner_chef", login_client)
    assert "Inga nulägesbilder är publicerade ännu." in section(body, "nulagesbild")
    chef, membership = world.user("owner_chef"), world.membership("owner_chef")
    # Last year: only a period that is over can be released.
    year = timezone.localdate().year - 1
    draft = do_generate_draft(Period(year), acting_user=chef, membership=membership)
    release = do_release_draft(
        draft.pk, reviewed_sha256=draft.sha256, acting_user=chef, membership=membership
    )
    do_generate_draft(Period(year), acting_user=chef, membership=membership)
    part = section(start_page(world, "owner_chef", login_client), "nulagesbild")
    assert reverse("coordination:nulagesbild_detail", kwargs={"release_id": release.pk}) in part
    assert f"Nulägesbild {year}" in part
    assert "1 utkast väntar på granskning." in part
    assert "Inga nulägesbilder" not in part
    # Only a chef gets the part at all.
    assert 'aria-labelledby="nulagesbild"' not in start_page(world, "owner_handlaggare", login_client)


# --- Query counts ----------------------------------------------------------------------------------------


def fill(world: World, rows: int) -> None:
    """Rows in every list of every role."""
    for _ in range(rows):
        case = owner_case(world)
        world.add(owner="owner_handlaggare", case=case)
        make_overdue(world.add(owner="owner_samordnare", case=case))
        assess(world, case, assessed_days_ago=3, review_in=2)
        world.disclose("police", [InformationCategory.MEASURES], case=case)
        world.add(owner="police_handlaggare", case=case)
        referral(world, "police", case=case)
        meeting(world, in_days=2, participants=["owner", "police"], agenda=1)


@pytest.mark.parametrize(
    "persona", ["owner_handlaggare", "owner_samordnare", "owner_chef", "police_handlaggare"]
)
def test_the_start_page_needs_as_many_queries_for_many_rows_as_for_one(
    world: World, persona: str, login_client, django_assert_max_num_queries
) -> None:
    client: Client = login_client(world.user(persona))
    fill(world, 1)
    client.get(reverse("start"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("start"))
    fill(world, 6)
    with django_assert_max_num_queries(len(one)):
        body = client.get(reverse("start")).content.decode()
    # The rows are really there: seven actions in the lists of everyone but the chef.
    assert body.count('/samverkan/"') >= (0 if persona == "owner_chef" else 7)
    assert Action.objects.count() == 7 * 3
