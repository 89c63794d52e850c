"""User administration: what a systemadministratör may do, who is the second person, and that no one
changes their own account. The attacker at the end tries every way an administrator could make himself
someone else, and finds none."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.context import bound_request
from access.events import OwnAccountChange
from access.models import AccountChange, Agency, AuditEvent, EnrolmentLink, Membership, Role, User
from cases.models import Case
from tests.factories import PASSWORD, AgencyFactory, MembershipFactory, UserFactory, current_code, open_case

pytestmark = pytest.mark.django_db

LOGIN = reverse("access:login")


def url(name: str, target: User | Membership | AccountChange) -> str:
    return reverse(f"administration:{name}", args=[target.public_id])


def refused(action: str = "admin.self_change_refused") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def second_administrator(other_agency: Agency) -> User:
    return MembershipFactory.create(
        user=UserFactory.create(username="admin2"), agency=other_agency, role=Role.SYSTEMADMINISTRATOR
    ).user


@pytest.fixture
def admin_client(systemadministrator: User, login_client: Callable[[User], Client]) -> Client:
    return login_client(systemadministrator)


def grant(client: Client, user: User, agency: Agency, role: str = Role.HANDLAGGARE) -> Membership | None:
    client.post(url("membership_grant", user), {"agency": agency.pk, "role": role})
    return Membership.objects.current().filter(user=user, agency=agency).first()


# --- Who may open the administration ---


@pytest.mark.parametrize(
    ("role", "overview", "user_pages"),
    [
        (Role.SYSTEMADMINISTRATOR, 200, 200),
        (Role.CHEF, 200, 403),  # the second person for the agency's grants, nothing else
        (Role.HANDLAGGARE, 403, 403),
        (Role.SAMORDNARE, 403, 403),
        (Role.GRANSKARE, 403, 403),
    ],
)
def test_only_administrators_manage_accounts_and_chefs_only_confirm(
    agency: Agency, login_client: Callable[[User], Client], role: str, overview: int, user_pages: int
) -> None:
    person = MembershipFactory.create(
        user=UserFactory.create(username="person"), agency=agency, role=role
    ).user
    target = UserFactory.create(username="target")
    client = login_client(person)
    assert client.get(reverse("administration:overview")).status_code == overview
    assert client.get(reverse("administration:user_create")).status_code == user_pages
    assert client.get(url("user_detail", target)).status_code == user_pages
    for name in ("membership_grant", "user_deactivate", "lockout_lift", "account_change_request"):
        response = client.post(
            url(name, target), {"agency": agency.pk, "role": Role.HANDLAGGARE, "kind": "login_reset"}
        )
        assert response.status_code == (302 if user_pages == 200 else 403)
    assert target.is_active and not Membership.objects.active().filter(user=target).exists()
    if user_pages == 403:
        assert not Membership.objects.filter(user=target).exists()


def test_an_anonymous_visitor_is_sent_to_the_login() -> None:
    response = Client().get(reverse("administration:overview"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# --- Role grants take two people ---


def test_a_granted_role_counts_only_once_a_second_person_confirms_it(
    admin_client: Client, systemadministrator: User, second_administrator: User, agency: Agency, login_client
) -> None:
    target = UserFactory.create(username="ny.handlaggare")
    membership = grant(admin_client, target, agency)
    assert membership is not None and membership.confirmed_at is None
    assert not target.memberships.active().exists()
    case = open_case(MembershipFactory.create(agency=agency))
    target_client = login_client(target)
    assert target_client.get(reverse("cases:detail", args=[case.reference])).status_code == 404

    # The granter cannot be the second person.
    admin_client.post(url("membership_confirm", membership))
    membership.refresh_from_db()
    assert membership.confirmed_at is None
    assert refused()[-1].details == {"attempted": "membership_confirm"}

    login_client(second_administrator).post(url("membership_confirm", membership))
    membership.refresh_from_db()
    assert membership.confirmed_by == second_administrator
    assert target.memberships.active().filter(role=Role.HANDLAGGARE).exists()
    assert target_client.get(reverse("cases:detail", args=[case.reference])).status_code == 200
    confirm = AuditEvent.objects.get(action="admin.membership_confirm")
    assert confirm.actor == second_administrator
    assert confirm.details["granted_by"] == str(systemadministrator.public_id)


def test_the_agencys_chef_confirms_but_not_another_agencys(
    admin_client: Client, agency: Agency, other_agency: Agency, login_client
) -> None:
    target = UserFactory.create(username="ny.polis")
    membership = grant(admin_client, target, other_agency)
    assert membership is not None
    own_chef = MembershipFactory.create(
        user=UserFactory.create(username="chef.soc"), agency=agency, role=Role.CHEF
    )
    login_client(own_chef.user).post(url("membership_confirm", membership))
    membership.refresh_from_db()
    assert membership.confirmed_at is None
    polis_chef = MembershipFactory.create(
        user=UserFactory.create(username="chef.polis"), agency=other_agency, role=Role.CHEF
    )
    page = login_client(polis_chef.user).get(reverse("administration:overview"))
    assert "ny.polis" in page.content.decode()
    login_client(polis_chef.user).post(url("membership_confirm", membership))
    membership.refresh_from_db()
    assert membership.confirmed_by == polis_chef.user


def test_a_grant_can_be_turned_down(
    admin_client: Client, second_administrator: User, agency: Agency, login_client
):
    target = UserFactory.create(username="fel.person")
    membership = grant(admin_client, target, agency)
    assert membership is not None
    login_client(second_administrator).post(url("membership_reject", membership))
    membership.refresh_from_db()
    assert membership.ended_at is not None and membership.confirmed_at is None
    assert AuditEvent.objects.filter(action="admin.membership_reject").count() == 1


def test_an_administrator_never_holds_a_casework_role(
    admin_client: Client, systemadministrator: User, second_administrator: User, other_agency: Agency
) -> None:
    # Through the views: refused with a message.
    response = admin_client.post(
        url("membership_grant", second_administrator), {"agency": other_agency.pk, "role": Role.HANDLAGGARE}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user=second_administrator, role=Role.HANDLAGGARE).exists()
    # Whatever the path (a command, the shell): the model refuses it too.
    from access.models import RoleCombinationError

    with pytest.raises(RoleCombinationError):
        Membership.objects.create(
            user=second_administrator, agency=AgencyFactory.create(), role=Role.SAMORDNARE
        )
    handlaggare = MembershipFactory.create(role=Role.HANDLAGGARE).user
    with pytest.raises(RoleCombinationError):
        Membership.objects.create(user=handlaggare, agency=other_agency, role=Role.SYSTEMADMINISTRATOR)


# --- No one changes their own account ---


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("membership_grant", {"role": Role.HANDLAGGARE}),
        ("user_deactivate", {}),
        ("user_reactivate", {}),
        ("lockout_lift", {}),
        ("invitation_resend", {}),
        ("account_change_request", {"kind": "login_reset"}),
        ("account_change_request", {"kind": "email", "new_email": "jag@example.org"}),
    ],
)
def test_an_administrator_cannot_change_their_own_account(
    admin_client: Client, systemadministrator: User, other_agency: Agency, name: str, data: dict[str, str]
) -> None:
    before = set(Membership.objects.filter(user=systemadministrator).values_list("pk", "role", "ended_at"))
    if name == "membership_grant":
        data = {**data, "agency": str(other_agency.pk)}
    response = admin_client.post(url(name, systemadministrator), data)
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert "Du kan inte ändra ditt eget konto" in page.content.decode()
    assert (
        set(Membership.objects.filter(user=systemadministrator).values_list("pk", "role", "ended_at"))
        == before
    )
    assert not AccountChange.objects.exists()
    event = refused()[-1]
    assert event.actor == systemadministrator and event.object_reference == str(systemadministrator.public_id)


def test_ending_ones_own_role_is_refused(admin_client: Client, systemadministrator: User) -> None:
    own = systemadministrator.memberships.get()
    admin_client.post(url("membership_end", own))
    own.refresh_from_db()
    assert own.ended_at is None
    assert refused()[-1].details == {"attempted": "membership_end"}


def test_the_models_refuse_a_change_to_ones_own_memberships_or_status_on_any_path(
    systemadministrator: User, agency: Agency, rf
) -> None:
    request = rf.get("/")
    request.user = systemadministrator
    new_agency = AgencyFactory.create()
    with bound_request(request):
        with pytest.raises(OwnAccountChange), transaction.atomic():
            Membership.objects.create(user=systemadministrator, agency=new_agency, role=Role.CHEF)
        with pytest.raises(OwnAccountChange), transaction.atomic():
            systemadministrator.memberships.get().delete()
        systemadministrator.is_superuser = True
        with pytest.raises(OwnAccountChange), transaction.atomic():
            systemadministrator.save()
    assert not User.objects.get(pk=systemadministrator.pk).is_superuser
    assert systemadministrator.memberships.count() == 1


# --- Leavers, lockouts, resets ---


def test_deactivating_a_leaver_ends_roles_sessions_and_links(
    admin_client: Client, handlaggare: User, login_client
) -> None:
    their_client = login_client(handlaggare)
    admin_client.post(url("user_deactivate", handlaggare))
    handlaggare.refresh_from_db()
    assert not handlaggare.is_active
    assert not handlaggare.memberships.current().exists()
    assert handlaggare.memberships.get().ended_at is not None  # kept, with who ended it
    assert their_client.get(reverse("start"))["Location"].startswith(LOGIN)
    event = AuditEvent.objects.get(action="admin.user_deactivate")
    assert event.details == {"ended_memberships": ["soc-vuxen"], "sessions_ended": 1}
    # Reactivating restores the login, not the roles.
    admin_client.post(url("user_reactivate", handlaggare))
    reactivated = User.objects.get(pk=handlaggare.pk)
    assert reactivated.is_active
    assert not reactivated.memberships.active().exists()


def test_lifting_a_lockout_clears_the_failed_attempts(
    admin_client: Client, handlaggare: User, settings
) -> None:
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().post(LOGIN, {"username": handlaggare.username, "password": "fel"})
    assert AccessAttempt.objects.filter(username=handlaggare.username).exists()
    assert "Spärrad" in admin_client.get(url("user_detail", handlaggare)).content.decode()
    admin_client.post(url("lockout_lift", handlaggare))
    assert not AccessAttempt.objects.filter(username=handlaggare.username).exists()
    assert AuditEvent.objects.get(action="admin.lockout_lift").details["attempts_cleared"] >= 1


def test_a_login_reset_takes_effect_only_when_a_second_person_confirms(
    admin_client: Client, handlaggare: User, second_administrator: User, login_client
) -> None:
    handlaggare.email = "anna@kommun.example"
    handlaggare.save()
    their_client = login_client(handlaggare)
    old_device = TOTPDevice.objects.get(user=handlaggare)
    admin_client.post(url("account_change_request", handlaggare), {"kind": "login_reset"})
    change = AccountChange.objects.get(user=handlaggare)
    assert TOTPDevice.objects.filter(pk=old_device.pk).exists() and not mail.outbox
    # The one who asked cannot confirm.
    admin_client.post(url("account_change_confirm", change))
    assert TOTPDevice.objects.filter(pk=old_device.pk).exists()

    login_client(second_administrator).post(url("account_change_confirm", change))

    handlaggare.refresh_from_db()
    assert not handlaggare.has_usable_password()
    assert not TOTPDevice.objects.filter(user=handlaggare).exists()
    assert their_client.get(reverse("start"))["Location"].startswith(LOGIN)
    (message,) = mail.outbox
    assert message.to == ["anna@kommun.example"]
    assert "återställts" in message.subject
    token = re.search(r"/konto/aktivera/([^/\s]+)/", message.body).group(1)
    assert EnrolmentLink.objects.usable().filter(user=handlaggare, purpose="reset").count() == 1
    event = AuditEvent.objects.get(action="admin.login_reset")
    assert event.actor == second_administrator
    assert event.details["sessions_ended"] == 1 and event.details["devices_removed"] == 1
    assert Client().get(reverse("access:enrolment_link", args=[token])).status_code == 302


def test_an_email_change_is_two_person_and_tells_the_old_address(
    admin_client: Client, handlaggare: User, second_administrator: User, login_client
) -> None:
    handlaggare.email = "gammal@kommun.example"
    handlaggare.save()
    admin_client.post(
        url("account_change_request", handlaggare), {"kind": "email", "new_email": "ny@kommun.example"}
    )
    handlaggare.refresh_from_db()
    assert handlaggare.email == "gammal@kommun.example"
    login_client(second_administrator).post(url("account_change_confirm", AccountChange.objects.get()))
    handlaggare.refresh_from_db()
    assert handlaggare.email == "ny@kommun.example"
    (message,) = mail.outbox
    assert message.to == ["gammal@kommun.example"]


# --- The Django admin ---


def test_the_django_admin_is_for_superusers_only(systemadministrator: User, login_client) -> None:
    User.objects.filter(pk=systemadministrator.pk).update(is_staff=True)
    systemadministrator.refresh_from_db()
    client = login_client(systemadministrator)
    response = client.get("/admin/")
    assert response.status_code == 302
    # To the admin's login, which sends everyone to ours: staff status alone opens nothing.
    assert client.get(response["Location"])["Location"].startswith(LOGIN)
    assert client.get(reverse("admin:access_user_changelist")).status_code == 302


def test_even_a_superuser_sees_no_totp_key_and_sets_no_password_role_or_device(
    login_client, handlaggare: User, handlaggare_membership: Membership
) -> None:
    root = UserFactory.create(username="rot", is_superuser=True, is_staff=True)
    client = login_client(root)
    key = TOTPDevice.objects.get(user=handlaggare).key
    page = client.get(reverse("admin:access_user_change", args=[handlaggare.pk]))
    assert page.status_code == 200
    assert key not in page.content.decode()
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 404
    assert client.get(f"/admin/access/user/{handlaggare.pk}/password/").status_code == 404
    assert client.get(reverse("admin:access_user_add")).status_code == 403
    assert client.get(reverse("admin:access_user_delete", args=[handlaggare.pk])).status_code == 403
    assert client.get(reverse("admin:access_membership_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:access_membership_delete", args=[handlaggare_membership.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get("/admin/auth/group/").status_code == 404
    # is_staff and is_superuser are shown, not edited.
    client.post(
        reverse("admin:access_user_change", args=[handlaggare.pk]),
        {"username": handlaggare.username, "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )
    handlaggare.refresh_from_db()
    assert not handlaggare.is_superuser and not handlaggare.is_staff


# --- The attacker: an administrator who wants to read a case ---


def test_an_administrator_finds_no_way_to_read_a_case_or_become_someone_else(
    systemadministrator: User, agency: Agency, other_agency: Agency, login_client, mailoutbox
) -> None:
    """Every escalation path of issue 12, tried as the systemadministratör (with staff status as well),
    alone. Afterwards: no case read, no role in force, no authenticator of his choosing, no link in his
    mailbox, and every refused attempt in the trail."""
    User.objects.filter(pk=systemadministrator.pk).update(is_staff=True, email="admin@kommun.example")
    systemadministrator.refresh_from_db()
    victim_worker = MembershipFactory.create(
        user=UserFactory.create(username="anna", email="anna@kommun.example"), agency=other_agency
    ).user
    case = open_case(victim_worker.memberships.get())
    attacker = login_client(systemadministrator)
    detail = reverse("cases:detail", args=[case.reference])

    # 1. The Django admin: make himself superuser, give himself a role, read or set a TOTP key, a password.
    attacker.post(
        reverse("admin:access_user_change", args=[systemadministrator.pk]),
        {"username": systemadministrator.username, "is_active": "on", "is_superuser": "on", "is_staff": "on"},
    )
    attacker.post(
        reverse("admin:access_membership_add"),
        {"user": systemadministrator.pk, "agency": other_agency.pk, "role": Role.HANDLAGGARE},
    )
    attacker.get("/admin/otp_totp/totpdevice/")
    attacker.post(
        "/admin/otp_totp/totpdevice/add/",
        {
            "user": victim_worker.pk,
            "name": "mine",
            "key": "00" * 20,
            "confirmed": "on",
            "step": 30,
            "digits": 6,
        },
    )
    attacker.post(
        f"/admin/access/user/{victim_worker.pk}/password/",
        {"password1": "Attackerns-losenord-1", "password2": "Attackerns-losenord-1"},
    )

    # 2. The administration views, alone: a role for himself; a puppet account with his own address,
    # given a role and confirmed by himself; the victim's address changed to his; the victim's login reset.
    attacker.post(
        url("membership_grant", systemadministrator), {"agency": other_agency.pk, "role": Role.HANDLAGGARE}
    )
    attacker.post(
        reverse("administration:user_create"),
        {"username": "docka", "first_name": "D", "last_name": "D", "email": "admin@kommun.example"},
    )
    puppet = User.objects.get(username="docka")
    for role in (Role.HANDLAGGARE, Role.CHEF):
        attacker.post(url("membership_grant", puppet), {"agency": other_agency.pk, "role": role})
        pending = Membership.objects.pending().filter(user=puppet).first()
        if pending:
            attacker.post(url("membership_confirm", pending))
            attacker.post(url("membership_end", pending))
    attacker.post(
        url("account_change_request", victim_worker), {"kind": "email", "new_email": "admin@kommun.example"}
    )
    attacker.post(url("account_change_confirm", AccountChange.objects.get(kind="email")))
    AccountChange.objects.filter(kind="email").update(cancelled_at="2026-01-01T00:00:00Z")
    attacker.post(url("account_change_request", victim_worker), {"kind": "login_reset"})
    attacker.post(url("account_change_confirm", AccountChange.objects.get(kind="login_reset")))

    # The puppet, enrolled from the invitation in his own mailbox, holds no role in force.
    (invitation,) = [m for m in mailoutbox if "/konto/aktivera/" in m.body]
    token = re.search(r"/konto/aktivera/([^/\s]+)/", invitation.body).group(1)
    puppet_client = Client()
    puppet_client.get(reverse("access:enrolment_link", args=[token]))
    puppet_client.get(reverse("access:enrol"))
    from tests.factories import code_for_key

    device = TOTPDevice.objects.get(user=puppet, confirmed=False)
    puppet_client.post(
        reverse("access:enrol"),
        {"password1": PASSWORD + "x", "password2": PASSWORD + "x", "token": code_for_key(device.key)},
    )
    assert puppet_client.get(detail).status_code == 404
    assert puppet_client.get(reverse("cases:list")).status_code == 404

    # What he reached: nothing.
    systemadministrator.refresh_from_db()
    victim_worker.refresh_from_db()
    assert not systemadministrator.is_superuser
    assert set(
        Membership.objects.active().filter(user=systemadministrator).values_list("role", flat=True)
    ) == {Role.SYSTEMADMINISTRATOR}
    assert not Membership.objects.active().filter(user=puppet).exists()
    assert attacker.get(detail).status_code == 404
    assert Case.objects.visible_to(systemadministrator).count() == 0
    assert Case.objects.visible_to(puppet).count() == 0
    assert victim_worker.email == "anna@kommun.example"
    assert victim_worker.check_password(PASSWORD)
    assert [d.key for d in TOTPDevice.objects.filter(user=victim_worker)] == [
        TOTPDevice.objects.get(user=victim_worker).key
    ] and TOTPDevice.objects.get(user=victim_worker).key != "00" * 20
    assert not any("återställts" in m.subject for m in mailoutbox)
    assert current_code(victim_worker)  # the victim's own authenticator still works
    attempts = {event.details["attempted"] for event in refused()}
    assert {"membership_grant", "membership_confirm", "email_confirm", "login_reset_confirm"} <= attempts


# --- The granskare sees the administration ---


def test_the_anomaly_review_shows_grants_refusals_resets_and_lifted_lockouts(
    admin_client: Client,
    systemadministrator: User,
    second_administrator: User,
    granskare: User,
    handlaggare: User,
    agency: Agency,
    login_client,
) -> None:
    target = UserFactory.create(username="ny.person")
    membership = grant(admin_client, target, agency)
    assert membership is not None
    admin_client.post(url("membership_confirm", membership))  # refused: the granter
    admin_client.post(url("user_deactivate", systemadministrator))  # refused: his own account
    admin_client.post(url("lockout_lift", handlaggare))
    admin_client.post(url("account_change_request", handlaggare), {"kind": "login_reset"})
    login_client(second_administrator).post(url("account_change_confirm", AccountChange.objects.get()))

    from django.utils import timezone

    today = timezone.localdate().isoformat()
    response = login_client(granskare).get(reverse("compliance:anomalies"), {"fran": today, "till": today})
    rows = {
        (group.username, group.action, group.target) for group in response.context["result"].administration
    }
    assert ("systemadministrator", "admin.membership_grant", "ny.person") in rows
    assert ("systemadministrator", "admin.self_change_refused", "ny.person") in rows
    assert ("systemadministrator", "admin.self_change_refused", "systemadministrator") in rows
    assert ("systemadministrator", "admin.lockout_lift", "handlaggare") in rows
    assert ("systemadministrator", "admin.login_reset_request", "handlaggare") in rows
    # Confirmed by the other agency's administrator: seen here because the account is this agency's.
    assert ("admin2", "admin.login_reset", "handlaggare") in rows
    assert "Ändring av eget konto nekad" in response.content.decode()
