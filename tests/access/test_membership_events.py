"""Every change to users, memberships, agencies and permissions is audited, whichever path makes it,
in the transaction of the change: an event that cannot be written undoes the change."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import QuerySet
from django.test import Client, RequestFactory
from django.urls import reverse

from access.audit import AuditWriteError
from access.context import bound_request, current_request
from access.groups import GROUP_PREFIX
from access.models import Agency, AuditEvent, Membership, Role, User
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.4"
NEW_PASSWORD = "Ett-nytt-och-hemligt-losen-31"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def the_event(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, f"expected one {action}, found {len(found)}"
    return found[0]


def access_events() -> QuerySet[AuditEvent]:
    """The events of access/events.py, without django-auditlog's generic model.* entries beside them."""
    return AuditEvent.objects.filter(action__regex=r"^(auth|user|membership|agency)\.")


def user_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(action__startswith="user.")


def broken(*args: object, **kwargs: object) -> None:
    raise AuditWriteError("no audit today")


@pytest.fixture
def administrator(agency: Agency) -> User:
    user = UserFactory.create(username="admin", is_staff=True, is_superuser=True)
    Membership.objects.create(user=user, agency=agency, role=Role.SYSTEMADMINISTRATOR)
    return user


@pytest.fixture
def admin_client(administrator: User, login_client) -> Client:
    client: Client = login_client(administrator)
    return client


def assert_from_this_request(event: AuditEvent, response: object, actor: User) -> None:
    assert event.actor == actor
    # The administrator acts in their systemadministratör membership: that agency's granskare sees it.
    assert (event.agency_code, event.role) == ("soc-vuxen", Role.SYSTEMADMINISTRATOR)
    assert event.client_address == ADDRESS
    assert event.request_id == response["X-Request-ID"]


# --- Through the administration views: the actor is the logged-in administrator ------------------------


def test_granting_a_membership_records_who_for_whom_and_where(
    admin_client: Client, administrator: User, handlaggare: User, other_agency: Agency
) -> None:
    response = admin_client.post(
        reverse("administration:membership_grant", args=[handlaggare.public_id]),
        {"agency": other_agency.pk, "role": Role.SAMORDNARE},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="membership.create").latest("id")
    assert_from_this_request(event, response, administrator)
    assert event.object_type == "membership"
    assert event.object_reference == str(handlaggare.public_id)
    assert event.object_agency == "polisen"
    assert event.details == {"role": "samordnare", "active": True}
    assert handlaggare.username not in json.dumps(event.details)
    grant = the_event("admin.membership_grant")
    assert_from_this_request(grant, response, administrator)
    assert grant.details["role"] == "samordnare"
    # Granted, not in force: a second person has not confirmed it.
    assert not Membership.objects.active().filter(user=handlaggare, agency=other_agency).exists()


def test_ending_a_membership_keeps_it_and_records_who_ended_it(
    admin_client: Client, administrator: User, handlaggare_membership: Membership
) -> None:
    response = admin_client.post(
        reverse("administration:membership_end", args=[handlaggare_membership.public_id]),
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    handlaggare_membership.refresh_from_db()
    assert handlaggare_membership.ended_at is not None
    assert handlaggare_membership.ended_by == administrator
    assert not handlaggare_membership.user.memberships.active().exists()
    event = the_event("admin.membership_end")
    assert_from_this_request(event, response, administrator)
    assert event.object_agency == "soc-vuxen"
    assert event.details["role"] == "handlaggare"


def test_creating_a_user_is_recorded_without_the_link_or_any_password(
    admin_client: Client, administrator: User, mailoutbox
) -> None:
    response = admin_client.post(
        reverse("administration:user_create"),
        {"username": "ny.kollega", "first_name": "Ny", "last_name": "Kollega", "email": "ny@kommun.example"},
        REMOTE_ADDR=ADDRESS,
    )

    assert response.status_code == 302
    created = User.objects.get(username="ny.kollega")
    assert not created.has_usable_password()
    event = AuditEvent.objects.filter(action="user.create").latest("id")
    assert_from_this_request(event, response, administrator)
    assert event.object_type == "user"
    assert event.object_reference == str(created.public_id)
    assert event.details == {"is_active": True, "is_staff": False, "is_superuser": False}
    assert_from_this_request(the_event("admin.user_create"), response, administrator)
    (mail,) = mailoutbox
    token = re.search(r"/konto/aktivera/([^/]+)/", mail.body).group(1)
    every_column = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert token not in every_column
    assert created.password not in every_column
    # The link goes to the new user's mailbox, never to the administrator's screen.
    assert token not in response.content.decode()
    assert token not in admin_client.get(response["Location"]).content.decode()


def test_a_membership_the_administration_cannot_audit_is_not_added(
    admin_client: Client, handlaggare: User, other_agency: Agency, monkeypatch
) -> None:
    monkeypatch.setattr("access.events.record_event", broken)
    admin_client.raise_request_exception = False
    response = admin_client.post(
        reverse("administration:membership_grant", args=[handlaggare.public_id]),
        {"agency": other_agency.pk, "role": Role.SAMORDNARE},
    )
    assert response.status_code == 500
    assert not Membership.objects.filter(user=handlaggare, agency=other_agency).exists()


# --- Without a request: the shell, commands, the seed -------------------------------------------------


def test_a_change_outside_a_request_is_the_systems(handlaggare: User, other_agency: Agency) -> None:
    membership = Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.HANDLAGGARE)
    event = AuditEvent.objects.filter(action="membership.create").latest("id")
    assert event.actor is None
    assert event.actor_username == ""
    assert event.request_id == ""
    assert event.client_address == ""
    assert event.object_reference == str(membership.user.public_id)
    assert event.object_agency == "polisen"


