"""import_cases: the whole file is checked first, errors name places not values, and it is all or nothing."""

from __future__ import annotations

import copy
import datetime
import io
import json
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.db.models import Q

from access.models import AuditEvent, Membership, Role, User
from cases import choices as choices_module
from cases import importing
from cases.importing.runner import _discard_keys
from cases.models import Case, CaseKey, Person, SummaryVersion, period_of
from cases.reading import read_case
from cases.statistics import record_count, values_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "import-example.json"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "import-format.md"
# The personal values of the example: none may ever appear in an error message.
PERSONAL_VALUES = ("Andersson", "Exempel", "19900101", "900101-1239", "850675", "Exempelgatan", "070-000")


def example() -> dict[str, Any]:
    return copy.deepcopy(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def write(tmp_path: Path, data: object, name: str = "import.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run(path: Path, *args: str, user: str | None = "handlaggare", agency: str = "soc-vuxen") -> str:
    out = io.StringIO()
    options = ["--agency", agency, *(["--user", user] if user else []), *args]
    call_command("import_cases", str(path), *options, stdout=out)
    return out.getvalue()


def refused(path: Path, **kwargs: Any) -> str:
    with pytest.raises(CommandError) as raised:
        run(path, **kwargs)
    message = str(raised.value)
    for value in PERSONAL_VALUES:
        assert value not in message, f"the error message shows the personal value {value!r}"
    return message


def assert_nothing_imported() -> None:
    assert Case.objects.count() == 0
    assert Person.objects.count() == 0
    assert SummaryVersion.objects.count() == 0
    assert record_count() == 0
    assert CaseKey.objects.count() == 0, "a data key of a rolled-back case was left in the key store"
    # The fixtures' users and memberships have events of their own; none may be about a case.
    about_cases = AuditEvent.objects.filter(Q(object_type="case") | Q(object_type__startswith="cases."))
    assert list(about_cases.values_list("action", flat=True)) == []


def references_by_record(output: str) -> dict[int, str]:
    return {int(record): reference for record, reference in re.findall(r"record (\d+): (VR-\S+)", output)}


class TestTheExample:
    def test_it_imports_every_part_of_the_record(
        self, tmp_path: Path, handlaggare_membership: Membership
    ) -> None:
        output = run(EXAMPLE, "--verbosity", "2")
        assert (
            "Imported 3 case(s) into soc-vuxen in the name of handlaggare: 1 oppet, 1 bevakning, 1 avslutat."
            in output
        )
        references = references_by_record(output)
        first = Case.objects.get(reference=references[1])
        detail = read_case(
            first, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
        )
        assert detail.person.name == "Exempel Anna Andersson"
        assert detail.person.identity_number == "199001011239"
        assert detail.person.birth_year == 1990
        assert detail.person.safe_contact == "Sms vardagar 9–16, aldrig röstmeddelande"
        assert detail.classification.forms == ["ekonomiskt", "fysiskt", "psykiskt"]
        assert detail.classification.children.report_date == datetime.date(2024, 3, 5)
        assert [paragraph.text for paragraph in detail.summary] == [
            "Kontakt via kvinnojouren.",
            "Säkerhetsplan upprättad tillsammans med personen.",
        ]
        assert {paragraph.agency_code for paragraph in detail.summary} == {"soc-vuxen"}
        (risk,) = detail.risks
        assert risk.assessment.effective_level == "hog"
        assert risk.override_reason == "Hot har eskalerat senaste veckan."
        assert risk.assessment.assessor == handlaggare_membership.user
        (measure,) = detail.measures
        assert measure.measure.responsible_agency == handlaggare_membership.agency
        assert measure.measure.ends_on == datetime.date(2025, 3, 10)
        assert [entry.incident.occurred_on for entry in detail.incidents] == [
            datetime.date(2024, 5, 2),
            datetime.date(2024, 2, 28),
        ]
        assert first.opened_on == datetime.date(2024, 3, 4)
        assert first.status == "oppet"

    def test_statuses_dates_and_protected_identity_are_kept(self, handlaggare: User) -> None:
        references = references_by_record(run(EXAMPLE, "--verbosity", "2"))
        closed = Case.objects.get(reference=references[2])
        assert closed.status == "avslutat"
        assert closed.closed_on == datetime.date(2024, 1, 31)
        assert closed.person.protected_identity == "skyddad_folkbokforing"
        assert closed.person.identity_kind == "samordningsnummer"
        assert bytes(closed.person.address_sealed) == b""
        watched = Case.objects.get(reference=references[3])
        assert watched.status == "bevakning"
        assert watched.person.identity_kind == "saknas"
        for case in (closed, watched):
            assert values_of(case.pk, period_of(case.opened_on)) is not None
            assert CaseKey.objects.filter(case_id=case.pk).exists()

    def test_one_import_event_records_the_count_and_nothing_personal(self, handlaggare: User) -> None:
        run(EXAMPLE)
        event = AuditEvent.objects.get(action="case.import")
        assert event.actor == handlaggare
        assert event.agency_code == "soc-vuxen"
        assert event.details == {"count": 3, "statuses": {"oppet": 1, "bevakning": 1, "avslutat": 1}}
        assert AuditEvent.objects.filter(action="case.open").count() == 3
        everything = json.dumps(list(AuditEvent.objects.values()), default=str)
        for value in PERSONAL_VALUES:
            assert value not in everything

    def test_the_documented_example_is_the_sample_file(self) -> None:
        blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
        assert len(blocks) == 1
        assert json.loads(blocks[0]) == example()

    def test_the_documentation_names_every_field_and_code(self) -> None:
        docs = DOCS.read_text(encoding="utf-8")
        names = [*importing.CASE_FIELDS, *importing.PERSON_FIELDS, *importing.CLASSIFICATION_FIELDS]
        names += [*importing.CHILDREN_FIELDS, *importing.RISK_FIELDS, *importing.MEASURE_FIELDS]
        names += [*importing.INCIDENT_FIELDS]
        for choices in (
            choices_module.CaseStatus,
            choices_module.IdentityNumberKind,
            choices_module.LegalGender,
            choices_module.ProtectedIdentity,
            choices_module.ViolenceContext,
            choices_module.ViolenceForm,
            choices_module.HonourSubtype,
            choices_module.PerpetratorRelation,
            choices_module.CaseFlag,
            choices_module.ChildAgeBand,
            choices_module.RiskInstrument,
            choices_module.RiskLevel,
            choices_module.MeasureKind,
        ):
            names += list(choices.values)
        missing = [name for name in names if f"`{name}`" not in docs]
        assert missing == [], f"docs/import-format.md does not mention {missing}"

    def test_a_samordnare_may_import_too(self, tmp_path: Path, samordnare: User) -> None:
        assert "Imported 3 case(s)" in run(EXAMPLE, user="samordnare")


class TestValidation:
    def test_every_problem_is_listed_by_record_and_path_and_nothing_is_imported(
        self, tmp_path: Path, handlaggare: User
    ) -> None:
        data = example()
        first, second, third = data["cases"]
        first["person"]["birth_year"] = "1990"
        second["person"]["identity_number"] = "850675-2348"
        second["persn"] = {}
        second["classification"]["forms"] = ["psykiskt", "fysisk"]
        third["opened_on"] = "2024-02-30"
        third["status"] = "avslutat"
        message = refused(write(tmp_path, data))
        assert "nothing was imported" in message
        expected = [
            "record 1: cases[1].person.birth_year: must be a whole number, not text.",
            "record 2: cases[2].persn: is not a known field. Did you mean 'person'?",
            "record 2: cases[2].person.identity_number: is not a valid samordningsnummer (validation says: "
            "Kontrollsiffran stämmer inte. Kontrollera numret.)",
            "record 2: cases[2].classification.forms[2]: is not a known code. Did you mean 'fysiskt'? "
            "Allowed: fysiskt, psykiskt, sexuellt,",
            "record 3: cases[3].opened_on: is not a date that exists.",
            "record 3: cases[3].closed_on: is required when status is avslutat.",
        ]
        for line in expected:
            assert line in message
        assert "6 problem(s) in 3 record(s)" in message
        assert_nothing_imported()

    def test_the_top_level_is_checked(self, tmp_path: Path, handlaggare: User) -> None:
        message = refused(write(tmp_path, {"format": "csv", "version": 2, "cases": [], "extras": 1}))
        assert 'file: format: must be "skyddsnat-import".' in message
        assert "file: version: must be one of the supported versions: 1." in message
        assert "file: cases: is empty: there is nothing to import." in message
        assert "file: extras: is not a known field." in message

    def test_a_whole_file_that_is_not_an_object_is_refused(self, tmp_path: Path, handlaggare: User) -> None:
        assert "file: the top level: must be an object {...}, not a list." in refused(write(tmp_path, []))

    def test_required_fields_and_wrong_types_are_named(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        case = data["cases"][0]
        del case["person"]["name"]
        case["status"] = None
        case["classification"]["children"]["witnessed"] = "true"
        case["classification"]["children"]["count"] = 2.5
        case["incidents"] = {"occurred_on": "2024-01-01"}
        case["risk_assessments"][0]["assessed_on"] = "6/3/2024"
        case["protective_measures"][0]["ends_on"] = "2024-03-01"
        message = refused(write(tmp_path, data))
        for line in (
            "record 1: cases[1].status: is required.",
            "record 1: cases[1].person.name: is required.",
            "record 1: cases[1].classification.children.count: must be a whole number, not a number.",
            "record 1: cases[1].classification.children.witnessed: must be true or false, not text.",
            "record 1: cases[1].risk_assessments[1].assessed_on: must be a date written YYYY-MM-DD.",
            "record 1: cases[1].protective_measures[1].ends_on: is before starts_on.",
            "record 1: cases[1].incidents: must be a list [...], not an object.",
        ):
            assert line in message

    def test_rules_of_the_record_are_checked_before_anything_is_written(
        self, tmp_path: Path, handlaggare: User
    ) -> None:
        data = example()
        first, second, third = data["cases"]
        second["person"]["address"] = "Hemlig gatan 2"
        first["risk_assessments"][0]["override_reason"] = None
        first["classification"]["honour_subtypes"] = ["barnaktenskap"]
        third["closed_on"] = "2024-07-01"
        third["person"]["birth_year"] = 1978
        third["person"]["identity_number"] = "19900101-1239"
        third["person"]["identity_kind"] = "personnummer"
        future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()  # noqa: DTZ011
        first["incidents"][0]["occurred_on"] = future
        message = refused(write(tmp_path, data))
        assert "Hemlig" not in message
        for line in (
            "record 1: cases[1].classification.honour_subtypes: need the context hrv in contexts.",
            "record 1: cases[1].risk_assessments[1].override_reason: is required when override_level is "
            "given.",
            "record 1: cases[1].incidents[1].occurred_on: is in the future.",
            "record 2: cases[2].person.address: must be left out: a person with protected identity never has "
            "an address in the system.",
            "record 3: cases[3].closed_on: is allowed only when status is avslutat.",
            "record 3: cases[3].person.birth_year: does not match the birth date in identity_number.",
            "record 3: cases[3].person.identity_number: is the same identity number as record 1.",
        ):
            assert line in message
        assert_nothing_imported()

    def test_one_person_written_two_ways_is_a_duplicate(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        data["cases"][2]["person"]["identity_number"] = "199001011239"
        message = refused(write(tmp_path, data))
        assert (
            "record 3: cases[3].person.identity_number: is the same identity number as record 1." in message
        )

    def test_a_file_cannot_be_imported_twice(self, tmp_path: Path, handlaggare: User) -> None:
        run(EXAMPLE)
        message = refused(EXAMPLE)
        already = "already has a case in agency soc-vuxen (was this file imported before?)."
        assert f"record 1: cases[1].person.identity_number: {already}" in message
        assert f"record 2: cases[2].person.identity_number: {already}" in message
        assert Case.objects.count() == 3

    def test_another_agencys_case_for_the_same_person_is_neither_blocking_nor_revealed(
        self, tmp_path: Path, handlaggare: User, outsider: User
    ) -> None:
        run(EXAMPLE, user="utomstaende", agency="polisen")
        assert "Imported 3 case(s)" in run(EXAMPLE)

    def test_a_key_that_is_not_a_field_name_is_not_shown(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        data["cases"][0]["person"]["Anna Andersson 19900101"] = "kvinna"
        message = refused(write(tmp_path, data))
        assert "record 1: cases[1].person: has a field with an unexpected name (not shown" in message

    def test_a_field_written_twice_is_refused(self, tmp_path: Path, handlaggare: User) -> None:
        text = EXAMPLE.read_text(encoding="utf-8").replace(
            '"name": "Exempel Anna Andersson",',
            '"name": "Exempel Anna Andersson", "name": "Exempel Anna",',
            1,
        )
        path = tmp_path / "twice.json"
        path.write_text(text, encoding="utf-8")
        assert "record 1: cases[1].person.name: is written more than once in the same object." in refused(
            path
        )

    def test_broken_json_names_line_and_column_only(self, tmp_path: Path, handlaggare: User) -> None:
        path = tmp_path / "broken.json"
        path.write_text(
            '{"format": "skyddsnat-import",\n "cases": [{"person": {"name": "Exempel Anna"}]}', "utf-8"
        )
        message = refused(path)
        assert re.search(r"is not valid JSON: .* at line 2, column \d+\.", message)
        assert "Exempel" not in message

    def test_a_file_that_is_not_utf8_is_refused(self, tmp_path: Path, handlaggare: User) -> None:
        path = tmp_path / "latin1.json"
        path.write_bytes('{"cases": [{"person": {"name": "Åsa"}}]}'.encode("latin-1"))
        assert "is not UTF-8 text" in refused(path)

    def test_the_listing_stops_at_fifty(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        data["cases"] = [
            {
                "opened_on": "2024-01-01",
                "status": "oppet",
                "person": {},
                "classification": {"contexts": ["hrv"]},
            }
            for _ in range(60)
        ]
        message = refused(write(tmp_path, data))
        assert "60 problem(s) in 60 record(s)" in message
        assert message.count("is required.") == 50
        assert "... and 10 more." in message


class TestWhoMayImport:
    def test_a_user_is_required(self, handlaggare: User) -> None:
        with pytest.raises(CommandError, match="--user is required"):
            run(EXAMPLE, user=None)

    @pytest.mark.parametrize("role", [Role.CHEF, Role.GRANSKARE, Role.SYSTEMADMINISTRATOR])
    def test_roles_without_casework_may_not(self, agency: Any, role: str) -> None:
        MembershipFactory.create(user__username="someone", agency=agency, role=role)
        with pytest.raises(CommandError, match="'someone' is not an active handläggare or samordnare"):
            run(EXAMPLE, user="someone")
        assert_nothing_imported()

    def test_a_caseworker_of_another_agency_may_not(self, handlaggare: User, outsider: User) -> None:
        with pytest.raises(CommandError, match="'utomstaende' is not an active handläggare"):
            run(EXAMPLE, user="utomstaende")

    def test_an_unknown_user_gets_the_same_answer(self, handlaggare: User) -> None:
        with pytest.raises(CommandError, match="'nobody' is not an active handläggare"):
            run(EXAMPLE, user="nobody")

    def test_an_unknown_agency_is_refused(self, handlaggare: User) -> None:
        with pytest.raises(CommandError, match="No agency has the code 'nowhere'"):
            run(EXAMPLE, agency="nowhere")

    def test_an_inactive_user_may_not(self, handlaggare: User) -> None:
        User.objects.filter(pk=handlaggare.pk).update(is_active=False)
        with pytest.raises(CommandError, match="is not an active handläggare"):
            run(EXAMPLE)


def _fail_on_the_closed_case(case: Case, **kwargs: Any) -> None:
    raise IntegrityError("simulated failure half-way")


class TestAllOrNothing:
    """Record 2 fails after record 1 is complete and record 2's case (and key) exist."""

    def assert_rolled_back(self, tmp_path: Path, existing: Case) -> None:
        audit_before = AuditEvent.objects.count()
        # Record 3 (bevakning) would fail too, but record 2 comes first.
        with (
            mock.patch("cases.importing.runner.do_change_status", side_effect=_fail_on_the_closed_case),
            pytest.raises(CommandError) as raised,
        ):
            run(EXAMPLE)
        message = str(raised.value)
        assert "Import failed at record 2 (IntegrityError); everything was rolled back" in message
        assert "simulated" not in message
        assert list(Case.objects.all()) == [existing]
        assert Person.objects.count() == 1
        assert record_count() == 1
        assert list(CaseKey.objects.values_list("case_id", flat=True)) == [existing.pk], (
            "the data keys of the rolled-back cases were left in the key store"
        )
        assert AuditEvent.objects.count() == audit_before

    def test_a_failure_half_way_leaves_nothing(self, tmp_path: Path, case: Case) -> None:
        self.assert_rolled_back(tmp_path, case)

    @pytest.mark.django_db(transaction=True, databases=["default", "keys"])
    def test_a_failure_half_way_leaves_nothing_when_the_keys_were_really_committed(
        self, tmp_path: Path, case: Case
    ) -> None:
        self.assert_rolled_back(tmp_path, case)

    def test_a_failure_of_the_audit_undoes_the_import(self, tmp_path: Path, handlaggare: User) -> None:
        original = AuditEvent.save

        def fail_on_import(event: AuditEvent, *args: Any, **kwargs: Any) -> None:
            if event.action == "case.import":
                raise IntegrityError("disk full")
            original(event, *args, **kwargs)

        with mock.patch.object(AuditEvent, "save", fail_on_import), pytest.raises(CommandError) as raised:
            run(EXAMPLE)
        assert "Import failed while finishing (AuditWriteError)" in str(raised.value)
        assert_nothing_imported()

    def test_discarding_never_touches_the_key_of_a_case_that_exists(self, case: Case) -> None:
        assert _discard_keys([case.pk]) == []
        assert CaseKey.objects.filter(case_id=case.pk).exists()

    def test_keys_that_cannot_be_discarded_are_reported(self, tmp_path: Path, handlaggare: User) -> None:
        key_store_down = mock.patch.object(
            CaseKey.objects, "filter", side_effect=IntegrityError("key store down")
        )

        def fail_and_lose_the_key_store(case: Case, **kwargs: Any) -> None:
            key_store_down.start()
            raise IntegrityError("simulated failure half-way")

        try:
            with (
                mock.patch(
                    "cases.importing.runner.do_change_status", side_effect=fail_and_lose_the_key_store
                ),
                pytest.raises(CommandError) as raised,
            ):
                run(EXAMPLE)
        finally:
            key_store_down.stop()
        message = str(raised.value)
        assert "Import failed at record 2 (IntegrityError)" in message
        assert "2 data key(s) of the rolled-back cases could not be removed from the key store" in message
        leftovers = set(CaseKey.objects.values_list("case_id", flat=True))
        assert len(leftovers) == 2
        assert all(str(case_id) in message for case_id in leftovers)
