"""Opening and changing a case through its forms: Swedish messages, nothing lost on a mistake, and
nothing personal in a URL or a message."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.models import Case, Incident, ProtectiveMeasure, RiskAssessment, SealedValueNotOpenError
from cases.reading import read_case
from cases.vault import CaseVault
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("cases:create")
NAME = "Beata Namnsdotter"
TOMORROW = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


def new_case_data(agency: Agency, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "agency": agency.pk,
        "name": NAME,
        "identity_kind": "personnummer",
        "identity_number": "19811218-9876",
        "legal_gender": "kvinna",
        "protected_identity": "ingen",
        "contact": "070-111 22 33",
        "safe_contact": "",
        "address": "Storgatan 1",
        "contexts": ["vinr_partner"],
        "violence_forms": ["fysiskt", "ekonomiskt"],
        "relations": ["ex_partner"],
        "flags": ["funktionsnedsattning"],
        "child_count": "1",
        "child_age_bands": ["6-12"],
        "report_made": "on",
        "report_date": "2025-03-01",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def read(case: Case, user: User):
    fresh = Case.objects.select_related("person").get(pk=case.pk)
    return read_case(fresh, user=user, membership=user.memberships.get(agency=case.agency), request=None)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Opening a case ---------------------------------------------------------------------------------


def test_a_caseworker_opens_a_case_and_lands_on_it(agency: Agency, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).post(CREATE, new_case_data(agency))
    case = Case.objects.visible_to(handlaggare).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.reference])
    assert case.agency == agency
    assert case.responsible == handlaggare
    detail = read(case, handlaggare)
    assert detail.person.name == NAME
    assert detail.person.identity_number == "198112189876"
    assert detail.person.birth_year == 1981
    assert detail.classification.forms == ["ekonomiskt", "fysiskt"]
    assert detail.classification.children.report_made is True
    assert messages_of(response) == [f"Ärendet {case.reference} är öppnat."]
    assert AuditEvent.objects.filter(action="case.open", object_reference=case.reference).exists()


def test_the_only_agency_is_preselected_and_others_are_not_offered(
    agency: Agency, other_agency: Agency, handlaggare: User, login_client
) -> None:
    body = login_client(handlaggare).get(CREATE).content.decode()
    assert f'<option value="{agency.pk}" selected>' in body
    assert other_agency.name not in body


def test_only_agencies_with_casework_can_own_the_new_case(agency: Agency, login_client) -> None:
    user = UserFactory(username="blandad")
    MembershipFactory(user=user, agency=agency, role=Role.HANDLAGGARE)
    managed = AgencyFactory(code="chefens", name="Chefens myndighet")
    MembershipFactory(user=user, agency=managed, role=Role.CHEF)
    client = login_client(user)
    assert "Chefens myndighet" not in client.get(CREATE).content.decode()
    response = client.post(CREATE, new_case_data(managed))
    assert response.status_code == 200
    assert "Välj ett giltigt alternativ" in response.content.decode()
    assert not Case.objects.exists()


def test_an_invalid_personnummer_gets_the_swedish_check_digit_message_and_keeps_the_input(
    agency: Agency, handlaggare: User, login_client
) -> None:
    response = login_client(handlaggare).post(CREATE, new_case_data(agency, identity_number="19811218-9875"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Kontrollsiffran stämmer inte. Kontrollera numret." in body
    assert 'aria-describedby="id_identity_number_helptext id_identity_number_error"' in body
    assert f'value="{NAME}"' in body
    assert "Ärendet är inte sparat." in body
    assert not Case.objects.exists()


def test_protected_identity_with_an_address_is_refused(
    agency: Agency, handlaggare: User, login_client
) -> None:
    response = login_client(handlaggare).post(
        CREATE, new_case_data(agency, protected_identity="skyddad_folkbokforing")
    )
    body = response.content.decode()
    assert "En person med skyddade personuppgifter får aldrig ha en adress i systemet." in body
    assert not Case.objects.exists()


def test_protected_identity_without_an_address_is_accepted(
    agency: Agency, handlaggare: User, login_client
) -> None:
    data = new_case_data(agency, protected_identity="skyddad_folkbokforing", address="")
    assert login_client(handlaggare).post(CREATE, data).status_code == 302
    assert Case.objects.get().person.protected_identity == "skyddad_folkbokforing"


def test_without_a_number_the_birth_year_comes_from_its_field(
    agency: Agency, handlaggare: User, login_client
) -> None:
    data = new_case_data(agency, identity_kind="saknas", identity_number="", birth_year="1990")
    assert login_client(handlaggare).post(CREATE, data).status_code == 302
    detail = read(Case.objects.get(), handlaggare)
    assert detail.person.identity_number == ""
    assert detail.person.birth_year == 1990


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"identity_number": ""}, "Skriv numret, eller välj ”Saknas” som typ av nummer."),
        ({"contexts": None}, "Välj minst ett sammanhang."),
        ({"child_count": "0"}, "Ange hur många barn det gäller."),
        ({"report_made": None}, "Datum för orosanmälan kan bara anges när en orosanmälan är gjord."),
        ({"report_date": TOMORROW}, "Datumet kan inte ligga i framtiden."),
        ({"honour_subtypes": ["barnaktenskap"]}, "kan bara väljas när sammanhanget är hedersrelaterat"),
        ({"name": ""}, "Detta fält måste fyllas i."),
    ],
)
def test_mistakes_get_swedish_messages(
    changes: dict[str, object], message: str, agency: Agency, handlaggare: User, login_client
) -> None:
    body = login_client(handlaggare).post(CREATE, new_case_data(agency, **changes)).content.decode()
    assert message in body
    assert not Case.objects.exists()


def test_chef_cannot_open_cases(chef: User, agency: Agency, login_client) -> None:
    assert login_client(chef).post(CREATE, new_case_data(agency)).status_code == 404
    assert not Case.objects.exists()


# --- Changing a case --------------------------------------------------------------------------------


def test_the_person_form_is_prefilled_through_an_audited_read_and_saves(
    case: Case, handlaggare: User, login_client
) -> None:
    url = reverse("cases:person", args=[case.reference])
    client = login_client(handlaggare)
    body = client.get(url).content.decode()
    assert 'value="Testperson Exempelsson"' in body
    assert AuditEvent.objects.filter(action="case.read", object_reference=case.reference).exists()
    data = new_case_data(case.agency, name="Nytt Namn")
    response = client.post(url, data)
    assert response.status_code == 302
    assert read(case, handlaggare).person.name == "Nytt Namn"
    assert messages_of(response) == ["Personuppgifterna är sparade."]
    event = AuditEvent.objects.get(action="case.person.update")
    assert "Nytt Namn" not in str(event.details)


def test_the_person_form_refuses_an_address_with_protected_identity(
    case: Case, handlaggare: User, login_client
) -> None:
    url = reverse("cases:person", args=[case.reference])
    data = new_case_data(case.agency, protected_identity="sekretessmarkering")
    body = login_client(handlaggare).post(url, data).content.decode()
    assert "En person med skyddade personuppgifter får aldrig ha en adress i systemet." in body
    case.person.refresh_from_db()
    assert case.person.protected_identity == "ingen"


def test_the_classification_form_is_prefilled_and_saves(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:classification", args=[case.reference])
    client = login_client(handlaggare)
    body = client.get(url).content.decode()
    assert 'value="fysiskt" id="id_violence_forms_0" checked' in body
    assert "<legend>Våldsformer:</legend>" in body
    response = client.post(
        url, {"contexts": ["hrv"], "honour_subtypes": ["konsstympning"], "child_count": "0"}
    )
    assert response.status_code == 302
    classification = read(case, handlaggare).classification
    assert classification.contexts == ["hrv"]
    assert classification.honour_subtypes == ["konsstympning"]


def _risk_data(**changes: str) -> dict[str, str]:
    data = {"instrument": "freda", "instrument_version": "2", "assessed_on": "2025-05-01", "level": "medel"}
    data.update(changes)
    return data


def test_an_override_of_the_risk_level_needs_a_reason(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:risk_assessment_add", args=[case.reference])
    client = login_client(handlaggare)
    body = client.post(url, _risk_data(override_level="hog")).content.decode()
    assert "Ange skälet till att den professionella bedömningen avviker från instrumentet." in body
    assert not RiskAssessment.objects.exists()
    response = client.post(url, _risk_data(override_level="hog", override_reason="Hotar med vapen"))
    assert response.status_code == 302
    assessment = RiskAssessment.objects.get()
    with pytest.raises(SealedValueNotOpenError):
        _ = assessment.effective_level  # sealed: never read as an empty level by mistake
    CaseVault.for_case(case).open_values(assessment, "result")
    assert assessment.effective_level == "hog"
    assert assessment.assessor == handlaggare
    assert read(case, handlaggare).risks[0].override_reason == "Hotar med vapen"


def test_a_risk_assessment_cannot_be_dated_in_the_future(case: Case, handlaggare: User, login_client) -> None:
    url = reverse("cases:risk_assessment_add", args=[case.reference])
    body = login_client(handlaggare).post(url, _risk_data(assessed_on=TOMORROW)).content.decode()
    assert "Datumet kan inte ligga i framtiden." in body
    assert not RiskAssessment.objects.exists()


def test_a_protective_measure_ends_after_it_starts_and_any_active_agency_may_own_it(
    case: Case, handlaggare: User, other_agency: Agency, login_client
) -> None:
    inactive = AgencyFactory(code="nedlagd", name="Nedlagd myndighet", is_active=False)
    url = reverse("cases:protective_measure_add", args=[case.reference])
    client = login_client(handlaggare)
    form = client.get(url).content.decode()
    assert other_agency.name in form
    assert inactive.name not in form
    data = {"kind": "kontaktforbud", "starts_on": "2025-05-10", "responsible_agency": other_agency.pk}
    body = client.post(url, {**data, "ends_on": "2025-05-01"}).content.decode()
    assert "Slutdatumet kan inte ligga före startdatumet." in body
    assert not ProtectiveMeasure.objects.exists()
    assert client.post(url, {**data, "ends_on": "2025-11-10"}).status_code == 302
    assert ProtectiveMeasure.objects.get().responsible_agency == other_agency


def test_an_incident_is_not_in_the_future_and_records_its_forms(
    case: Case, handlaggare: User, login_client
) -> None:
    url = reverse("cases:incident_add", args=[case.reference])
    client = login_client(handlaggare)
    body = client.post(url, {"occurred_on": TOMORROW, "violence_forms": ["fysiskt"]}).content.decode()
    assert "Datumet kan inte ligga i framtiden." in body
    body = client.post(url, {"occurred_on": "2025-01-01"}).content.decode()
    assert "Välj minst en våldsform." in body
    assert not Incident.objects.exists()
    response = client.post(url, {"occurred_on": "2025-01-01", "violence_forms": ["sexuellt", "digitalt"]})
    assert response.status_code == 302
    assert read(case, handlaggare).incidents[0].forms == ["digitalt", "sexuellt"]


def test_the_status_changes_by_button(case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).post(
        reverse("cases:status", args=[case.reference]), {"status": "avslutat"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "avslutat"
    assert case.closed_on == timezone.localdate()
    assert messages_of(response) == ["Ärendet har nu status Avslutat."]


def test_a_transition_that_is_not_allowed_is_explained(case: Case, handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    url = reverse("cases:status", args=[case.reference])
    client.post(url, {"status": "avslutat"})
    response = client.post(url, {"status": "bevakning"})
    assert messages_of(response)[-1] == "Ett ärende med status Avslutat kan inte få status Bevakning."
    case.refresh_from_db()
    assert case.status == "avslutat"


def test_an_unknown_status_is_refused_without_an_error_page(
    case: Case, handlaggare: User, login_client
) -> None:
    response = login_client(handlaggare).post(
        reverse("cases:status", args=[case.reference]), {"status": "borta"}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Välj en av de statusar som erbjuds."]


def test_the_legal_hold_is_set_and_lifted(case: Case, handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    url = reverse("cases:legal_hold", args=[case.reference])
    client.post(url, {"hold": "ja"})
    assert Case.objects.get(pk=case.pk).legal_hold is True
    assert (
        "Upphäv bevarandebeslutet"
        in client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    )
    client.post(url, {"hold": "nej"})
    assert Case.objects.get(pk=case.pk).legal_hold is False
    assert list(AuditEvent.objects.filter(action="case.legal_hold").values_list("details", flat=True)) == [
        {"hold": True},
        {"hold": False},
    ]


def test_no_success_message_names_the_person(agency: Agency, handlaggare: User, login_client) -> None:
    client = login_client(handlaggare)
    shown = messages_of(client.post(CREATE, new_case_data(agency)))
    case = Case.objects.get()
    shown += messages_of(client.post(reverse("cases:person", args=[case.reference]), new_case_data(agency)))
    assert shown
    assert not [message for message in shown if NAME in message or "9876" in message]


def test_a_samordnare_writes_in_the_owning_agency(case: Case, samordnare: User, login_client) -> None:
    url = reverse("cases:incident_add", args=[case.reference])
    assert (
        login_client(samordnare)
        .post(url, {"occurred_on": "2025-01-01", "violence_forms": ["psykiskt"]})
        .status_code
        == 302
    )
    assert Incident.objects.get().created_by == samordnare


def test_membership_in_the_audit_trail_is_the_acting_one(
    case: Case, handlaggare_membership: Membership, login_client
) -> None:
    login_client(handlaggare_membership.user).post(
        reverse("cases:legal_hold", args=[case.reference]), {"hold": "ja"}
    )
    event = AuditEvent.objects.get(action="case.legal_hold")
    assert (event.agency_code, event.role) == ("soc-vuxen", "handlaggare")
