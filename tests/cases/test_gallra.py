"""Gallring: due cases are found exactly, a dry run changes nothing, and purging shreds the key first."""

from __future__ import annotations

import datetime
import io
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models import ProtectedError

from access.models import AuditEvent, Membership
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_change_status,
    do_save_contribution,
    do_save_summary,
    do_set_legal_hold,
)
from cases.models import (
    Case,
    CaseKey,
    ContributionVersion,
    Incident,
    Person,
    ProtectiveMeasure,
    RiskAssessment,
    StatisticsBlock,
    SummaryVersion,
    period_of,
)
from cases.reading import read_case
from cases.retention import GallringError, anniversary, do_gallra, due_for_gallring, last_due_entry_date
from cases.statistics import values_of
from cases.vault import CaseShreddedError
from tests.factories import open_case

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2031, 6, 15)
# Five years before TODAY: a case whose last entry is on this day is not yet due (due the day after).
ANNIVERSARY = datetime.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _five_years(settings: Any) -> None:
    settings.RETENTION_YEARS = 5


def closed_case(
    membership: Membership,
    *,
    last_entry_on: datetime.date,
    identity_number: str = "198112189876",
    **kwargs: Any,
) -> Case:
    case = open_case(membership, identity_number=identity_number, **kwargs)
    do_change_status(
        case, acting_user=membership.user, membership=membership, new_status="avslutat", on=last_entry_on
    )
    # The actions never move last_entry_on backwards; set the history the test needs directly.
    Case.objects.filter(pk=case.pk).update(opened_on=last_entry_on, last_entry_on=last_entry_on)
    case.refresh_from_db()
    return case


def gallra(*args: str, today: datetime.date = TODAY) -> str:
    out = io.StringIO()
    call_command("gallra", "--today", today.isoformat(), *args, stdout=out)
    return out.getvalue()


class TestWhichCasesAreDue:
    def test_a_dry_run_lists_the_due_case_and_changes_nothing(
        self, handlaggare_membership: Membership
    ) -> None:
        due = closed_case(handlaggare_membership, last_entry_on=datetime.date(2025, 3, 1))
        events_before = AuditEvent.objects.count()
        output = gallra()
        assert "1 case(s) due." in output
        assert f"  {due.reference}  soc-vuxen  closed 2025-03-01  last entry 2025-03-01" in output
        assert "Dry run: nothing was changed." in output
        assert "Testperson" not in output
        assert Case.objects.filter(pk=due.pk).exists()
        assert CaseKey.objects.filter(case_id=due.pk).exists()
        assert AuditEvent.objects.count() == events_before

    def test_open_held_and_not_yet_due_cases_are_kept(self, handlaggare_membership: Membership) -> None:
        long_ago = datetime.date(2020, 1, 1)
        due = closed_case(handlaggare_membership, last_entry_on=long_ago)
        held = closed_case(handlaggare_membership, last_entry_on=long_ago, identity_number="191212121212")
        do_set_legal_hold(
            held, acting_user=handlaggare_membership.user, membership=handlaggare_membership, hold=True
        )
        recent = closed_case(handlaggare_membership, last_entry_on=ANNIVERSARY, identity_number="")
        still_open = open_case(handlaggare_membership, identity_number="")
        Case.objects.filter(pk=still_open.pk).update(opened_on=long_ago, last_entry_on=long_ago)
        watched = open_case(handlaggare_membership, identity_number="")
        Case.objects.filter(pk=watched.pk).update(status="bevakning", last_entry_on=long_ago)

        assert list(due_for_gallring(TODAY)) == [due]
        output = gallra("--execute")
        assert f"purged {due.reference}" in output
        assert "Purged 1 case(s)" in output
        assert set(Case.objects.all()) == {held, recent, still_open, watched}
        assert CaseKey.objects.count() == 4

    def test_the_anniversary_itself_is_kept_and_the_next_day_is_due(
        self, handlaggare_membership: Membership
    ) -> None:
        case = closed_case(handlaggare_membership, last_entry_on=ANNIVERSARY)
        assert not due_for_gallring(TODAY).exists()
        assert "0 case(s) due." in gallra("--execute")
        assert list(due_for_gallring(TODAY + datetime.timedelta(days=1))) == [case]

    @pytest.mark.parametrize(
        ("last_entry", "kept_on", "due_on"),
        [
            # A leap day's anniversary in a common year is 28 February.
            ("2024-02-29", "2029-02-28", "2029-03-01"),
            ("2024-02-28", "2029-02-28", "2029-03-01"),
            ("2024-03-01", "2029-03-01", "2029-03-02"),
            # Into a leap year: 28 February's anniversary is the 28th, the 29th is already due.
            ("2027-02-28", "2032-02-28", "2032-02-29"),
            ("2027-03-01", "2032-03-01", "2032-03-02"),
        ],
    )
    def test_leap_days(
        self, handlaggare_membership: Membership, last_entry: str, kept_on: str, due_on: str
    ) -> None:
        case = closed_case(handlaggare_membership, last_entry_on=datetime.date.fromisoformat(last_entry))
        assert not due_for_gallring(datetime.date.fromisoformat(kept_on)).exists()
        assert list(due_for_gallring(datetime.date.fromisoformat(due_on))) == [case]

    def test_the_retention_period_comes_from_the_settings(
        self, settings: Any, handlaggare_membership: Membership
    ) -> None:
        closed_case(handlaggare_membership, last_entry_on=datetime.date(2022, 1, 1))
        assert due_for_gallring(TODAY).exists()
        settings.RETENTION_YEARS = 10
        assert not due_for_gallring(TODAY).exists()
        assert "(10 years)" in gallra()

    def test_a_bad_date_is_refused(self) -> None:
        with pytest.raises(CommandError, match="--today must be a date written YYYY-MM-DD"):
            call_command("gallra", "--today", "15/6/2031")


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize("years", [1, 4, 5, 7])
def test_the_cut_off_agrees_with_the_anniversary_rule_on_every_day(years: int) -> None:
    """Due means today > anniversary(last entry); the query's cut-off must say the same for every pair."""
    for offset in range(0, 5 * 366):
        today = datetime.date(2026, 1, 1) + datetime.timedelta(days=offset)
        cut_off = last_due_entry_date(today, years)
        for delta in (-2, -1, 0, 1, 2):
            last_entry = cut_off + datetime.timedelta(days=delta)
            assert (last_entry <= cut_off) == (today > anniversary(last_entry, years)), (today, last_entry)


