"""A granskare sees the events of their own agency's staff and the events about their agency's cases,
and nothing else, whatever they filter by, on every page and in every export."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from access.models import Agency, AuditEvent, Role, User
from tests.access.compliance_events import make_event
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# What must never reach a granskare of soc-vuxen: these markers are on the hidden events only.
HIDDEN = ("VR-POL2-44", "VR-SKO1-55", "polis-dold", "skola-dold", "trail-hidden-")


@pytest.fixture
def school(db: None) -> Agency:
    return AgencyFactory.create(code="skola", name="Skolan")


@pytest.fixture
def trail(agency: Agency, other_agency: Agency, school: Agency, handlaggare: User) -> dict[str, AuditEvent]:
    """soc-vuxen is the granskare's agency; polisen and skolan are not."""
    police_visible = MembershipFactory.create(
        user=UserFactory.create(username="polis-synlig"), agency=other_agency
    ).user
    police_hidden = MembershipFactory.create(
        user=UserFactory.create(username="polis-dold"), agency=other_agency
    ).user
    school_hidden = MembershipFactory.create(
        user=UserFactory.create(username="skola-dold"), agency=school
    ).user
    return {
        "own_read_own": make_event(actor=handlaggare, reference="VR-OWN1-11", request_id="trail-1"),
        "other_read_own": make_event(
            actor=police_visible,
            agency="polisen",
            reference="VR-OWN2-22",
            reason="disclosure",
            request_id="trail-2",
        ),
        "own_read_other": make_event(
            actor=handlaggare,
            owner="polisen",
            reference="VR-POL1-33",
            reason="disclosure",
            request_id="trail-3",
        ),
        "other_read_other": make_event(
            actor=police_hidden,
            agency="polisen",
            owner="polisen",
            reference="VR-POL2-44",
            request_id="trail-hidden-1",
        ),
        "third_read_other": make_event(
            actor=school_hidden,
            agency="skola",
            owner="polisen",
            reference="VR-SKO1-55",
            request_id="trail-hidden-2",
        ),
        "other_login": make_event(
            "auth.login",
            actor=police_hidden,
            agency="polisen",
            owner="",
            reference="",
            request_id="trail-hidden-3",
        ),
    }


def visible(user: User) -> set[int]:
    """The events of the trail fixture ``user`` sees (the fixtures' own events, such as the creation of
    memberships, are left out)."""
    return set(AuditEvent.objects.visible_to_auditor(user).values_list("pk", flat=True)) & {
        event.pk for event in AuditEvent.objects.filter(request_id__startswith="trail-")
    }


def ids(trail: dict[str, AuditEvent], *names: str) -> set[int]:
    return {trail[name].pk for name in names}


def test_a_granskare_sees_their_staff_and_their_cases(granskare: User, trail: dict[str, AuditEvent]) -> None:
    assert visible(granskare) == ids(trail, "own_read_own", "other_read_own", "own_read_other")


def test_every_event_a_granskare_sees_concerns_their_agency(
    granskare: User, trail: dict[str, AuditEvent]
) -> None:
    seen = AuditEvent.objects.visible_to_auditor(granskare)
    assert seen.exists()
    outside = [
        (event.action, event.agency_code, event.object_agency)
        for event in seen
        if "soc-vuxen" not in (event.agency_code, event.object_agency)
        # Events that belong to no agency at all (the system's, a never-member's) are everyone's.
        and not (
            event.agency_code == event.object_agency == ""
            and not event.action.startswith("model.")
            and (event.actor is None or not event.actor.memberships.exists())
        )
    ]
    assert outside == []


def test_events_of_no_agency_are_read_by_every_granskare_and_nothing_of_another_agency_comes_with_them(
    granskare: User, other_agency: Agency, trail: dict[str, AuditEvent]
) -> None:
    superuser = UserFactory.create(username="rot", is_superuser=True, is_staff=True)
    system_export = make_event(
        "nulagesbild.export", agency="", owner="", role="", reference="", request_id="trail-system"
    )
    root_login = make_event(
        "auth.login", actor=superuser, agency="", owner="", role="", reference="", request_id="trail-root"
    )
    # The system acting on another agency's case, or changing a row of any agency: not for everyone.
    system_on_police = make_event(
        "case.purge", agency="", owner=other_agency.code, role="", request_id="trail-system-police"
    )
    system_row_change = make_event(
        "model.update", agency="", owner="", role="", reference="", request_id="trail-system-row"
    )
    police_granskare = MembershipFactory.create(
        user=UserFactory.create(username="polis-granskare"), agency=other_agency, role=Role.GRANSKARE
    ).user
    for auditor in (granskare, police_granskare):
        seen = visible(auditor)
        assert {system_export.pk, root_login.pk} <= seen
    assert system_on_police.pk not in visible(granskare)
    assert system_row_change.pk not in visible(granskare) | visible(police_granskare)
    assert system_on_police.pk in visible(police_granskare)
    # Once the superuser is a member somewhere, their logins belong to that agency's granskare only.
    MembershipFactory.create(user=superuser, agency=other_agency)
    assert root_login.pk not in visible(granskare)
    assert root_login.pk in visible(police_granskare)


def test_several_granskare_roles_see_the_union(
    granskare: User, other_agency: Agency, trail: dict[str, AuditEvent]
) -> None:
    MembershipFactory.create(user=granskare, agency=other_agency, role=Role.GRANSKARE)
    assert visible(granskare) == ids(
        trail,
        "own_read_own",
        "other_read_own",
        "own_read_other",
        "other_read_other",
        "third_read_other",
        "other_login",
    )


