"""Utlämnanden in the browser's terms: the owner's pages (history, form, ending), and what a reader in
the recipient agency gets: exactly the disclosed categories, read-only, plus its own contribution, and
nothing at all from the moment the disclosure is revoked, withdrawn or past its end date."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access.models import Agency, AuditEvent, Membership, Role, User
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_save_contribution,
    do_save_summary,
)
from cases.choices import InformationCategory, ProtectedIdentity
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    ContributionVersion,
    Disclosure,
    ProtectiveMeasure,
    RiskAssessment,
)
from cases.records import Children, Classification
from cases.sharing import do_disclose_case
from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

NOT_DISCLOSED = "Inte utlämnat till er myndighet"
PROTECTED_ONLY_OWNER = "Skyddade personuppgifter – visas bara för ägande myndighet"
JUSTIFICATION = "Motivering ZZJUSTIFICATION: risk för allvarligt våld"

# What each category puts on the case page, and only that category: decrypted texts and labels.
MARKERS: dict[str, tuple[str, ...]] = {
    "identitet": ("ZZIDENTITY-namn", "ZZIDENTITY-kontakt", "19811218-9876"),
    "vald": ("ZZVIOLENCE-handelse", "Tvångsäktenskap/äktenskapstvång", "HBTQI-person"),
    "sammanfattning": ("ZZSUMMARY-text", "ZZSUMMARY-bidrag"),
    "risk": ("ZZRISK-anteckning", "ZZRISK-skal"),
    "insatser": ("ZZMEASURES-anteckning",),
    "barn": ("3–5 år", "Har bevittnat eller upplevt våld."),
}


def marked_case(membership: Membership, **person: object) -> Case:
    """A case with a marker string in every category (see MARKERS)."""
    kwargs = {"acting_user": membership.user, "membership": membership}
    case = open_case(
        membership,
        name="ZZIDENTITY-namn",
        contact="ZZIDENTITY-kontakt",
        classification=Classification(
            contexts=["hrv"],
            forms=["psykiskt"],
            honour_subtypes=["tvangsaktenskap"],
            relations=["flera"],
            flags=["hbtqi"],
            children=Children(count=2, age_bands=["3-5"], witnessed=True),
        ),
        **person,
    )
    do_save_summary(case, text="ZZSUMMARY-text", based_on=0, **kwargs)
    do_save_contribution(case, text="ZZSUMMARY-bidrag", based_on=0, **kwargs)
    do_add_risk_assessment(
        case,
        assessment=RiskAssessment.new(
            instrument="freda", assessed_on=datetime.date(2026, 1, 1), level="lag", override_level="hog"
        ),
        override_reason="ZZRISK-skal",
        notes="ZZRISK-anteckning",
        **kwargs,
    )
    do_add_protective_measure(
        case,
        measure=ProtectiveMeasure.new(
            kind="kontaktforbud", starts_on=datetime.date(2026, 1, 2), responsible_agency=membership.agency
        ),
        notes="ZZMEASURES-anteckning",
        **kwargs,
    )
    do_add_incident(
        case, occurred_on=datetime.date(2026, 1, 3), forms=["psykiskt"], notes="ZZVIOLENCE-handelse", **kwargs
    )
    return case


def disclose(
    case: Case,
    owner: Membership,
    recipient: Agency,
    categories: list[str],
    *,
    basis: str = "osl_10_18c",
    valid_until: datetime.date | None = None,
    **kwargs: object,
) -> Disclosure:
    return do_disclose_case(
        case,
        acting_user=owner.user,
        membership=owner,
        recipient=recipient,
        legal_basis=basis,
        categories=categories,
        justification=JUSTIFICATION,
        valid_until=valid_until,
        **kwargs,
    )


def page(client: Client, name: str, *args: object) -> tuple[int, str]:
    response = client.get(reverse(f"cases:{name}", args=list(args)))
    return response.status_code, response.content.decode()


@pytest.fixture
def reader(outsider: User) -> User:
    """A handläggare of the police, the agency the case is disclosed to."""
    return outsider


@pytest.fixture
def bystander(db: None) -> User:
    """A handläggare of a third agency, which receives nothing."""
    agency = AgencyFactory.create(code="skolan", name="Skolan")
    return MembershipFactory.create(user=UserFactory.create(username="skola"), agency=agency).user


# --- The owner's pages: personas ----------------------------------------------------------------------


def _owner_pages(case: Case, disclosure: Disclosure) -> list[str]:
    return [
        reverse("cases:disclosures", args=[case.reference]),
        reverse("cases:disclose", args=[case.reference]),
        reverse("cases:end_disclosure", args=[case.reference, disclosure.pk]),
    ]


@pytest.fixture
def disclosed(case: Case, handlaggare_membership: Membership, other_agency: Agency) -> Disclosure:
    return disclose(case, handlaggare_membership, other_agency, ["risk", "insatser"])


def test_the_owner_pages_send_anonymous_users_to_the_login_page(case: Case, disclosed: Disclosure) -> None:
    for url in _owner_pages(case, disclosed):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("persona", ["bystander", "chef", "granskare", "systemadministrator"])
def test_the_owner_pages_do_not_exist_for_those_who_cannot_see_the_case(
    persona: str, case: Case, disclosed: Disclosure, request: pytest.FixtureRequest, login_client
) -> None:
    client = login_client(request.getfixturevalue(persona))
    for url in _owner_pages(case, disclosed):
        assert client.get(url).status_code == 404, url
    for url in _owner_pages(case, disclosed)[1:]:  # the history is GET only
        assert client.post(url, {"kind": "aterkallat"}).status_code == 404, url
    assert Disclosure.objects.get(pk=disclosed.pk).is_active()


def test_the_owner_pages_are_forbidden_to_the_recipient(
    case: Case, disclosed: Disclosure, reader: User, login_client
) -> None:
    client = login_client(reader)
    for url in _owner_pages(case, disclosed):
        assert client.get(url).status_code == 403, url
    for url in _owner_pages(case, disclosed)[1:]:
        assert client.post(url, {"kind": "aterkallat"}).status_code == 403, url
    assert Disclosure.objects.get(pk=disclosed.pk).is_active()
    assert not AuditEvent.objects.filter(actor=reader, action="case.disclosures.read").exists()


@pytest.mark.parametrize("persona", ["handlaggare", "samordnare"])
def test_the_owning_agencys_caseworkers_reach_the_owner_pages(
    persona: str, case: Case, disclosed: Disclosure, request: pytest.FixtureRequest, login_client
) -> None:
    client = login_client(request.getfixturevalue(persona))
    for url in _owner_pages(case, disclosed):
        assert client.get(url).status_code == 200, url


def test_the_history_cannot_be_posted_to(case: Case, handlaggare: User, login_client) -> None:
    response = login_client(handlaggare).post(reverse("cases:disclosures", args=[case.reference]))
    assert response.status_code == 405


def test_an_unknown_disclosure_or_one_of_another_case_is_not_found(
    case: Case, disclosed: Disclosure, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    other_case = open_case(handlaggare_membership)
    client = login_client(handlaggare)
    assert page(client, "end_disclosure", other_case.reference, disclosed.pk)[0] == 404
    assert page(client, "end_disclosure", case.reference, "00000000-0000-0000-0000-000000000001")[0] == 404


# --- The disclosure history -----------------------------------------------------------------------------


def test_the_history_shows_every_disclosure_with_its_justification_after_auditing_the_read(
    case: Case, disclosed: Disclosure, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    ended = disclose(case, handlaggare_membership, disclosed.recipient, ["barn"], basis="osl_10_21")
    Disclosure.objects.filter(pk=ended.pk).update(ended_at=timezone.now(), end_kind="aterkallat")
    status, body = page(login_client(handlaggare), "disclosures", case.reference)
    assert status == 200
    assert body.count(JUSTIFICATION) == 2
    assert "OSL 10 kap. 18 c § – till polisen för att förhindra allvarligt våld" in body
    assert "Riskbedömningar, Skyddsinsatser" in body
    assert "Återkallat" in body
    assert "Gäller" in body
    event = AuditEvent.objects.get(action="case.disclosures.read")
    assert event.actor == handlaggare
    assert event.object_reference == case.reference
    assert "ZZJUSTIFICATION" not in str(event.details)


def test_the_history_shows_nothing_if_the_read_cannot_be_audited(
    case: Case, disclosed: Disclosure, handlaggare: User, login_client, monkeypatch
) -> None:
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    monkeypatch.setattr("cases.views.sharing.record_event", broken)
    client = login_client(handlaggare)
    client.raise_request_exception = False
    response = client.get(reverse("cases:disclosures", args=[case.reference]))
    assert response.status_code == 500
    assert "ZZJUSTIFICATION" not in response.content.decode()


# --- The disclosure form ---------------------------------------------------------------------------------


def _form_data(to: Agency, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "recipient": to.pk,
        "legal_basis": "osl_10_18c",
        "categories": ["risk", "insatser"],
        "valid_until": "",
        "justification": JUSTIFICATION,
    }
    data.update(overrides)
    return data


def test_the_form_explains_every_legal_basis_and_offers_only_other_active_agencies(
    case: Case, handlaggare: User, other_agency: Agency, login_client
) -> None:
    AgencyFactory.create(code="nedlagd", name="Nedlagd myndighet", is_active=False)
    status, body = page(login_client(handlaggare), "disclose", case.reference)
    assert status == 200
    for explanation in (
        "Personen har själv samtyckt",
        "Uppgifter till polisen om brott mot en närstående",
        "misstanke om brott mot någon som inte har fyllt 18 år",
        "orosanmälan om ett barn enligt socialtjänstlagen",
        "nödvändigt för att er egen myndighet",
    ):
        assert explanation in body
    assert f'<option value="{other_agency.pk}">Polisen</option>' in body
    assert "Nedlagd myndighet" not in body
    assert f'<option value="{case.agency_id}"' not in body


def test_disclosing_records_the_disclosure_and_grants_access_at_once(
    case: Case, handlaggare: User, other_agency: Agency, reader: User, login_client
) -> None:
    assert page(login_client(reader), "detail", case.reference)[0] == 404
    response = login_client(handlaggare).post(
        reverse("cases:disclose", args=[case.reference]), _form_data(other_agency)
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:disclosures", args=[case.reference])
    disclosure = Disclosure.objects.get(case=case)
    assert disclosure.recipient == other_agency
    assert disclosure.legal_basis == "osl_10_18c"
    assert disclosure.categories == ["insatser", "risk"]
    assert disclosure.created_by == handlaggare
    assert b"ZZJUSTIFICATION" not in bytes(disclosure.justification_sealed)
    assert AuditEvent.objects.filter(action="case.disclose", object_reference=case.reference).exists()
    assert page(login_client(reader), "detail", case.reference)[0] == 200


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"legal_basis": "samtycke"}, "Ett samtycke behöver ett slutdatum."),
        ({"valid_until": "2020-01-01"}, "Datumet har redan passerat."),
        ({"never_disclose_to": ["soc-vuxen-2"]}, "hör bara till ett samtycke"),
        ({"justification": "  "}, "Motivera utlämnandet."),
        ({"categories": []}, "Välj vilka uppgifter som lämnas ut."),
        ({"legal_basis": ""}, "Välj en rättslig grund."),
        ({"recipient": ""}, "Välj vilken myndighet som ska få uppgifterna."),
    ],
)
def test_the_form_refuses_what_the_law_or_the_person_does_not_allow(
    overrides: dict[str, object],
    error: str,
    case: Case,
    handlaggare: User,
    other_agency: Agency,
    login_client,
) -> None:
    AgencyFactory.create(code="soc-vuxen-2", name="Annan")
    response = login_client(handlaggare).post(
        reverse("cases:disclose", args=[case.reference]), _form_data(other_agency, **overrides)
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Disclosure.objects.exists()


def test_a_consent_respects_the_persons_never_disclose_list(
    case: Case, handlaggare_membership: Membership, handlaggare: User, other_agency: Agency, login_client
) -> None:
    shelter = AgencyFactory.create(code="jouren", name="Jouren")
    until = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    client = login_client(handlaggare)
    url = reverse("cases:disclose", args=[case.reference])
    data = _form_data(shelter, legal_basis="samtycke", valid_until=until, never_disclose_to=["polisen"])
    assert client.post(url, data).status_code == 302
    # The refusal stands for every later consent in the case.
    response = client.post(url, _form_data(other_agency, legal_basis="samtycke", valid_until=until))
    assert (
        "Personen har sagt nej till att uppgifter lämnas till den myndigheten." in response.content.decode()
    )
    assert list(Disclosure.objects.values_list("recipient__code", flat=True)) == ["jouren"]
    status, body = page(client, "disclosures", case.reference)
    assert "Personen vill aldrig att uppgifter lämnas till" in body
    assert "Polisen" in body


def test_a_protected_case_warns_that_identity_is_never_shown_elsewhere(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = open_case(handlaggare_membership, protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION)
    body = page(login_client(handlaggare), "disclose", case.reference)[1]
    assert "identiteten visas aldrig för en annan myndighet" in body


# --- Ending a disclosure ----------------------------------------------------------------------------------


def test_ending_asks_for_confirmation_first(
    case: Case, disclosed: Disclosure, handlaggare: User, reader: User, login_client
) -> None:
    status, body = page(login_client(handlaggare), "end_disclosure", case.reference, disclosed.pk)
    assert status == 200
    assert "Avsluta utlämnandet till Polisen?" in body
    assert "Vi återkallar utlämnandet" in body
    # Not a consent: withdrawing consent is not offered.
    assert "Personen har återkallat sitt samtycke" not in body
    assert Disclosure.objects.get(pk=disclosed.pk).is_active()
    assert page(login_client(reader), "detail", case.reference)[0] == 200


def test_revoking_shuts_the_recipient_out_at_once(
    case: Case, disclosed: Disclosure, handlaggare: User, reader: User, login_client
) -> None:
    client = login_client(reader)
    assert page(client, "detail", case.reference)[0] == 200
    response = login_client(handlaggare).post(
        reverse("cases:end_disclosure", args=[case.reference, disclosed.pk]), {"kind": "aterkallat"}
    )
    assert response.status_code == 302
    disclosed.refresh_from_db()
    assert disclosed.end_kind == "aterkallat"
    assert disclosed.ended_by == handlaggare
    assert page(client, "detail", case.reference)[0] == 404
    assert case.reference not in page(client, "list")[1]
    assert not CaseGroupObjectPermission.objects.filter(content_object=case).exists()


def test_a_withdrawn_consent_shuts_the_recipient_out_at_once(
    case: Case,
    handlaggare_membership: Membership,
    handlaggare: User,
    other_agency: Agency,
    reader,
    login_client,
) -> None:
    consent = disclose(
        case,
        handlaggare_membership,
        other_agency,
        ["risk"],
        basis="samtycke",
        valid_until=timezone.localdate() + datetime.timedelta(days=10),
    )
    client = login_client(reader)
    assert page(client, "detail", case.reference)[0] == 200
    owner = login_client(handlaggare)
    url = reverse("cases:end_disclosure", args=[case.reference, consent.pk])
    assert "Personen har återkallat sitt samtycke" in owner.get(url).content.decode()
    assert owner.post(url, {"kind": "samtycke_aterkallat"}).status_code == 302
    consent.refresh_from_db()
    assert consent.end_kind == "samtycke_aterkallat"
    assert page(client, "detail", case.reference)[0] == 404


def test_consent_withdrawal_is_refused_for_a_disclosure_without_consent(
    case: Case, disclosed: Disclosure, handlaggare: User, login_client
) -> None:
    response = login_client(handlaggare).post(
        reverse("cases:end_disclosure", args=[case.reference, disclosed.pk]), {"kind": "samtycke_aterkallat"}
    )
    assert response.status_code == 200
    assert Disclosure.objects.get(pk=disclosed.pk).is_active()


def test_an_ended_disclosure_cannot_be_ended_again(
    case: Case, disclosed: Disclosure, handlaggare: User, login_client
) -> None:
    client = login_client(handlaggare)
    url = reverse("cases:end_disclosure", args=[case.reference, disclosed.pk])
    client.post(url, {"kind": "aterkallat"})
    response = client.post(url, {"kind": "aterkallat"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="case.disclosure.end").count() == 1


def test_an_expired_disclosure_shuts_the_recipient_out_without_the_daily_job(
    case: Case, disclosed: Disclosure, handlaggare: User, reader: User, login_client
) -> None:
    Disclosure.objects.filter(pk=disclosed.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    client = login_client(reader)
    assert page(client, "detail", case.reference)[0] == 404
    assert case.reference not in page(client, "list")[1]
    # The owner's history already calls it expired, before the job has recorded it.
    assert "Utgånget" in page(login_client(handlaggare), "disclosures", case.reference)[1]


def test_the_daily_job_records_expired_disclosures_and_drops_their_grants(
    case: Case, disclosed: Disclosure
) -> None:
    Disclosure.objects.filter(pk=disclosed.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert CaseGroupObjectPermission.objects.filter(content_object=case).exists()
    out = io.StringIO()
    call_command("expire_disclosures", stdout=out)
    assert out.getvalue().strip() == "Recorded 1 expired disclosure(s)."
    disclosed.refresh_from_db()
    assert disclosed.end_kind == "utgatt"
    assert not CaseGroupObjectPermission.objects.filter(content_object=case).exists()
    event = AuditEvent.objects.get(action="case.disclosure.expired")
    assert event.object_reference == case.reference
    out = io.StringIO()
    call_command("expire_disclosures", stdout=out)
    assert out.getvalue().strip() == "Recorded 0 expired disclosure(s)."


def test_the_daily_job_refuses_a_malformed_date() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("expire_disclosures", "--today", "igår", stdout=io.StringIO())


# --- What the recipient sees -------------------------------------------------------------------------------

CATEGORY_SETS = [
    ["risk", "insatser"],
    ["identitet"],
    ["vald"],
    ["sammanfattning"],
    ["barn"],
    ["vald", "barn"],
    sorted(InformationCategory.values),
]


@pytest.mark.parametrize("categories", CATEGORY_SETS, ids=["+".join(c) for c in CATEGORY_SETS])
def test_a_disclosed_reader_sees_exactly_the_disclosed_categories(
    categories: list[str],
    handlaggare_membership: Membership,
    other_agency: Agency,
    reader: User,
    login_client,
) -> None:
    case = marked_case(handlaggare_membership)
    disclose(case, handlaggare_membership, other_agency, categories)
    status, body = page(login_client(reader), "detail", case.reference)
    assert status == 200
    for category, markers in MARKERS.items():
        for marker in markers:
            if category in categories:
                assert marker in body, f"{marker!r} of disclosed {category!r} is missing"
            else:
                assert marker not in body, f"{marker!r} of undisclosed {category!r} leaked"
    assert (NOT_DISCLOSED in body) is (len(categories) < len(InformationCategory.values))
    event = AuditEvent.objects.filter(action="case.read", actor=reader).get()
    assert event.details == {"categories": sorted(categories), "protected_identity": False}
    assert event.reason == "disclosure"


def test_the_owner_sees_every_category_and_no_placeholder(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = marked_case(handlaggare_membership)
    body = page(login_client(handlaggare), "detail", case.reference)[1]
    for markers in MARKERS.values():
        for marker in markers:
            assert marker in body
    assert NOT_DISCLOSED not in body
    assert "Utlämnat till er myndighet" not in body


def test_the_recipient_is_told_on_what_grounds_it_sees_the_case(
    case: Case, handlaggare_membership: Membership, other_agency: Agency, reader: User, login_client
) -> None:
    until = timezone.localdate() + datetime.timedelta(days=30)
    disclose(case, handlaggare_membership, other_agency, ["insatser", "risk"], valid_until=until)
    body = page(login_client(reader), "detail", case.reference)[1]
    assert (
        "Utlämnat till er myndighet – grund: OSL 10 kap. 18 c § – till polisen för att förhindra allvarligt "
        f"våld, uppgifter: Riskbedömningar, Skyddsinsatser, giltigt till {until:%Y-%m-%d}"
    ) in body
    assert "ZZJUSTIFICATION" not in body


def test_protected_identity_is_never_shown_to_a_disclosed_reader_even_with_the_identity_category(
    handlaggare_membership: Membership, other_agency: Agency, reader: User, login_client
) -> None:
    case = marked_case(handlaggare_membership, protected_identity=ProtectedIdentity.FICTITIOUS_IDENTITY)
    disclose(case, handlaggare_membership, other_agency, sorted(InformationCategory.values))
    body = page(login_client(reader), "detail", case.reference)[1]
    for marker in MARKERS["identitet"]:
        assert marker not in body, f"protected identity leaked: {marker!r}"
    assert PROTECTED_ONLY_OWNER in body
    assert 'class="protected-banner"' in body
    assert "Fingerade personuppgifter" in body
    assert "ZZRISK-anteckning" in body


def test_a_disclosed_reader_gets_no_change_links_but_may_write_its_own_contribution(
    case: Case, disclosed: Disclosure, reader: User, login_client
) -> None:
    body = page(login_client(reader), "detail", case.reference)[1]
    for link in (
        "Ändra personuppgifter",
        "Ändra klassificering",
        "Ändra sammanfattningen",
        "Ny riskbedömning",
        "Ny skyddsinsats",
        "Ny händelse",
        "Ändra status till",
        "Besluta om bevarande",
        "Lämna ut ärendet",
    ):
        assert link not in body, link
    assert "Skriv er myndighets bidrag" in body


WRITE_PAGES = [
    ("person", "get"),
    ("classification", "get"),
    ("risk_assessment_add", "get"),
    ("protective_measure_add", "get"),
    ("incident_add", "get"),
    ("summary", "get"),
    ("person", "post"),
    ("summary", "post"),
    ("status", "post"),
    ("legal_hold", "post"),
    ("disclosures", "get"),
    ("disclose", "get"),
    ("disclose", "post"),
]


@pytest.mark.parametrize(("name", "method"), WRITE_PAGES, ids=[f"{n}-{m}" for n, m in WRITE_PAGES])
def test_a_disclosed_reader_is_refused_every_change(
    name: str, method: str, case: Case, disclosed: Disclosure, reader: User, login_client
) -> None:
    client = login_client(reader)
    response = getattr(client, method)(
        reverse(f"cases:{name}", args=[case.reference]), {"status": "avslutat", "hold": "ja", "text": "x"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "oppet"
    assert case.legal_hold is False


def test_the_recipient_writes_its_own_contribution_only(
    case: Case,
    disclosed: Disclosure,
    handlaggare_membership: Membership,
    handlaggare: User,
    reader: User,
    other_agency: Agency,
    login_client,
) -> None:
    do_save_contribution(
        case, acting_user=handlaggare, membership=handlaggare_membership, text="Ägarens bidrag", based_on=0
    )
    client = login_client(reader)
    url = reverse("cases:contribution", args=[case.reference])
    form = client.get(url).content.decode()
    assert "Bidrag från Polisen" in form
    assert "Ägarens bidrag" not in form
    response = client.post(url, {"text": "Polisens bidrag", "based_on": 0})
    assert response.status_code == 302
    version = ContributionVersion.objects.get(case=case, agency=other_agency)
    assert version.author == reader
    assert ContributionVersion.objects.get(case=case, agency=handlaggare_membership.agency).number == 1
    # Only risk and measures are disclosed: the owner's contribution stays hidden, the own one shows.
    body = page(client, "detail", case.reference)[1]
    assert "Polisens bidrag" in body
    assert "Ägarens bidrag" not in body
    assert "Andra myndigheters bidrag är inte utlämnade till er myndighet." in body
    # The owner sees every agency's contribution.
    assert "Polisens bidrag" in page(login_client(handlaggare), "detail", case.reference)[1]


def test_the_summary_history_is_refused_when_the_summary_is_not_disclosed(
    case: Case, disclosed: Disclosure, reader: User, login_client
) -> None:
    assert page(login_client(reader), "summary_history", case.reference)[0] == 403


def test_a_third_agency_sees_nothing_of_a_case_disclosed_to_another(
    case: Case, disclosed: Disclosure, bystander: User, login_client
) -> None:
    client = login_client(bystander)
    assert page(client, "detail", case.reference)[0] == 404
    assert case.reference not in page(client, "list")[1]


# --- Start page and owner overview ---------------------------------------------------------------------


def test_the_start_page_lists_cases_disclosed_to_the_agency_by_reference_only(
    handlaggare_membership: Membership, other_agency: Agency, reader: User, bystander: User, login_client
) -> None:
    case = marked_case(handlaggare_membership)
    disclose(case, handlaggare_membership, other_agency, sorted(InformationCategory.values))
    body = page(login_client(reader), "list")[1]
    assert case.reference in body
    start = login_client(reader).get(reverse("start")).content.decode()
    assert f'href="{reverse("cases:detail", args=[case.reference])}"' in start
    assert "ZZIDENTITY" not in start
    assert "Inga ärenden är utlämnade till er myndighet just nu." not in start
    other = login_client(bystander).get(reverse("start")).content.decode()
    assert case.reference not in other
    assert "Inga ärenden är utlämnade till er myndighet just nu." in other


def test_the_owner_sees_the_disclosures_in_force_on_the_case_page(
    case: Case, disclosed: Disclosure, handlaggare: User, login_client
) -> None:
    body = page(login_client(handlaggare), "detail", case.reference)[1]
    assert "Polisen</strong> – OSL 10 kap. 18 c §" in body
    assert reverse("cases:disclosures", args=[case.reference]) in body
    assert "ZZJUSTIFICATION" not in body


def test_a_user_in_two_agencies_keeps_owner_rights_in_the_owning_one(
    case: Case, handlaggare_membership: Membership, other_agency: Agency, login_client
) -> None:
    """A disclosure to the user's other agency never narrows what the owning agency's role gives."""
    user = UserFactory.create(username="dubbelroll")
    MembershipFactory.create(user=user, agency=handlaggare_membership.agency, role=Role.HANDLAGGARE)
    MembershipFactory.create(user=user, agency=other_agency, role=Role.HANDLAGGARE)
    disclose(case, handlaggare_membership, other_agency, ["risk"])
    body = page(login_client(user), "detail", case.reference)[1]
    assert NOT_DISCLOSED not in body
    assert "Ändra personuppgifter" in body
