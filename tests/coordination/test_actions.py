"""The action plan's rules, at the level of the actions (coordination/action_plan.py): who adds an
action and for which agency, the action-owner rule for closing and reassigning (every role and agency),
sealing, notifications and the audit trail."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from access.audit import AuditWriteError
from access.models import AuditEvent, Membership, Role
from cases.actions import CaseActionError, do_change_status
from cases.choices import CaseStatus, InformationCategory
from cases.permissions import case_access
from cases.sharing import do_end_disclosure
from coordination.action_plan import (
    do_add_action,
    do_close_action,
    do_reassign_action,
    plan_rights,
    read_action_plan,
    responsible_agencies,
    sees_plan,
)
from coordination.models import Action, ActionStatus, Notification, NotificationKind
from tests.coordination.action_world import DESCRIPTION, World, build_world, make_overdue
from tests.factories import MembershipFactory, UserFactory
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

# Who may close or reassign an action owned by the police: the police's own caseworkers, nobody else.
POLICE_ACTION_MANAGERS = {"police_handlaggare", "police_samordnare"}
# Who may close or reassign an action owned by the case's owning agency.
OWNER_ACTION_MANAGERS = {"owner_handlaggare", "owner_samordnare"}
EVERYONE = [
    "owner_handlaggare",
    "owner_samordnare",
    "owner_chef",
    "owner_granskare",
    "owner_systemadministrator",
    "police_handlaggare",
    "police_samordnare",
    "police_chef",
    "shelter_handlaggare",
    "school_handlaggare",
    "health_handlaggare",
]


_shared_world_once, world = shared_world(build_world)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# --- Who sees the plan ---------------------------------------------------------------------------------

SEES_PLAN = {
    "owner_handlaggare": True,  # owning agency
    "owner_samordnare": True,
    "police_handlaggare": True,  # disclosure with MEASURES
    "shelter_handlaggare": True,
    "health_handlaggare": True,  # emergency access, read-only
    "school_handlaggare": False,  # disclosure without MEASURES
    "owner_chef": False,  # never reaches a case
    "owner_granskare": False,
    "owner_systemadministrator": False,
    "police_chef": False,
}


@pytest.mark.parametrize(("persona", "expected"), SEES_PLAN.items())
def test_the_visibility_rule(world: World, persona: str, expected: bool) -> None:
    assert sees_plan(case_access(world.user(persona), world.case)) is expected


def test_only_casework_through_owner_or_disclosure_adds_and_emergency_only_reads(world: World) -> None:
    def rights(persona: str):
        return plan_rights(world.user(persona), case_access(world.user(persona), world.case))

    assert rights("owner_handlaggare").can_add
    assert rights("police_handlaggare").can_add
    emergency = rights("health_handlaggare")
    assert emergency.sees and not emergency.can_add and emergency.managing == {}
    assert not rights("school_handlaggare").can_add


def test_the_agencies_that_may_own_an_action_are_the_owner_and_those_with_measures(world: World) -> None:
    names = [agency.name for agency in responsible_agencies(world.case)]
    assert names == ["Kvinnojouren", "Polisen", "Socialtjänsten vuxen"]


def test_an_expired_or_revoked_disclosure_stops_counting_at_once(world: World) -> None:
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )
    assert "Polisen" not in [agency.name for agency in responsible_agencies(world.case)]


# --- Adding -----------------------------------------------------------------------------------------------


def test_an_action_is_sealed_notified_and_audited(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    row = Action.objects.get(pk=action.pk)
    assert row.status == ActionStatus.OPEN
    assert row.agency == world.agency("police")
    assert row.created_by == world.user("owner_handlaggare")
    assert DESCRIPTION.encode() not in bytes(row.description_sealed)
    assert b"ZZDESCRIPTION" not in bytes(row.description_sealed)
    notification = Notification.objects.get(user=world.user("police_handlaggare"))
    assert notification.kind == NotificationKind.ACTION_ASSIGNED
    assert notification.action == row
    event = AuditEvent.objects.filter(action="action.add").latest("id")
    assert event.actor == world.user("owner_handlaggare")
    assert event.object_reference == world.case.reference
    assert event.object_agency == "soc-vuxen"
    assert event.agency_code == "soc-vuxen"
    assert event.details == {
        "action": str(row.pk),
        "agency": "polisen",
        "owner": str(world.user("police_handlaggare").public_id),
    }
    assert "ZZDESCRIPTION" not in str(event.details)


def test_adding_an_action_for_oneself_notifies_nobody(world: World) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare")
    assert not Notification.objects.exists()


def test_the_owning_agency_may_give_an_action_to_any_agency_that_sees_the_plan(world: World) -> None:
    for owner in ("owner_samordnare", "police_samordnare", "shelter_handlaggare"):
        assert world.add(by="owner_handlaggare", owner=owner).owner == world.user(owner)


@pytest.mark.parametrize("agency", ["school", "health"])
def test_an_agency_without_measures_cannot_own_an_action(world: World, agency: str) -> None:
    owner = f"{agency}_handlaggare"
    with pytest.raises(CaseActionError, match="skyddsinsatser är inte utlämnade dit"):
        world.add(by="owner_handlaggare", owner=owner)
    assert not Action.objects.exists()


def test_a_disclosed_agency_adds_actions_for_itself_only(world: World) -> None:
    own = world.add(by="police_handlaggare", owner="police_samordnare")
    assert own.agency == world.agency("police")
    for owner in ("owner_handlaggare", "shelter_handlaggare"):
        with pytest.raises(CaseActionError, match="som den själv ansvarar för"):
            world.add(by="police_handlaggare", owner=owner)
    assert Action.objects.count() == 1


@pytest.mark.parametrize(
    "persona",
    [
        "school_handlaggare",  # disclosure without MEASURES
        "health_handlaggare",  # emergency access: read-only
        "owner_chef",
        "owner_granskare",
        "owner_systemadministrator",
        "police_chef",
    ],
)
def test_nobody_else_adds_actions(world: World, persona: str) -> None:
    own_agency = world.membership(persona).agency
    with pytest.raises(CaseActionError):
        do_add_action(
            world.case,
            acting_user=world.user(persona),
            membership=world.membership(persona),
            agency=own_agency,
            owner=world.user(persona),
            due_on=in_days(3),
            description=DESCRIPTION,
        )
    assert not Action.objects.exists()
    assert not AuditEvent.objects.filter(action="action.add").exists()


def test_a_membership_of_someone_else_is_no_licence_to_add(world: World) -> None:
    with pytest.raises(CaseActionError):
        do_add_action(
            world.case,
            acting_user=world.user("owner_chef"),
            membership=world.membership("owner_handlaggare"),
            agency=world.agency("owner"),
            owner=world.user("owner_handlaggare"),
            due_on=in_days(3),
            description=DESCRIPTION,
        )


@pytest.mark.parametrize("owner", ["owner_chef", "owner_granskare", "police_handlaggare", "inactive"])
def test_the_owner_must_be_an_active_caseworker_of_the_owning_agency(world: World, owner: str) -> None:
    if owner == "inactive":
        user = UserFactory.create(username="inaktiv", is_active=False)
        MembershipFactory.create(user=user, agency=world.agency("owner"), role=Role.HANDLAGGARE)
    else:
        user = world.user(owner)
    with pytest.raises(CaseActionError, match="aktiv handläggare eller samordnare"):
        do_add_action(
            world.case,
            acting_user=world.user("owner_handlaggare"),
            membership=world.membership("owner_handlaggare"),
            agency=world.agency("owner"),
            owner=user,
            due_on=in_days(3),
            description=DESCRIPTION,
        )


@pytest.mark.parametrize(
    ("description", "due_in", "message"),
    [
        ("   ", 3, "Beskriv åtgärden."),
        ("x" * 2001, 3, "högst 2000 tecken"),
        (DESCRIPTION, -1, "Datumet har redan passerat."),
    ],
)
def test_bad_input_is_refused_in_swedish(world: World, description: str, due_in: int, message: str) -> None:
    with pytest.raises(CaseActionError, match=message):
        world.add(by="owner_handlaggare", owner="owner_handlaggare", description=description, due_in=due_in)
    assert not Action.objects.exists()


def test_a_closed_case_takes_no_new_actions(world: World) -> None:
    do_change_status(
        world.case,
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
        new_status=CaseStatus.CLOSED,
    )
    with pytest.raises(CaseActionError, match="Ärendet är avslutat"):
        world.add(by="owner_handlaggare", owner="owner_handlaggare")


def test_an_unaudited_add_adds_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.action_plan.record_event", broken)
    with pytest.raises(AuditWriteError):
        world.add(by="owner_handlaggare", owner="police_handlaggare")
    assert not Action.objects.exists()
    assert not Notification.objects.exists()


# --- The action-owner rule: closing --------------------------------------------------------------------


def close(world: World, action: Action, persona: str, status: str = ActionStatus.DONE) -> Action:
    return do_close_action(
        action, acting_user=world.user(persona), membership=world.membership(persona), status=status
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_police_close_an_action_the_police_own(world: World, persona: str) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    if persona in POLICE_ACTION_MANAGERS:
        closed = close(world, action, persona)
        assert closed.status == ActionStatus.DONE
        assert closed.closed_by == world.user(persona)
        assert closed.closed_at is not None
    else:
        with pytest.raises(CaseActionError):
            close(world, action, persona)
        assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN
        assert not AuditEvent.objects.filter(action="action.close").exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_owning_agency_closes_its_own_action(world: World, persona: str) -> None:
    action = world.add(by="owner_handlaggare", owner="owner_handlaggare")
    if persona in OWNER_ACTION_MANAGERS:
        assert close(world, action, persona, ActionStatus.CANCELLED).status == ActionStatus.CANCELLED
    else:
        with pytest.raises(CaseActionError):
            close(world, action, persona)
        assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN


def test_acting_through_another_agency_membership_does_not_help(world: World) -> None:
    """A caseworker of both the case's owner and the police may close a police action only as police."""
    both = world.user("owner_handlaggare")
    police = MembershipFactory.create(user=both, agency=world.agency("police"), role=Role.HANDLAGGARE)
    action = world.add(by="owner_samordnare", owner="police_handlaggare")
    with pytest.raises(CaseActionError):
        do_close_action(
            action,
            acting_user=both,
            membership=world.membership("owner_handlaggare"),
            status=ActionStatus.DONE,
        )
    assert do_close_action(action, acting_user=both, membership=police, status=ActionStatus.DONE).status == (
        ActionStatus.DONE
    )