def test_another_role_in_another_agency_widens_nothing(
    granskare: User, other_agency: Agency, trail: dict[str, AuditEvent]
) -> None:
    MembershipFactory.create(user=granskare, agency=other_agency, role=Role.HANDLAGGARE)
    assert visible(granskare) == ids(trail, "own_read_own", "other_read_own", "own_read_other")


@pytest.mark.parametrize("persona", ["handlaggare", "chef", "systemadministrator"])
def test_everyone_else_sees_nothing(
    persona: str, request: pytest.FixtureRequest, trail: dict[str, AuditEvent]
) -> None:
    assert not AuditEvent.objects.visible_to_auditor(request.getfixturevalue(persona)).exists()


def test_an_inactive_agency_gives_its_granskare_nothing(
    granskare: User, agency: Agency, trail: dict[str, AuditEvent]
) -> None:
    agency.is_active = False
    agency.save()
    assert not AuditEvent.objects.visible_to_auditor(granskare).exists()


FILTERS = [
    {},
    {"anvandare": "polis-dold"},
    {"anvandare": "skola-dold"},
    {"myndighet": "polisen"},
    {"myndighet": "skola"},
    {"referens": "VR-POL2-44"},
    {"referens": "vr-sko1-55"},
    {"handelse": "case.read"},
    {"handelse": "case."},
    {"handelse": "auth.login"},
    {"handelse": "auth."},
    {"fran": "2000-01-01", "till": "2100-12-31"},
    {"myndighet": "polisen", "handelse": "case.read", "referens": "VR-POL2-44"},
]


def leaked(body: str) -> list[str]:
    return [marker for marker in HIDDEN if marker.lower() in body.lower()]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(filters) for filters in FILTERS])
def test_no_filter_reaches_past_the_scope(
    filters: dict[str, str], granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    response = login_client(granskare).get(reverse("compliance:search"), filters)
    assert response.status_code == 200
    assert response.context["form"].is_valid(), response.context["form"].errors
    # The results only: the form itself rightly shows back what was typed into it.
    body = response.content.decode()
    results = body[body.index('id="resultat"') : body.index('id="exportera"')]
    assert leaked(results) == [], f"the search with {filters} showed another agency's events"
    shown = {row.event.request_id for row in response.context["rows"]}
    assert not [request_id for request_id in shown if request_id.startswith("trail-hidden-")]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(filters) for filters in FILTERS])
def test_no_export_reaches_past_the_scope(
    filters: dict[str, str], granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    response = login_client(granskare).post(
        reverse("compliance:export"), {**filters, "format": "csv", "grund": "egenkontroll"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert leaked(response.content.decode("utf-8-sig")) == [], f"the export with {filters} leaked"


def test_a_hidden_users_activity_is_empty(
    granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    body = (
        login_client(granskare).get(reverse("compliance:user_activity", args=["polis-dold"])).content.decode()
    )
    assert leaked(body.replace("polis-dold", "")) == []
    assert "Inga händelser." in body


def test_a_visible_users_activity_shows_only_what_concerns_the_agency(
    granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    response = login_client(granskare).get(reverse("compliance:user_activity", args=["polis-synlig"]))
    assert [row.event.pk for row in response.context["rows"]] == [trail["other_read_own"].pk]


def _normalised(body: str, reference: str) -> str:
    body = body.replace(reference, "REFERENCE")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


def test_a_case_outside_the_scope_looks_exactly_like_a_case_that_does_not_exist(
    granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    client = login_client(granskare)
    hidden = client.get(reverse("compliance:case_history", args=["VR-POL2-44"]))
    unknown = client.get(reverse("compliance:case_history", args=["VR-ZZZZ-99"]))
    assert hidden.status_code == unknown.status_code == 200
    assert _normalised(hidden.content.decode(), "VR-POL2-44") == _normalised(
        unknown.content.decode(), "VR-ZZZZ-99"
    )
    assert "trail-hidden-" not in hidden.content.decode()


def test_a_case_of_another_agency_shows_only_what_the_agencys_staff_did(
    granskare: User, trail: dict[str, AuditEvent], login_client
) -> None:
    # VR-POL1-33 is the police's; the granskare sees it only because their caseworker read it.
    response = login_client(granskare).get(reverse("compliance:case_history", args=["VR-POL1-33"]))
    assert [row.event.pk for row in response.context["rows"]] == [trail["own_read_other"].pk]


def test_logins_of_the_agencys_own_staff_are_in_scope_and_no_one_elses(
    agency: Agency, other_agency: Agency, granskare: User, handlaggare: User, login_client
) -> None:
    """Login events carry no acting agency (a user may have several): the granskare of each agency the
    user belongs to sees them, the granskare of any other agency does not."""
    from django.db import transaction

    from access.audit import record_event

    police_user = MembershipFactory.create(
        user=UserFactory.create(username="polis-inloggning"), agency=other_agency
    ).user
    with transaction.atomic():
        own = record_event("auth.login", actor=handlaggare, details={"second_factor": "totp"})
        elsewhere = record_event("auth.login", actor=police_user, details={"second_factor": "totp"})
    visible = set(AuditEvent.objects.visible_to_auditor(granskare).values_list("pk", flat=True))
    assert own.pk in visible
    assert elsewhere.pk not in visible
    body = login_client(granskare).get(reverse("compliance:search")).content.decode()
    assert "polis-inloggning" not in body
    assert re.search(rf"\b{re.escape(handlaggare.username)}\b", body)