def test_a_change_made_while_serving_a_request_names_its_user(
    handlaggare: User, administrator: User, other_agency: Agency
) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR=ADDRESS)
    request.user = administrator
    request.request_id = "begaran-12345678"
    with bound_request(request):
        Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.CHEF)
    event = AuditEvent.objects.filter(action="membership.create").latest("id")
    assert event.actor == administrator
    assert event.request_id == "begaran-12345678"
    assert event.client_address == ADDRESS


def test_no_actor_leaks_from_one_request_into_later_work(
    admin_client: Client, handlaggare: User, other_agency: Agency
) -> None:
    admin_client.get(reverse("admin:index"), REMOTE_ADDR=ADDRESS)
    assert current_request.get() is None
    Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.CHEF)
    event = AuditEvent.objects.filter(action="membership.create").latest("id")
    assert event.actor is None
    assert event.request_id == ""


def test_a_role_change_and_a_move_to_another_agency_are_recorded(
    handlaggare_membership: Membership, other_agency: Agency
) -> None:
    other_agency.is_active = False
    other_agency.save()
    handlaggare_membership.role = Role.SAMORDNARE
    handlaggare_membership.agency = other_agency
    handlaggare_membership.save()

    event = the_event("membership.change")
    assert event.object_agency == "polisen"
    assert event.details == {
        "old_role": "handlaggare",
        "new_role": "samordnare",
        "active_changed": True,
        "old_agency": "soc-vuxen",
    }


def test_saving_a_membership_unchanged_records_nothing(handlaggare_membership: Membership) -> None:
    handlaggare_membership.save()
    assert not events("membership.change")


def test_deleting_a_user_records_each_membership_and_the_user(
    handlaggare: User, other_agency: Agency
) -> None:
    Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.CHEF)
    public_id = str(handlaggare.public_id)
    handlaggare.delete()
    assert sorted(event.object_agency for event in events("membership.delete")) == ["polisen", "soc-vuxen"]
    assert the_event("user.delete").object_reference == public_id


# --- Users -------------------------------------------------------------------------------------------------


def test_creating_a_user_is_recorded(db: None) -> None:
    user = UserFactory.create(username="ny")
    event = the_event("user.create")
    assert event.object_reference == str(user.public_id)
    assert event.details == {"is_active": True, "is_staff": False, "is_superuser": False}


def test_deactivating_and_reactivating_a_user_are_recorded_with_their_agencies(handlaggare: User) -> None:
    handlaggare.is_active = False
    handlaggare.save()
    handlaggare.is_active = True
    handlaggare.save(update_fields=["is_active"])

    deactivated, activated = the_event("user.deactivate"), the_event("user.activate")
    assert deactivated.id < activated.id
    assert deactivated.object_reference == activated.object_reference == str(handlaggare.public_id)
    assert deactivated.details == {"agencies": ["soc-vuxen"]}


def test_giving_and_taking_staff_or_superuser_status_is_recorded(handlaggare: User) -> None:
    handlaggare.is_staff = True
    handlaggare.save()
    handlaggare.is_superuser = True
    handlaggare.is_staff = False
    handlaggare.save()

    first, second = events("user.staff_change")
    assert first.details == {
        "old_is_staff": False,
        "new_is_staff": True,
        "old_is_superuser": False,
        "new_is_superuser": False,
    }
    assert second.details == {
        "old_is_staff": True,
        "new_is_staff": False,
        "old_is_superuser": False,
        "new_is_superuser": True,
    }


def test_saving_other_fields_records_no_user_event(handlaggare: User) -> None:
    before = user_events().count()
    handlaggare.first_name = "Annan"
    handlaggare.save()
    handlaggare.set_password(NEW_PASSWORD)
    handlaggare.save(update_fields=["password"])
    assert user_events().count() == before


