"""The demo seed is deterministic, lets every demo user log in, and never runs silently in production."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from access import demo
from access.models import Agency, AgencyKind, Membership, Role, User
from tests.factories import UserFactory, code_for_key

pytestmark = pytest.mark.django_db


def test_it_refuses_when_debug_is_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to create demo users"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_it_refuses_a_database_with_real_users_even_with_the_flag(settings) -> None:
    settings.DEBUG = False
    UserFactory(username="riktig.person")
    with pytest.raises(CommandError, match="already holds real user accounts"):
        call_command("seed_demo", allow_without_debug=True, stdout=StringIO())
    assert not Agency.objects.exists()


def test_with_the_flag_it_runs_but_warns(settings, capsys: pytest.CaptureFixture[str]) -> None:
    settings.DEBUG = False
    call_command("seed_demo", allow_without_debug=True, stdout=StringIO())
    assert "WARNING: DEBUG is off" in capsys.readouterr().err
    assert User.objects.count() == len(demo.USERS)


def test_it_creates_every_agency_kind_and_every_role_and_is_repeatable(settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert set(Agency.objects.values_list("kind", flat=True)) == set(AgencyKind.values)
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert User.objects.count() == len(demo.USERS)
    assert Membership.objects.filter(user__username="samordnare").count() == 2


@pytest.mark.parametrize("username", [user.username for user in demo.USERS if user.enrolled])
def test_every_enrolled_demo_user_logs_in_with_the_documented_secrets(username: str, settings) -> None:
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    client = Client()
    client.post(reverse("access:login"), {"username": username, "password": demo.DEMO_PASSWORD})
    response = client.post(reverse("access:second_factor"), {"token": code_for_key(demo.DEMO_TOTP_KEY_HEX)})
    assert response["Location"] == reverse("start")


def test_the_documented_base32_secret_is_the_key(settings) -> None:
    import base64

    assert base64.b32encode(bytes.fromhex(demo.DEMO_TOTP_KEY_HEX)).decode() == demo.DEMO_TOTP_BASE32


def test_demo_totp_prints_the_current_code_only_in_debug(settings) -> None:
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_totp", stdout=out)
    assert out.getvalue().split()[0] in {
        code_for_key(demo.DEMO_TOTP_KEY_HEX, offset_steps=step) for step in (-1, 0, 1)
    }
    settings.DEBUG = False
    with pytest.raises(CommandError, match="works only on the local demo"):
        call_command("demo_totp", stdout=StringIO())


def test_the_demo_cases_are_created_once_and_open_for_their_handlaggare(settings) -> None:
    from cases import demo as demo_cases
    from cases.models import Case, Person
    from cases.policy import access_case, acting_membership
    from cases.reading import read_case

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert Case.objects.count() == len(demo_cases.CASES)
    for item in demo_cases.CASES:
        user = User.objects.get(username=item.username)
        case = access_case(user, item.reference)
        detail = read_case(case, user=user, membership=acting_membership(user, case), request=None)
        assert detail.person.name == item.person.name
        assert detail.summary
    protected = Person.objects.get(case__reference="VR-DEMB-3M")
    assert protected.has_protected_identity
    assert bytes(protected.address_sealed) == b""


def test_the_closed_demo_case_keeps_its_historical_last_entry(settings) -> None:
    from cases.models import Case

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    closed = Case.objects.get(reference="VR-DEMC-4P")
    assert closed.status == "avslutat"
    assert closed.last_entry_on == closed.closed_on
