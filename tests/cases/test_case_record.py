"""The case record: sealed at rest, audited on read, versioned, and counted pseudonymously."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from access.audit import AuditWriteError
from access.models import AuditEvent, Membership, Role, User
from cases.actions import (
    CaseActionError,
    StaleVersionError,
    do_add_incident,
    do_add_risk_assessment,
    do_change_status,
    do_save_contribution,
    do_save_summary,
    do_update_classification,
)
from cases.choices import CaseFlag, CaseStatus, ViolenceForm, from_mask
from cases.crypto import DecryptionError
from cases.models import Case, Person, RiskAssessment, StatisticsBlock, period_of
from cases.policy import access_case
from cases.reading import read_case
from cases.records import Children, Classification
from cases.statistics import StatisticsValues, values_of
from cases.vault import CaseVault
from tests.factories import AgencyFactory, MembershipFactory, open_case


def statistics_of(case: Case) -> StatisticsValues:
    values = values_of(case.pk, period_of(case.opened_on))
    assert values is not None
    return values


pytestmark = pytest.mark.django_db

MARKER = "MARKÖR-Xq7-Åsa"


def read(case: Case, membership: Membership):
    return read_case(case, user=membership.user, membership=membership, request=None)


def test_every_person_field_round_trips_and_nothing_is_plaintext(handlaggare_membership: Membership) -> None:
    case = open_case(
        handlaggare_membership,
        name=f"{MARKER} namn",
        contact=f"{MARKER} 070-123 45 67",
        safe_contact=f"{MARKER} ring bara tisdagar",
        address=f"{MARKER} Storgatan 1",
    )
    row = Person.objects.get(case=case)
    for column in (
        "name_sealed",
        "contact_sealed",
        "safe_contact_sealed",
        "address_sealed",
        "identity_number_sealed",
    ):
        assert MARKER.encode() not in bytes(getattr(row, column))
        assert b"198112189876" not in bytes(getattr(row, column))
    detail = read(case, handlaggare_membership)
    assert detail.person.name == f"{MARKER} namn"
    assert detail.person.contact == f"{MARKER} 070-123 45 67"
    assert detail.person.safe_contact == f"{MARKER} ring bara tisdagar"
    assert detail.person.address == f"{MARKER} Storgatan 1"
    assert detail.person.identity_number == "198112189876"
    assert detail.person.legal_gender == "kvinna"
    assert detail.person.birth_year == 1981
    assert MARKER not in repr(detail)


def test_a_sealed_value_copied_to_another_case_does_not_open(handlaggare_membership: Membership) -> None:
    first = open_case(handlaggare_membership, name="Första")
    second = open_case(handlaggare_membership, name="Andra", identity_number="191212121212")
    Person.objects.filter(case=second).update(name_sealed=Person.objects.get(case=first).name_sealed)
    second.refresh_from_db()
    with pytest.raises(DecryptionError):
        read(second, handlaggare_membership)


def test_a_sealed_value_moved_to_another_column_does_not_open(handlaggare_membership: Membership) -> None:
    case = open_case(handlaggare_membership, contact="070-1")
    row = Person.objects.get(case=case)
    Person.objects.filter(pk=row.pk).update(contact_sealed=row.name_sealed)
    row.refresh_from_db()
    with pytest.raises(DecryptionError, match="cases_person.contact"):
        CaseVault.for_case(case).open(row, "contact")


def test_reading_writes_an_audit_event_naming_the_reference(
    case: Case, handlaggare_membership: Membership
) -> None:
    before = AuditEvent.objects.filter(action="case.read").count()
    read(case, handlaggare_membership)
    event = AuditEvent.objects.filter(action="case.read").latest("id")
    assert AuditEvent.objects.filter(action="case.read").count() == before + 1
    assert event.object_reference == case.reference
    assert event.agency_code == handlaggare_membership.agency.code
    assert "Testperson" not in str(event.details) + event.reason


def test_no_audit_no_data(case: Case, handlaggare_membership: Membership) -> None:
    failing_audit = mock.patch.object(AuditEvent, "save", side_effect=IntegrityError("disk full"))
    with (
        mock.patch("cases.reading.CaseVault.for_case") as opened,
        failing_audit,
        pytest.raises(AuditWriteError),
    ):
        read(case, handlaggare_membership)
    opened.assert_not_called()


def test_audit_events_are_hash_chained(case: Case, handlaggare_membership: Membership) -> None:
    read(case, handlaggare_membership)
    read(case, handlaggare_membership)
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 3
    for earlier, later in zip(events, events[1:], strict=False):
        assert later.previous_hash == earlier.entry_hash


def test_open_case_writes_a_pseudonymous_statistics_record(handlaggare_membership: Membership) -> None:
    classification = Classification(
        contexts=["hrv"],
        forms=["fysiskt", "digitalt"],
        honour_subtypes=["tvangsaktenskap"],
        relations=["flera"],
        flags=["hbtqi"],
        children=Children(
            count=2, age_bands=["0-2", "6-12"], report_made=True, report_date=datetime.date(2026, 3, 1)
        ),
    )
    case = open_case(handlaggare_membership, classification=classification)
    record = statistics_of(case)
    assert record.legal_gender == "kvinna"
    assert from_mask(ViolenceForm, record.form_mask) == ["fysiskt", "digitalt"]
    assert set(from_mask(CaseFlag, record.flag_mask)) == {"hbtqi", "barn_i_hushallet", "orosanmalan"}
    assert record.child_count == 2
    # No row per case: the statistics table holds one sealed block per half-year, nothing else.
    field_names = {field.name for field in StatisticsBlock._meta.get_fields()}
    assert field_names == {"period", "records_sealed"}
    assert list(StatisticsBlock.objects.values_list("period", flat=True)) == [period_of(case.opened_on)]


def test_the_statistics_record_follows_changes(case: Case, handlaggare_membership: Membership) -> None:
    kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
    do_update_classification(
        case, classification=Classification(contexts=["vinr_narstaende"], flags=["aldre"]), **kwargs
    )
    assessment = RiskAssessment.new(
        instrument="freda", assessed_on=datetime.date(2026, 5, 2), level="medel", override_level="hog"
    )
    do_add_risk_assessment(case, assessment=assessment, override_reason="Hot om vapen", **kwargs)
    do_add_incident(case, occurred_on=datetime.date(2026, 1, 10), forms=["fysiskt"], **kwargs)
    do_add_incident(case, occurred_on=datetime.date(2026, 9, 1), forms=["psykiskt"], **kwargs)
    record = statistics_of(case)
    assert from_mask(CaseFlag, record.flag_mask) == ["aldre"]
    assert record.risk_level == "hog"
    assert record.risk_assessment_count == 1
    assert record.repeat_victimisation is True


def test_incidents_more_than_a_year_apart_are_not_repeat_victimisation(
    case: Case, handlaggare_membership: Membership
) -> None:
    kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
    do_add_incident(case, occurred_on=datetime.date(2024, 1, 10), forms=["fysiskt"], **kwargs)
    do_add_incident(case, occurred_on=datetime.date(2025, 1, 11), forms=["fysiskt"], **kwargs)
    assert statistics_of(case).repeat_victimisation is False


def test_an_override_needs_a_reason(case: Case, handlaggare_membership: Membership) -> None:
    assessment = RiskAssessment.new(
        instrument="patriark", assessed_on=datetime.date(2026, 5, 2), level="lag", override_level="hog"
    )
    with pytest.raises(CaseActionError, match="skälet"):
        do_add_risk_assessment(
            case,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            assessment=assessment,
        )
    assert not RiskAssessment.objects.exists()


def test_risk_history_is_kept_and_the_trend_reads_oldest_first(
    case: Case, handlaggare_membership: Membership
) -> None:
    kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
    for day, level in ((1, "lag"), (2, "hog"), (3, "medel")):
        assessment = RiskAssessment.new(
            instrument="freda", assessed_on=datetime.date(2026, 4, day), level=level
        )
        do_add_risk_assessment(case, assessment=assessment, **kwargs)
    assert read(case, handlaggare_membership).risk_trend == ["lag", "hog", "medel"]


class TestStatus:
    @pytest.mark.parametrize(
        ("start", "target", "allowed"),
        [
            ("oppet", "bevakning", True),
            ("oppet", "avslutat", True),
            ("bevakning", "oppet", True),
            ("bevakning", "avslutat", True),
            ("avslutat", "oppet", True),
            ("avslutat", "bevakning", False),
            ("oppet", "oppet", False),
        ],
    )
    def test_only_declared_transitions_are_allowed(
        self, case: Case, handlaggare_membership: Membership, start, target, allowed
    ) -> None:
        Case.objects.filter(pk=case.pk).update(status=start, closed_on=datetime.date(2026, 1, 1))
        case.refresh_from_db()
        kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
        if allowed:
            do_change_status(case, new_status=target, **kwargs)
            case.refresh_from_db()
            assert case.status == target
            assert (case.closed_on is not None) == (target == CaseStatus.CLOSED)
        else:
            with pytest.raises(CaseActionError, match="kan inte få status"):
                do_change_status(case, new_status=target, **kwargs)


class TestVersioning:
    def test_a_stale_summary_edit_is_refused_and_saves_nothing(
        self, case: Case, handlaggare_membership: Membership
    ) -> None:
        kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
        do_save_summary(case, text="Första stycket.", based_on=0, **kwargs)
        do_save_summary(case, text="Första stycket.\n\nAndra stycket.", based_on=1, **kwargs)
        with pytest.raises(StaleVersionError) as error:
            do_save_summary(case, text="Skrivet mot version 1.", based_on=1, **kwargs)
        assert error.value.current == 2
        assert "version 2" in str(error.value)
        assert case.summary_versions.count() == 2

    def test_paragraphs_keep_the_agency_that_wrote_them(
        self, case: Case, handlaggare_membership: Membership
    ) -> None:
        do_save_summary(
            case,
            text="Från socialtjänsten.",
            based_on=0,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
        )
        other = MembershipFactory.create(
            agency=AgencyFactory.create(code="polisen-x", name="Polisen X", police=True), role=Role.SAMORDNARE
        )
        do_save_summary(
            case,
            text="Från socialtjänsten.\n\nFrån polisen.",
            based_on=1,
            acting_user=other.user,
            membership=other,
        )
        paragraphs = read(case, handlaggare_membership).summary
        assert [(p.agency_code, p.text) for p in paragraphs] == [
            (handlaggare_membership.agency.code, "Från socialtjänsten."),
            ("polisen-x", "Från polisen."),
        ]

    def test_each_agency_versions_its_own_contribution(
        self, case: Case, handlaggare_membership: Membership
    ) -> None:
        kwargs = {"acting_user": handlaggare_membership.user, "membership": handlaggare_membership}
        do_save_contribution(case, text="Vårt bidrag.", based_on=0, **kwargs)
        do_save_contribution(case, text="Vårt rättade bidrag.", based_on=1, **kwargs)
        with pytest.raises(StaleVersionError):
            do_save_contribution(case, text="Gammalt.", based_on=1, **kwargs)
        contributions = read(case, handlaggare_membership).contributions
        assert [(c.number, c.text) for c in contributions] == [(2, "Vårt rättade bidrag.")]


def test_protected_identity_never_stores_an_address(handlaggare_membership: Membership) -> None:
    with pytest.raises(CaseActionError, match="aldrig ha en adress"):
        open_case(handlaggare_membership, protected_identity="skyddad_folkbokforing", address="Hemlig väg 1")
    assert not Case.objects.exists()
    case = open_case(handlaggare_membership, protected_identity="skyddad_folkbokforing")
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(case=case).update(address_sealed=b"\x01" + b"x" * 40)


class TestScoping:
    def test_an_outsider_gets_404_like_a_missing_case(self, case: Case, outsider: User) -> None:
        with pytest.raises(Http404):
            access_case(outsider, case.reference)
        with pytest.raises(Http404):
            access_case(outsider, "VR-XXXX-XX")

    def test_roles_without_casework_see_no_cases(
        self, case: Case, chef: User, granskare: User, systemadministrator: User
    ) -> None:
        for user in (chef, granskare, systemadministrator):
            assert not Case.objects.visible_to(user).exists()
            with pytest.raises(Http404):
                access_case(user, case.reference)

    def test_a_user_in_two_agencies_sees_each_case_once(
        self, case: Case, handlaggare: User, handlaggare_membership: Membership
    ) -> None:
        second = MembershipFactory.create(
            user=handlaggare, agency=AgencyFactory.create(), role=Role.SAMORDNARE
        )
        other_case = open_case(second, identity_number="191212121212")
        visible = list(Case.objects.visible_to(handlaggare))
        assert sorted(c.pk for c in visible) == sorted([case.pk, other_case.pk])

    def test_the_reference_is_opaque(self, case: Case) -> None:
        assert case.reference.startswith("VR-")
        assert str(case.pk) not in case.reference
        assert str(case) == case.reference

    def test_anonymous_and_inactive_users_see_nothing(self, case: Case, handlaggare: User) -> None:
        from django.contrib.auth.models import AnonymousUser

        assert not Case.objects.visible_to(AnonymousUser()).exists()
        handlaggare.is_active = False
        handlaggare.save(update_fields=["is_active"])
        assert not Case.objects.visible_to(handlaggare).exists()


def test_a_failed_open_leaves_no_key_behind(handlaggare_membership: Membership) -> None:
    from cases.models import CaseKey

    keys_before = CaseKey.objects.count()
    with (
        mock.patch("cases.actions.refresh_statistics", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        open_case(handlaggare_membership)
    assert CaseKey.objects.count() == keys_before
    assert not Case.objects.exists()


def test_a_reference_clash_draws_a_new_reference(handlaggare_membership: Membership) -> None:
    first = open_case(handlaggare_membership)
    with (
        mock.patch(
            "cases.models.secrets.choice",
            side_effect=list(first.reference.replace("VR-", "").replace("-", "")) + list("ABCDEF"),
        ),
        mock.patch("cases.actions.new_reference", side_effect=["VR-ABCD-EF"]),
    ):
        second = open_case(handlaggare_membership, identity_number="191212121212")
    assert second.reference == "VR-ABCD-EF"


def test_a_future_dated_entry_does_not_postpone_the_last_entry(
    case: Case, handlaggare_membership: Membership
) -> None:
    from cases.actions import do_add_protective_measure, today
    from cases.models import ProtectiveMeasure

    measure = ProtectiveMeasure.new(
        kind="trygghetslarm",
        starts_on=today() + datetime.timedelta(days=40),
        responsible_agency=handlaggare_membership.agency,
    )
    do_add_protective_measure(
        case, acting_user=handlaggare_membership.user, membership=handlaggare_membership, measure=measure
    )
    case.refresh_from_db()
    assert case.last_entry_on == today()


def test_an_unknown_status_is_refused_cleanly(case: Case, handlaggare_membership: Membership) -> None:
    with pytest.raises(CaseActionError, match="Okänd status"):
        do_change_status(
            case,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            new_status="borta",
        )