def _full_case(membership: Membership) -> Case:
    """A closed case with a row in every table that hangs off a case."""
    actor = {"acting_user": membership.user, "membership": membership}
    case = open_case(membership, name="Hemlig Person")
    do_save_summary(case, text="Första stycket.\n\nAndra stycket.", based_on=0, **actor)
    do_save_contribution(case, text="Vårt bidrag.", based_on=0, **actor)
    assessment = RiskAssessment.new(instrument="freda", assessed_on=datetime.date(2023, 5, 1), level="hog")
    do_add_risk_assessment(case, assessment=assessment, notes="Anteckning.", **actor)
    measure = ProtectiveMeasure.new(
        kind="kontaktforbud", starts_on=datetime.date(2023, 5, 2), responsible_agency=membership.agency
    )
    do_add_protective_measure(case, measure=measure, **actor)
    do_add_incident(case, occurred_on=datetime.date(2023, 4, 30), forms=["fysiskt"], notes="Slag.", **actor)
    do_change_status(case, new_status="avslutat", on=datetime.date(2024, 1, 10), **actor)
    Case.objects.filter(pk=case.pk).update(
        opened_on=datetime.date(2023, 4, 1), last_entry_on=datetime.date(2024, 1, 10)
    )
    case.refresh_from_db()
    return case


CASE_MODELS: tuple[type[models.Model], ...] = (
    Case,
    Person,
    SummaryVersion,
    ContributionVersion,
    RiskAssessment,
    ProtectiveMeasure,
    Incident,
)


