"""The case's coordination page and the action plan on it, in HTTP terms: who gets the page, who sees
the plan and its descriptions (audited, fail closed), who gets the forms and buttons, and what each
POST answers to each persona."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.audit import AuditWriteError
from access.models import AuditEvent, User
from cases.actions import do_change_status
from cases.choices import CaseStatus
from coordination.models import Action, ActionStatus
from tests.coordination.action_world import DESCRIPTION, PERSON_NAME, World, build_world, make_overdue
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

NOT_DISCLOSED = "Åtgärdsplanen är inte utlämnad till er myndighet"


_shared_world_once, world = shared_world(build_world)


def page_url(world: World) -> str:
    return reverse("coordination:case_coordination", args=[world.case.reference])


def add_url(world: World) -> str:
    return reverse("coordination:action_add", args=[world.case.reference])


def close_url(world: World, action: Action) -> str:
    return reverse("coordination:action_close", args=[world.case.reference, action.pk])


def reassign_url(world: World, action: Action) -> str:
    return reverse("coordination:action_reassign", args=[world.case.reference, action.pk])


def client_for(world: World, persona: str, login_client: Callable[[User], Client]) -> Client:
    return login_client(world.user(persona))


def plan_section(body: str) -> str:
    match = re.search(r'<section[^>]*aria-labelledby="atgardsplan".*?</section>', body, re.DOTALL)
    assert match is not None, "the page has no action-plan section"
    return match.group(0)


# --- The page and the visibility rule -------------------------------------------------------------------


def test_anonymous_users_are_sent_to_log_in(world: World) -> None:
    response = Client().get(page_url(world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize(
    "persona", ["owner_chef", "owner_granskare", "owner_systemadministrator", "police_chef"]
)
def test_those_who_never_reach_a_case_get_404(world: World, persona: str, login_client) -> None:
    assert client_for(world, persona, login_client).get(page_url(world)).status_code == 404


def test_a_missing_case_and_a_case_of_another_agency_look_the_same(world: World, login_client) -> None:
    from tests.factories import MembershipFactory, UserFactory

    stranger = MembershipFactory.create(user=UserFactory.create(username="framling")).user
    client = login_client(stranger)
    assert client.get(page_url(world)).status_code == 404
    assert client.get(reverse("coordination:case_coordination", args=["VR-XXXX-XX"])).status_code == 404


@pytest.mark.parametrize(
    "persona", ["owner_handlaggare", "owner_samordnare", "police_handlaggare", "health_handlaggare"]
)
def test_the_plan_with_its_descriptions_is_shown_to_those_who_see_it(
    world: World, persona: str, login_client
) -> None:
    world.add(by="owner_handlaggare", owner="police_handlaggare")
    response = client_for(world, persona, login_client).get(page_url(world))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    section = plan_section(response.content.decode())
    assert DESCRIPTION in section
    assert NOT_DISCLOSED not in section
    assert PERSON_NAME not in response.content.decode()


def test_a_disclosure_without_measures_shows_the_case_but_not_the_plan(world: World, login_client) -> None:
    world.add(by="owner_handlaggare", owner="police_handlaggare")
    response = client_for(world, "school_handlaggare", login_client).get(page_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert NOT_DISCLOSED in body
    assert DESCRIPTION not in body
    assert "Polisen" not in plan_section(body)
    assert "Lägg till åtgärden" not in body
    assert not AuditEvent.objects.filter(action="action.read").exists()


def test_reading_the_plan_is_audited(world: World, login_client) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    client_for(world, "police_handlaggare", login_client).get(page_url(world))
    event = AuditEvent.objects.filter(action="action.read").latest("id")
    assert event.actor == world.user("police_handlaggare")
    assert event.object_reference == world.case.reference
    assert event.details == {"actions": [str(action.pk)], "count": 1}


def test_an_unaudited_read_shows_nothing(world: World, login_client, monkeypatch: pytest.MonkeyPatch) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare")

    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.action_plan.record_event", broken)
    client = client_for(world, "owner_handlaggare", login_client)
    client.raise_request_exception = False
    response = client.get(page_url(world))
    assert response.status_code == 500
    assert DESCRIPTION not in response.content.decode()


def test_the_page_lists_overdue_first_then_by_due_date_and_closed_apart(world: World, login_client) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare", due_in=30, description="ZZC senare")
    world.add(by="owner_handlaggare", owner="owner_handlaggare", due_in=1, description="ZZB snart")
    make_overdue(world.add(by="owner_handlaggare", owner="owner_handlaggare", description="ZZA sen"))
    done = world.add(by="owner_handlaggare", owner="owner_handlaggare", description="ZZD klar")
    client = client_for(world, "owner_handlaggare", login_client)
    client.post(close_url(world, done), {"status": ActionStatus.DONE})
    section = plan_section(client.get(page_url(world)).content.decode())
    order = [
        section.index(text)
        for text in ("ZZA sen", "ZZB snart", "ZZC senare", "Avslutade åtgärder", "ZZD klar")
    ]
    assert order == sorted(order)
    assert section.count("Försenad") == 1


def test_the_page_needs_as_many_queries_for_ten_actions_as_for_one(world: World, login_client) -> None:
    client = client_for(world, "police_samordnare", login_client)
    world.add(by="owner_handlaggare", owner="police_handlaggare")
    client.get(page_url(world))
    with CaptureQueriesContext(connection) as one:
        client.get(page_url(world))
    for _ in range(9):
        world.add(by="owner_handlaggare", owner="police_handlaggare")
    with CaptureQueriesContext(connection) as ten:
        client.get(page_url(world))
    assert len(ten) == len(one)


def test_the_case_page_links_to_the_coordination_page(world: World, login_client) -> None:
    body = client_for(world, "owner_handlaggare", login_client).get(
        reverse("cases:detail", args=[world.case.reference])
    )
    assert f'href="{page_url(world)}"' in body.content.decode()


# --- Forms and buttons shown -----------------------------------------------------------------------------

# (add form, close/reassign buttons on a police action)
CONTROLS = {
    "owner_handlaggare": (True, False),
    "owner_samordnare": (True, False),
    "police_handlaggare": (True, True),
    "police_samordnare": (True, True),
    "shelter_handlaggare": (True, False),
    "health_handlaggare": (False, False),
}


@pytest.mark.parametrize(("persona", "expected"), CONTROLS.items())
def test_forms_and_buttons_are_offered_to_those_allowed(
    world: World, persona: str, expected: tuple[bool, bool], login_client
) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    body = client_for(world, persona, login_client).get(page_url(world)).content.decode()
    assert ("Lägg till åtgärden" in body) is expected[0]
    assert (f'action="{close_url(world, action)}"' in body) is expected[1]
    assert (f'action="{reassign_url(world, action)}"' in body) is expected[1]


def test_the_owning_agency_may_choose_any_agency_that_sees_the_plan(world: World, login_client) -> None:
    body = client_for(world, "owner_handlaggare", login_client).get(page_url(world)).content.decode()
    form = body[body.index('name="owner"') :]
    form = form[: form.index("</select>")]
    assert '<optgroup label="Polisen">' in form
    assert '<optgroup label="Kvinnojouren">' in form
    assert '<optgroup label="Socialtjänsten vuxen">' in form
    assert "Skolan" not in form
    assert "Regionen" not in form
    assert "owner_chef" not in form
    # The reader themself is chosen to begin with.
    own = f'value="soc-vuxen:{world.user("owner_handlaggare").public_id}" selected'
    assert own in form


def test_a_disclosed_agency_may_choose_only_its_own_caseworkers(world: World, login_client) -> None:
    body = client_for(world, "police_handlaggare", login_client).get(page_url(world)).content.decode()
    form = body[body.index('name="owner"') :]
    form = form[: form.index("</select>")]
    assert '<optgroup label="Polisen">' in form
    assert "Socialtjänsten" not in form
    assert "Kvinnojouren" not in form
    assert "police_chef" not in form


# --- Adding -----------------------------------------------------------------------------------------------


def post_action(client: Client, world: World, owner: str, agency_code: str, **data: str):
    form = {
        "description": DESCRIPTION,
        "owner": f"{agency_code}:{world.user(owner).public_id}",
        "due_on": "2999-01-01",
        **data,
    }
    return client.post(add_url(world), form)


def test_adding_an_action_goes_back_to_the_plan(world: World, login_client) -> None:
    client = client_for(world, "owner_handlaggare", login_client)
    response = post_action(client, world, "police_handlaggare", "polisen")
    assert response.status_code == 302
    assert response["Location"] == page_url(world) + "#atgardsplan"
    action = Action.objects.get()
    assert action.agency == world.agency("police")
    assert action.owner == world.user("police_handlaggare")
    assert str(action.due_on) == "2999-01-01"
    assert DESCRIPTION in client.get(page_url(world)).content.decode()


def test_bad_input_is_shown_in_swedish_and_nothing_is_lost(world: World, login_client) -> None:
    client = client_for(world, "owner_handlaggare", login_client)
    response = post_action(client, world, "owner_handlaggare", "soc-vuxen", due_on="2001-01-01")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Datumet har redan passerat." in body
    assert DESCRIPTION in body  # kept in the textarea
    assert not Action.objects.exists()


def test_a_refusal_of_the_action_is_shown_in_the_form(world: World, login_client) -> None:
    """A closed case offers no form; a post from a page opened before it closed meets the action's
    own refusal, shown in the form with the input kept."""
    client = client_for(world, "owner_handlaggare", login_client)
    do_change_status(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        new_status=CaseStatus.CLOSED,
    )
    body = client.get(page_url(world)).content.decode()
    assert "Lägg till åtgärden" not in body
    assert "Ärendet är avslutat. Öppna det igen för att lägga till åtgärder." in body
    response = post_action(client, world, "owner_handlaggare", "soc-vuxen")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ärendet är avslutat: öppna det igen för att lägga till åtgärder." in body
    assert DESCRIPTION in body
    assert not Action.objects.exists()


def test_an_owner_not_offered_is_refused(world: World, login_client) -> None:
    client = client_for(world, "police_handlaggare", login_client)
    response = post_action(client, world, "owner_handlaggare", "soc-vuxen")
    assert response.status_code == 200
    assert "Välj ett giltigt alternativ" in response.content.decode()
    assert not Action.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("school_handlaggare", 403),
        ("health_handlaggare", 403),
        ("owner_chef", 404),
        ("owner_granskare", 404),
        ("owner_systemadministrator", 404),
    ],
)
def test_those_who_may_not_add_are_refused(world: World, persona: str, status: int, login_client) -> None:
    own = world.membership(persona).agency.code
    response = post_action(client_for(world, persona, login_client), world, persona, own)
    assert response.status_code == status
    assert not Action.objects.exists()


def test_the_add_url_takes_no_get(world: World, login_client) -> None:
    assert client_for(world, "owner_handlaggare", login_client).get(add_url(world)).status_code == 405


# --- Closing and reassigning ---------------------------------------------------------------------------

CLOSE_STATUS = {
    "police_handlaggare": 302,
    "police_samordnare": 302,
    "owner_handlaggare": 403,  # the case's owning agency, not the action's
    "owner_samordnare": 403,
    "shelter_handlaggare": 403,  # another agency that sees the plan
    "health_handlaggare": 403,  # emergency access: read-only
    "school_handlaggare": 404,  # does not see the plan, so the action does not exist for it
    "owner_chef": 404,
    "owner_granskare": 404,
    "owner_systemadministrator": 404,
    "police_chef": 404,
}


@pytest.mark.parametrize(("persona", "status"), CLOSE_STATUS.items())
def test_the_action_owner_rule_over_http(world: World, persona: str, status: int, login_client) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    client = client_for(world, persona, login_client)
    response = client.post(close_url(world, action), {"status": ActionStatus.DONE})
    assert response.status_code == status
    expected = ActionStatus.DONE if status == 302 else ActionStatus.OPEN
    assert Action.objects.get(pk=action.pk).status == expected
    response = client.post(
        reassign_url(world, action), {"owner": str(world.user("police_samordnare").public_id)}
    )
    assert response.status_code == status


def test_an_action_of_another_case_is_not_found_here(world: World, login_client) -> None:
    from tests.factories import open_case

    other_case = open_case(world.membership("owner_handlaggare"))
    action = world.add(by="owner_handlaggare", owner="owner_handlaggare", case=other_case)
    response = client_for(world, "owner_handlaggare", login_client).post(
        close_url(world, action), {"status": ActionStatus.DONE}
    )
    assert response.status_code == 404


def test_closing_tells_what_happened(world: World, login_client) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    client = client_for(world, "police_handlaggare", login_client)
    response = client.post(close_url(world, action), {"status": ActionStatus.CANCELLED}, follow=True)
    body = response.content.decode()
    assert "Åtgärden är struken." in body
    assert Action.objects.get(pk=action.pk).status == ActionStatus.CANCELLED
    response = client.post(close_url(world, action), {"status": ActionStatus.DONE}, follow=True)
    assert "Åtgärden är redan avslutad." in response.content.decode()


def test_reassigning_over_http(world: World, login_client) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    client = client_for(world, "police_handlaggare", login_client)
    response = client.post(
        reassign_url(world, action), {"owner": str(world.user("police_samordnare").public_id)}, follow=True
    )
    assert "Åtgärden har fått en ny ansvarig." in response.content.decode()
    assert Action.objects.get(pk=action.pk).owner == world.user("police_samordnare")
    response = client.post(
        reassign_url(world, action), {"owner": str(world.user("owner_handlaggare").public_id)}, follow=True
    )
    assert "Välj en handläggare eller samordnare vid den ansvariga myndigheten." in response.content.decode()
    assert Action.objects.get(pk=action.pk).owner == world.user("police_samordnare")


# --- An action whose agency lost the case -------------------------------------------------------------------


def test_the_owning_agency_sees_and_strikes_an_action_whose_agency_lost_the_case(
    world: World, login_client
) -> None:
    from cases.sharing import do_end_disclosure

    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    client = client_for(world, "owner_handlaggare", login_client)
    note = "Myndigheten ser inte längre ärendet"
    assert note not in plan_section(client.get(page_url(world)).content.decode())
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )
    plan = plan_section(client.get(page_url(world)).content.decode())
    assert note in plan
    # Only striking is offered: calling it done is the police's word, and they are gone.
    assert plan.count(f'action="{close_url(world, action)}"') == 1
    assert f'value="{ActionStatus.CANCELLED}"' in plan and f'value="{ActionStatus.DONE}"' not in plan
    response = client.post(close_url(world, action), {"status": ActionStatus.DONE}, follow=True)
    assert "Bara den ansvariga myndighetens" in response.content.decode()
    assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN
    client.post(close_url(world, action), {"status": ActionStatus.CANCELLED})
    assert Action.objects.get(pk=action.pk).status == ActionStatus.CANCELLED
    assert note not in plan_section(client.get(page_url(world)).content.decode())
