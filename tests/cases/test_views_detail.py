"""The case page: decrypted contents behind an audit entry, the protected-identity banner on every case
page, the risk trend, repeat victimisation and who wrote what."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from access.models import AuditEvent, Membership, User
from cases.actions import (
    do_add_incident,
    do_add_risk_assessment,
    do_change_status,
    do_save_contribution,
    do_save_summary,
)
from cases.choices import ProtectedIdentity
from cases.models import Case, RiskAssessment
from cases.records import Children, Classification
from tests.factories import open_case

pytestmark = pytest.mark.django_db

CASE_PAGES = [
    "detail",
    "person",
    "classification",
    "risk_assessment_add",
    "protective_measure_add",
    "incident_add",
    "summary",
    "summary_history",
    "contribution",
    "disclosures",
    "disclose",
]


def detail_of(client, case: Case) -> str:
    response = client.get(reverse("cases:detail", args=[case.reference]))
    assert response.status_code == 200
    body: str = response.content.decode()
    return body


def test_it_shows_the_decrypted_person_and_records_the_read(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = open_case(
        handlaggare_membership,
        name="Åsa Öberg",
        contact="070-123 45 67",
        safe_contact="Ring bara tisdagar",
        address="Storgatan 1, Halmstad",
    )
    body = detail_of(login_client(handlaggare), case)
    for shown in (
        "Åsa Öberg",
        "19811218-9876",
        "070-123 45 67",
        "Ring bara tisdagar",
        "Storgatan 1, Halmstad",
    ):
        assert shown in body
    assert "1981" in body
    assert "Kvinna" in body
    event = AuditEvent.objects.filter(action="case.read").latest("id")
    assert event.actor == handlaggare
    assert event.object_reference == case.reference
    assert event.agency_code == "soc-vuxen"
    assert "Åsa" not in str(event.details)


def test_an_unaudited_read_shows_nothing(case: Case, handlaggare: User, login_client, monkeypatch) -> None:
    """Fail closed: if the audit entry cannot be written, the page is not shown."""
    from access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise audit.AuditWriteError("no audit today")

    monkeypatch.setattr("cases.reading.record_event", broken)
    client = login_client(handlaggare)
    client.raise_request_exception = False
    response = client.get(reverse("cases:detail", args=[case.reference]))
    assert response.status_code == 500
    assert "Testperson" not in response.content.decode()


@pytest.mark.parametrize("page", CASE_PAGES)
def test_every_case_page_carries_the_protected_identity_banner(
    page: str, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = open_case(handlaggare_membership, protected_identity=ProtectedIdentity.FICTITIOUS_IDENTITY)
    body = login_client(handlaggare).get(reverse(f"cases:{page}", args=[case.reference])).content.decode()
    assert 'class="protected-banner"' in body
    assert "Fingerade personuppgifter" in body


def test_a_case_without_protected_identity_has_no_banner(case: Case, handlaggare: User, login_client) -> None:
    assert 'class="protected-banner"' not in detail_of(login_client(handlaggare), case)


def test_a_protected_case_shows_that_no_address_is_kept(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    case = open_case(handlaggare_membership, protected_identity=ProtectedIdentity.SECRECY_MARKING)
    assert "Lagras inte: skyddade personuppgifter" in detail_of(login_client(handlaggare), case)


def test_it_shows_the_classification_with_children(
    handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    classification = Classification(
        contexts=["hrv"],
        forms=["psykiskt", "digitalt"],
        honour_subtypes=["tvangsaktenskap"],
        relations=["flera"],
        flags=["hbtqi"],
        children=Children(count=2, age_bands=["3-5"], witnessed=True),
    )
    case = open_case(handlaggare_membership, classification=classification)
    body = detail_of(login_client(handlaggare), case)
    for label in (
        "Hedersrelaterat våld och förtryck",
        "Psykiskt våld, Digitalt våld",
        "Tvångsäktenskap/äktenskapstvång",
        "Flera utövare (hedersrelaterat)",
        "HBTQI-person",
        "Barn som bevittnat eller upplevt våld",
        "2 barn",
        "3–5 år",
    ):
        assert label in body, label


def _assess(case: Case, membership: Membership, day: datetime.date, level: str, override: str = "") -> None:
    do_add_risk_assessment(
        case,
        acting_user=membership.user,
        membership=membership,
        assessment=RiskAssessment.new(
            instrument="freda", assessed_on=day, level=level, override_level=override
        ),
        override_reason="Hot om vapen" if override else "",
    )


def test_it_shows_the_risk_history_and_its_trend_oldest_first(
    case: Case, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    _assess(case, handlaggare_membership, datetime.date(2025, 1, 10), "lag")
    _assess(case, handlaggare_membership, datetime.date(2025, 3, 10), "medel", override="hog")
    _assess(case, handlaggare_membership, datetime.date(2025, 6, 10), "medel")
    body = detail_of(login_client(handlaggare), case)
    assert "Låg → Hög → Medel" in body
    assert "Hot om vapen" in body
    assert body.count("FREDA-farlighetsbedömning") == 3


def test_it_marks_repeat_victimisation(
    case: Case, handlaggare_membership: Membership, handlaggare, login_client
) -> None:
    for day in (datetime.date(2023, 1, 5), datetime.date(2024, 6, 1), datetime.date(2025, 2, 1)):
        do_add_incident(
            case,
            acting_user=handlaggare,
            membership=handlaggare_membership,
            occurred_on=day,
            forms=["fysiskt"],
        )
    body = detail_of(login_client(handlaggare), case)
    # 2024-06-01 follows 2023-01-05 after more than a year; 2025-02-01 follows 2024-06-01 within one.
    assert body.count("Upprepad utsatthet") == 1


def test_summary_paragraphs_name_their_agency_and_contributions_are_shown_per_agency(
    case: Case, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    do_save_summary(
        case,
        acting_user=handlaggare,
        membership=handlaggare_membership,
        text="Första stycket.\n\nAndra stycket.",
        based_on=0,
    )
    do_save_contribution(
        case, acting_user=handlaggare, membership=handlaggare_membership, text="Vårt bidrag.", based_on=0
    )
    body = detail_of(login_client(handlaggare), case)
    assert body.count("Skrivet av Socialtjänsten vuxen") == 2
    assert "Första stycket." in body
    assert "Vårt bidrag." in body
    assert "Version 1, sparad" in body
    assert "Ändra er myndighets bidrag" in body


def test_status_buttons_offer_only_the_allowed_transitions(
    case: Case, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    client = login_client(handlaggare)
    body = detail_of(client, case)
    assert "Ändra status till Bevakning" in body
    assert "Ändra status till Avslutat" in body
    assert "Ändra status till Öppet" not in body
    do_change_status(case, acting_user=handlaggare, membership=handlaggare_membership, new_status="avslutat")
    body = detail_of(client, case)
    assert "Ändra status till Öppet" in body
    assert "Ändra status till Bevakning" not in body


def test_the_summary_history_shows_every_version_and_is_audited(
    case: Case, handlaggare_membership: Membership, handlaggare: User, login_client
) -> None:
    for number, text in enumerate(("Första lydelsen.", "Andra lydelsen.")):
        do_save_summary(
            case, acting_user=handlaggare, membership=handlaggare_membership, text=text, based_on=number
        )
    body = (
        login_client(handlaggare)
        .get(reverse("cases:summary_history", args=[case.reference]))
        .content.decode()
    )
    assert "Första lydelsen." in body
    assert "Andra lydelsen." in body
    assert AuditEvent.objects.filter(action="case.summary.history", object_reference=case.reference).exists()