class TestPurging:
    def test_execute_removes_the_rows_and_the_key(self, handlaggare_membership: Membership) -> None:
        case = _full_case(handlaggare_membership)
        kept = open_case(handlaggare_membership, identity_number="191212121212")
        gallra("--execute")
        assert list(Case.objects.all()) == [kept]
        assert not Person.objects.filter(case_id=case.pk).exists()
        assert not SummaryVersion.objects.filter(case_id=case.pk).exists()
        assert not ContributionVersion.objects.filter(case_id=case.pk).exists()
        assert values_of(case.pk, period_of(case.opened_on)) is None
        assert values_of(kept.pk, period_of(kept.opened_on)) is not None
        assert list(CaseKey.objects.values_list("case_id", flat=True)) == [kept.pk]

    def test_restoring_an_old_backup_of_the_main_database_cannot_bring_the_case_back(
        self, handlaggare_membership: Membership
    ) -> None:
        case = _full_case(handlaggare_membership)
        read_case(case, user=handlaggare_membership.user, membership=handlaggare_membership, request=None)
        backup = {model: list(model.objects.filter(pk__in=_rows_of(model, case))) for model in CASE_MODELS}
        backup_statistics = list(StatisticsBlock.objects.all())
        assert all(backup.values()) and backup_statistics

        gallra("--execute")
        assert not Case.objects.filter(pk=case.pk).exists()

        # The "backup" goes back into the main database, row for row; the key store keeps its present state.
        for model in CASE_MODELS:
            model.objects.bulk_create(backup[model])
        StatisticsBlock.objects.all().delete()
        StatisticsBlock.objects.bulk_create(backup_statistics)
        restored = Case.objects.get(pk=case.pk)
        assert bytes(restored.person.name_sealed) == bytes(backup[Person][0].name_sealed)
        with pytest.raises(CaseShreddedError):
            read_case(
                restored, user=handlaggare_membership.user, membership=handlaggare_membership, request=None
            )

    def test_the_audit_trail_keeps_its_events_and_its_chain(self, handlaggare_membership: Membership) -> None:
        case = _full_case(handlaggare_membership)
        before = list(
            AuditEvent.objects.filter(object_reference=case.reference).values_list("action", flat=True)
        )
        assert "case.open" in before
        gallra("--execute")
        after = list(AuditEvent.objects.filter(object_reference=case.reference).order_by("id"))
        assert [event.action for event in after] == [*before, "case.gallring_started", "case.gallrad"]
        purge = after[-1]
        assert purge.actor is None
        assert purge.object_type == "case"
        assert purge.details == {"retention_years": 5, "last_entry_on": "2024-01-10", "key_was_present": True}
        events = list(AuditEvent.objects.order_by("id"))
        for earlier, later in zip(events, events[1:], strict=False):
            assert later.previous_hash == earlier.entry_hash

    def test_a_purge_interrupted_after_the_key_was_destroyed_is_finished_next_run(
        self, handlaggare_membership: Membership
    ) -> None:
        case = _full_case(handlaggare_membership)
        CaseKey.objects.filter(case_id=case.pk).delete()
        assert "(data key already destroyed; rows left from an interrupted run)" in gallra()
        gallra("--execute")
        assert not Case.objects.filter(pk=case.pk).exists()
        event = AuditEvent.objects.get(action="case.gallrad")
        assert event.details["key_was_present"] is False

    def test_a_case_reopened_after_it_was_listed_is_kept_with_its_key(
        self, handlaggare_membership: Membership
    ) -> None:
        case = closed_case(handlaggare_membership, last_entry_on=datetime.date(2020, 1, 1))
        listed = list(due_for_gallring(TODAY))
        Case.objects.filter(pk=case.pk).update(legal_hold=True)
        with pytest.raises(GallringError, match=f"{case.reference} is no longer due"):
            do_gallra(listed[0], today=TODAY)
        assert CaseKey.objects.filter(case_id=case.pk).exists()

    def test_a_row_that_protects_the_case_stops_it_before_the_key_is_destroyed(
        self, handlaggare_membership: Membership
    ) -> None:
        case = closed_case(handlaggare_membership, last_entry_on=datetime.date(2020, 1, 1))
        blocked = ProtectedError("protected", {Person.objects.get(case=case)})
        with (
            mock.patch("cases.retention.Collector.collect", side_effect=blocked),
            pytest.raises(
                CommandError, match=f"1 case.*not purged:\n  {case.reference} cannot be purged: rows"
            ),
        ):
            gallra("--execute")
        assert Case.objects.filter(pk=case.pk).exists()
        assert CaseKey.objects.filter(case_id=case.pk).exists()

    @pytest.mark.django_db(transaction=True, databases=["default", "keys"])
    def test_the_key_is_committed_gone_before_the_rows_go(self, handlaggare_membership: Membership) -> None:
        case = closed_case(handlaggare_membership, last_entry_on=datetime.date(2020, 1, 1))
        other = closed_case(handlaggare_membership, last_entry_on=datetime.date(2020, 1, 2))
        real_delete = Case.delete

        def crash_on_the_first(self: Case, *args: Any, **kwargs: Any) -> Any:
            if self.pk == case.pk:
                raise RuntimeError("crash between the two steps")
            return real_delete(self, *args, **kwargs)

        with (
            mock.patch.object(Case, "delete", crash_on_the_first),
            pytest.raises(CommandError, match=f"{case.reference} failed \\(RuntimeError\\)") as raised,
        ):
            gallra("--execute")
        assert "crash between" not in str(raised.value)
        # The rows were rolled back but the key stays destroyed: what is left can no longer be read.
        assert Case.objects.filter(pk=case.pk).exists()
        assert not CaseKey.objects.filter(case_id=case.pk).exists()
        # The trail says its gallring began; the run went on with the next case.
        started = AuditEvent.objects.filter(action="case.gallring_started", object_reference=case.reference)
        assert started.count() == 1
        assert not AuditEvent.objects.filter(action="case.gallrad", object_reference=case.reference).exists()
        assert not Case.objects.filter(pk=other.pk).exists()
        gallra("--execute")
        assert not Case.objects.filter(pk=case.pk).exists()
        assert AuditEvent.objects.filter(action="case.gallrad", object_reference=case.reference).exists()


def _rows_of(model: type[models.Model], case: Case) -> list[Any]:
    if model is Case:
        return [case.pk]
    return list(model.objects.filter(case_id=case.pk).values_list("pk", flat=True))