def test_closing_is_audited_with_ids_and_status_only(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    close(world, action, "police_samordnare", ActionStatus.CANCELLED)
    event = AuditEvent.objects.filter(action="action.close").latest("id")
    assert event.actor == world.user("police_samordnare")
    assert event.agency_code == "polisen"
    assert event.object_reference == world.case.reference
    assert event.details == {"action": str(action.pk), "agency": "polisen", "status": "struken"}


def test_a_closed_action_stays_closed(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="owner_handlaggare")
    close(world, action, "owner_handlaggare")
    with pytest.raises(CaseActionError, match="redan avslutad"):
        close(world, action, "owner_samordnare", ActionStatus.CANCELLED)
    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE


@pytest.mark.parametrize("status", ["", "oppen", "klart", "avslutad"])
def test_an_action_closes_only_as_done_or_cancelled(world: World, status: str) -> None:
    action = world.add(by="owner_handlaggare", owner="owner_handlaggare")
    with pytest.raises(CaseActionError, match="klar eller struken"):
        close(world, action, "owner_handlaggare", status)


def test_an_agency_whose_disclosure_ended_can_no_longer_close_its_action(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )
    with pytest.raises(CaseActionError):
        close(world, action, "police_handlaggare")


def end_police_disclosure(world: World) -> None:
    do_end_disclosure(
        world.disclosures["police"],
        acting_user=world.user("owner_handlaggare"),
        membership=world.membership("owner_handlaggare"),
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_owning_agency_strikes_an_action_whose_agency_lost_the_case(
    world: World, persona: str
) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    end_police_disclosure(world)
    if persona in OWNER_ACTION_MANAGERS:
        struck = close(world, action, persona, ActionStatus.CANCELLED)
        assert struck.status == ActionStatus.CANCELLED
        assert struck.closed_by == world.user(persona)
        (event,) = AuditEvent.objects.filter(action="action.close")
        assert event.details == {
            "action": str(action.pk),
            "agency": world.agency("police").code,
            "status": "struken",
        }
        assert event.agency_code == world.agency("owner").code
    else:
        with pytest.raises(CaseActionError):
            close(world, action, persona, ActionStatus.CANCELLED)
        assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN


def test_the_owning_agency_never_calls_another_agencys_action_done_nor_reassigns_it(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    with pytest.raises(CaseActionError):
        # While the police still see the case, their action is theirs alone, even to strike.
        close(world, action, "owner_handlaggare", ActionStatus.CANCELLED)
    end_police_disclosure(world)
    with pytest.raises(CaseActionError):
        close(world, action, "owner_handlaggare", ActionStatus.DONE)
    with pytest.raises(CaseActionError):
        reassign(world, action, "owner_handlaggare", "police_samordnare")
    assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN


def test_an_unaudited_close_changes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    action = world.add(by="owner_handlaggare", owner="owner_handlaggare")

    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.action_plan.record_event", broken)
    with pytest.raises(AuditWriteError):
        close(world, action, "owner_handlaggare")
    assert Action.objects.get(pk=action.pk).status == ActionStatus.OPEN


# --- Reassigning ------------------------------------------------------------------------------------------


def reassign(world: World, action: Action, persona: str, to: str) -> Action:
    return do_reassign_action(
        action, acting_user=world.user(persona), membership=world.membership(persona), owner=world.user(to)
    )


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_police_reassign_a_police_action_within_the_police(world: World, persona: str) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    Notification.objects.all().delete()
    if persona in POLICE_ACTION_MANAGERS:
        assert reassign(world, action, persona, "police_samordnare").owner == world.user("police_samordnare")
        if persona != "police_samordnare":
            assert Notification.objects.get().user == world.user("police_samordnare")
    else:
        with pytest.raises(CaseActionError):
            reassign(world, action, persona, "police_samordnare")
        assert Action.objects.get(pk=action.pk).owner == world.user("police_handlaggare")
        assert not Notification.objects.exists()


@pytest.mark.parametrize("to", ["owner_handlaggare", "police_chef", "shelter_handlaggare"])
def test_an_action_stays_within_its_agency(world: World, to: str) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    with pytest.raises(CaseActionError, match="aktiv handläggare eller samordnare"):
        reassign(world, action, "police_samordnare", to)


def test_reassigning_to_the_same_owner_is_refused(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    with pytest.raises(CaseActionError, match="redan den ansvarige"):
        reassign(world, action, "police_samordnare", "police_handlaggare")


def test_reassigning_is_audited_with_ids_only(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    reassign(world, action, "police_samordnare", "police_samordnare")
    event = AuditEvent.objects.filter(action="action.reassign").latest("id")
    assert event.details == {
        "action": str(action.pk),
        "from": str(world.user("police_handlaggare").public_id),
        "to": str(world.user("police_samordnare").public_id),
    }


def test_a_closed_action_is_not_reassigned(world: World) -> None:
    action = world.add(by="owner_handlaggare", owner="police_handlaggare")
    close(world, action, "police_handlaggare")
    with pytest.raises(CaseActionError, match="redan avslutad"):
        reassign(world, action, "police_handlaggare", "police_samordnare")


# --- The audited read -------------------------------------------------------------------------------------


def test_the_plan_is_read_after_its_audit_event_overdue_first(world: World) -> None:
    later = world.add(by="owner_handlaggare", owner="owner_handlaggare", due_in=20, description="Senare")
    sooner = world.add(by="owner_handlaggare", owner="owner_handlaggare", due_in=2, description="Snart")
    overdue = make_overdue(world.add(by="owner_handlaggare", owner="police_handlaggare", description="Sen"))
    done = world.add(by="owner_handlaggare", owner="owner_handlaggare", description="Klar")
    close(world, done, "owner_handlaggare")
    plan = read_action_plan(world.case, user=world.user("police_handlaggare"), request=None)
    assert [entry.action.pk for entry in plan.open] == [overdue.pk, sooner.pk, later.pk]
    assert [entry.description for entry in plan.open] == ["Sen", "Snart", "Senare"]
    assert [entry.is_overdue for entry in plan.open] == [True, False, False]
    # The police manage their own action only.
    assert [entry.may_manage for entry in plan.open] == [True, False, False]
    assert [entry.action.pk for entry in plan.closed] == [done.pk]
    event = AuditEvent.objects.filter(action="action.read").latest("id")
    assert event.actor == world.user("police_handlaggare")
    assert event.reason == "disclosure"
    assert event.agency_code == "polisen"
    assert event.details["count"] == 4
    assert sorted(event.details["actions"]) == sorted(str(a.pk) for a in (later, sooner, overdue, done))
    assert "Snart" not in str(event.details)


def test_an_emergency_reader_reads_the_plan_but_manages_nothing(world: World) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare")
    plan = read_action_plan(world.case, user=world.user("health_handlaggare"), request=None)
    assert [entry.description for entry in plan.open] == [DESCRIPTION]
    assert not any(entry.may_manage or entry.other_owners for entry in plan.open)
    assert AuditEvent.objects.filter(action="action.read").latest("id").reason == "emergency"


def test_the_plan_is_not_read_without_measures(world: World) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare")
    with pytest.raises(PermissionDenied):
        read_action_plan(world.case, user=world.user("school_handlaggare"), request=None)
    assert not AuditEvent.objects.filter(action="action.read").exists()


def test_an_unaudited_read_decrypts_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.add(by="owner_handlaggare", owner="owner_handlaggare")
    opened: list[str] = []

    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    def spy(self: object, instance: object, field: str) -> str:
        opened.append(field)
        return ""

    monkeypatch.setattr("coordination.action_plan.record_event", broken)
    monkeypatch.setattr("cases.vault.CaseVault.open", spy)
    with pytest.raises(AuditWriteError):
        read_action_plan(world.case, user=world.user("owner_handlaggare"), request=None)
    assert opened == []


def test_reassign_choices_are_the_agency_s_other_caseworkers(world: World) -> None:
    world.add(by="owner_handlaggare", owner="police_handlaggare")
    plan = read_action_plan(world.case, user=world.user("police_samordnare"), request=None)
    assert [member.user.username for member in plan.open[0].other_owners] == ["police_samordnare"]
    assert all(isinstance(member, Membership) for member in plan.open[0].other_owners)


def test_measures_alone_is_what_the_plan_follows(world: World) -> None:
    """The school sees every category but MEASURES, and not the plan; MEASURES alone shows it."""
    world.disclose("school", [InformationCategory.MEASURES])
    assert sees_plan(case_access(world.user("school_handlaggare"), world.case))