def test_a_deactivation_that_cannot_be_audited_does_not_happen(handlaggare: User, monkeypatch) -> None:
    monkeypatch.setattr("access.events.record_event", broken)
    handlaggare.is_active = False
    with pytest.raises(AuditWriteError):
        handlaggare.save()
    handlaggare.refresh_from_db()
    assert handlaggare.is_active


def test_direct_permissions_and_hand_given_groups_are_recorded(
    handlaggare: User, other_agency: Agency
) -> None:
    from access.groups import agency_group

    permission = Permission.objects.get(content_type__app_label="access", codename="change_membership")
    handlaggare.user_permissions.add(permission)
    handlaggare.user_permissions.clear()
    # A group of another agency given by hand, not through a membership: it carries that agency's cases.
    handlaggare.groups.add(agency_group(other_agency))

    granted, cleared, group = events("user.permissions_change")[-3:]
    assert granted.details == {
        "field": "user_permissions",
        "added": ["access.change_membership"],
        "removed": [],
        "derived": False,
    }
    assert cleared.details["removed"] == ["access.change_membership"]
    assert group.details == {
        "field": "groups",
        "added": [f"{GROUP_PREFIX}polisen"],
        "removed": [],
        "derived": False,
    }
    assert group.object_reference == str(handlaggare.public_id)


def test_groups_that_follow_a_membership_are_marked_as_derived(handlaggare_membership: Membership) -> None:
    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    handlaggare_membership.delete()
    after = list(access_events().filter(id__gt=first).order_by("id"))
    assert [event.action for event in after] == ["membership.delete", "user.permissions_change"]
    assert after[1].details == {
        "field": "groups",
        "added": [],
        "removed": [f"{GROUP_PREFIX}soc-vuxen"],
        "derived": True,
    }


# --- Agencies ---------------------------------------------------------------------------------------------


def test_deactivating_an_agency_is_recorded(agency: Agency) -> None:
    agency.is_active = False
    agency.save()
    event = the_event("agency.change")
    assert event.object_agency == event.object_reference == "soc-vuxen"
    assert event.details == {"changed": ["is_active"], "old_active": True, "new_active": False}


# --- Commit together, fail together ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestWithoutACallersTransaction:
    """As in the shell or a command that opened no transaction: the model opens its own."""

    def test_a_change_and_its_event_commit_together(self) -> None:
        membership = MembershipFactory.create(
            agency=AgencyFactory.create(code="skolan"), role=Role.HANDLAGGARE
        )
        membership.role = Role.CHEF
        membership.save()
        assert the_event("membership.change").details["new_role"] == "chef"
        membership.delete()
        assert the_event("membership.delete").object_agency == "skolan"

    def test_a_membership_whose_event_fails_is_rolled_back(self, monkeypatch) -> None:
        membership = MembershipFactory.create(
            agency=AgencyFactory.create(code="skolan"), role=Role.HANDLAGGARE
        )
        other = AgencyFactory.create(code="annan")
        monkeypatch.setattr("access.events.record_event", broken)

        with pytest.raises(AuditWriteError):
            Membership.objects.create(user=membership.user, agency=other, role=Role.CHEF)
        membership.role = Role.CHEF
        with pytest.raises(AuditWriteError):
            membership.save()
        with pytest.raises(AuditWriteError):
            membership.delete()
        other.is_active = False
        with pytest.raises(AuditWriteError):
            other.save()

        assert list(Membership.objects.values_list("user", "agency__code", "role")) == [
            (membership.user_id, "skolan", "handlaggare")
        ]
        assert Agency.objects.get(code="annan").is_active


# --- Paths that would bypass the signals ------------------------------------------------------------------


def test_the_demo_seed_is_audited_and_a_second_run_changes_nothing(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert len(events("membership.create")) == Membership.objects.count()
    assert len(events("user.create")) == User.objects.count()
    before = AuditEvent.objects.filter(action__startswith="membership.").count()
    users_before = AuditEvent.objects.filter(action__startswith="user.").count()
    call_command("seed_demo", stdout=StringIO())
    assert AuditEvent.objects.filter(action__startswith="membership.").count() == before
    assert AuditEvent.objects.filter(action__startswith="user.").count() == users_before


AUDITED_MODELS = r"(User|Membership|Agency|memberships|user_set)"
BYPASS = re.compile(rf"{AUDITED_MODELS}\b[^\n]*\.(update|bulk_create|bulk_update)\(")


def test_no_application_code_changes_audited_models_without_signals() -> None:
    """Queryset update() and bulk_create() send no signals, so their changes would go unaudited."""
    root = Path(django_settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for app in ("access", "cases", "coordination")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if BYPASS.search(line)
    ]
    assert not offenders, f"unaudited bulk changes to users, memberships or agencies: {offenders}"
