"""The send form: choose the agency, then write the request, with the disclosure fields when no
disclosure to that agency is in force. Both are recorded in one step or neither is; mistakes keep
what the user typed; only the owning agency's caseworkers get the form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from access.models import AuditEvent, User
from cases.models import Disclosure
from coordination.models import Referral
from coordination.views.referrals import WITH_DISCLOSURE
from tests.coordination.referral_world import NOBODY, RECEIVERS, REQUEST_TEXT, SENDERS, World, build_world
from tests.shared_world import shared_world

pytestmark = pytest.mark.django_db

Login = Callable[[User], Client]


_shared_world_once, world = shared_world(build_world)


def send_url(world: World) -> str:
    return reverse("coordination:referral_send", args=[world.case.reference])


def disclosure_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        WITH_DISCLOSURE: "1",
        "legal_basis": "samtycke",
        "categories": ["sammanfattning", "risk"],
        "valid_until": "2999-12-31",
        "justification": "Personen vill att jouren stöttar henne.",
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("persona", SENDERS)
def test_step_one_offers_the_other_agencies_and_marks_those_with_a_disclosure(
    world: World, login_client: Login, persona: str
) -> None:
    response = login_client(world.user(persona)).get(send_url(world))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Polisen (utlämnande gäller)" in content
    assert ">Kvinnojouren<" in content
    assert ">Socialtjänsten vuxen<" not in content  # never to itself


def test_step_one_without_a_choice_asks_for_one(world: World, login_client: Login) -> None:
    response = login_client(world.user("owner_handlaggare")).get(send_url(world), {"till": ""})
    assert "Välj vilken myndighet förfrågan ska gå till." in response.content.decode()


def test_step_two_with_a_disclosure_in_force_shows_it_and_no_disclosure_fields(
    world: World, login_client: Login
) -> None:
    response = login_client(world.user("owner_handlaggare")).get(send_url(world), {"till": "polisen"})
    content = response.content.decode()
    assert "Förfrågan om samverkan till Polisen" in content
    assert "Ärendet är utlämnat till myndigheten" in content
    assert 'name="legal_basis"' not in content
    assert WITH_DISCLOSURE not in content


def test_step_two_without_a_disclosure_shows_the_disclosure_fields(world: World, login_client: Login) -> None:
    response = login_client(world.user("owner_handlaggare")).get(send_url(world), {"till": "kvinnojouren"})
    content = response.content.decode()
    assert 'name="legal_basis"' in content
    assert 'name="justification"' in content
    assert f'name="{WITH_DISCLOSURE}" value="1"' in content
    assert "Lämna ut och skicka förfrågan" in content


def test_sending_with_a_disclosure_in_force(world: World, login_client: Login) -> None:
    client = login_client(world.user("owner_handlaggare"))
    response = client.post(send_url(world), {"till": "polisen", "request_text": REQUEST_TEXT})
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:referral_detail", args=[referral.pk])
    assert referral.disclosure == world.disclosure
    page = client.get(response["Location"]).content.decode()
    assert "Förfrågan är skickad till Polisen." in page
    assert REQUEST_TEXT in page


def test_sending_and_disclosing_in_one_step(world: World, login_client: Login) -> None:
    client = login_client(world.user("owner_samordnare"))
    data = {"till": "kvinnojouren", "request_text": REQUEST_TEXT, **disclosure_fields()}
    response = client.post(send_url(world), data, follow=True)
    referral = Referral.objects.get()
    disclosure = Disclosure.objects.get(recipient=world.third)
    assert referral.disclosure == disclosure
    assert disclosure.legal_basis == "samtycke"
    assert sorted(disclosure.categories) == ["risk", "sammanfattning"]
    assert "Ärendet är utlämnat till Kvinnojouren och förfrågan är skickad." in response.content.decode()


def test_a_mistake_in_the_disclosure_saves_nothing_and_keeps_the_input(
    world: World, login_client: Login
) -> None:
    client = login_client(world.user("owner_handlaggare"))
    data = {"till": "kvinnojouren", "request_text": REQUEST_TEXT, **disclosure_fields(valid_until="")}
    response = client.post(send_url(world), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ett samtycke behöver ett slutdatum." in content
    assert "Förfrågan är inte skickad." in content
    assert REQUEST_TEXT in content  # the request is kept
    assert "Personen vill att jouren stöttar henne." in content  # and so is the justification
    assert not Referral.objects.exists()
    assert not Disclosure.objects.filter(recipient=world.third).exists()


def test_a_mistake_in_the_request_saves_no_disclosure(world: World, login_client: Login) -> None:
    client = login_client(world.user("owner_handlaggare"))
    data = {"till": "kvinnojouren", "request_text": "", **disclosure_fields()}
    response = client.post(send_url(world), data)
    content = response.content.decode()
    assert "Skriv vad ni ber myndigheten om." in content
    assert "Personen vill att jouren stöttar henne." in content
    assert not Referral.objects.exists()
    assert not Disclosure.objects.filter(recipient=world.third).exists()


def test_a_refusal_of_the_action_saves_nothing(world: World, login_client: Login) -> None:
    """The person has said no to this agency: refused, and neither is saved."""
    client = login_client(world.user("owner_handlaggare"))
    data = {
        "till": "kvinnojouren",
        "request_text": REQUEST_TEXT,
        **disclosure_fields(never_disclose_to=["kvinnojouren"]),
    }
    response = client.post(send_url(world), data)
    assert (
        "Personen har sagt nej till att uppgifter lämnas till den myndigheten." in response.content.decode()
    )
    assert not Referral.objects.exists()
    assert not Disclosure.objects.filter(recipient=world.third).exists()
    assert not AuditEvent.objects.filter(
        action__in=["referral.send", "case.disclose"], details__to_agency="kvinnojouren"
    ).exists()


def test_a_disclosure_that_ended_while_writing_is_offered_again(world: World, login_client: Login) -> None:
    client = login_client(world.user("owner_handlaggare"))
    world.end_disclosure()
    response = client.post(send_url(world), {"till": "polisen", "request_text": REQUEST_TEXT})
    content = response.content.decode()
    assert "Ärendet är inte utlämnat till Polisen." in content
    assert 'name="legal_basis"' in content
    assert REQUEST_TEXT in content
    assert not Referral.objects.exists()


def test_a_tampered_recipient_goes_back_to_step_one(world: World, login_client: Login) -> None:
    client = login_client(world.user("owner_handlaggare"))
    response = client.post(send_url(world), {"till": "soc-vuxen", "request_text": REQUEST_TEXT})
    assert response.status_code == 302
    assert response["Location"] == send_url(world)
    assert not Referral.objects.exists()


@pytest.mark.parametrize("persona", [*RECEIVERS, "emergency_reader"])
def test_readers_of_the_case_may_not_send_it_on(world: World, login_client: Login, persona: str) -> None:
    client = login_client(world.user(persona))
    assert client.get(send_url(world)).status_code == 403
    response = client.post(
        send_url(world), {"till": "kvinnojouren", "request_text": "x", **disclosure_fields()}
    )
    assert response.status_code == 403
    assert not Referral.objects.exists()


@pytest.mark.parametrize("persona", [p for p in NOBODY if p != "emergency_reader"])
def test_the_send_form_does_not_exist_for_anyone_else(
    world: World, login_client: Login, persona: str
) -> None:
    client = login_client(world.user(persona))
    assert client.get(send_url(world)).status_code == 404
    response = client.post(send_url(world), {"till": "polisen", "request_text": REQUEST_TEXT})
    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_a_missing_case_is_404(world: World, login_client: Login) -> None:
    url = reverse("coordination:referral_send", args=["VR-2222-22"])
    assert login_client(world.user("owner_handlaggare")).get(url).status_code == 404


def test_the_request_is_not_kept_in_error_reports(world: World, login_client: Login) -> None:
    """sensitive_post_parameters: a crash report would show no request text or justification."""
    request = (
        login_client(world.user("owner_handlaggare"))
        .post(send_url(world), {"till": "polisen", "request_text": REQUEST_TEXT})
        .wsgi_request
    )
    assert getattr(request, "sensitive_post_parameters", None) == "__ALL__"
