"""Counting a nulägesbild in the database: the same numbers as counting record by record, in one query
over the statistics records, without reading or decrypting any case."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from access.models import Agency, Membership, User
from cases.choices import InformationCategory, LegalBasis
from cases.sharing import do_disclose_case
from cases.vault import CaseVault
from coordination.models import Action, ActionStatus, Referral, ReferralStatus
from coordination.nulagesbild.aggregate import count_collaboration, count_period, count_statistics
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.tables import NEW, ONGOING, OVERVIEW, TOTAL, cell_id
from tests.coordination.nulagesbild_data import (
    LEANS,
    Record,
    adversarial_records,
    random_records,
    reference_counts,
    store_records,
)
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def store(records: list[Record]) -> None:
    store_records(records)


def record(opened: int, closed: int | None, *, gender: str = "kvinna", **fields: object) -> Record:
    values: dict[str, object] = {
        "opened_period": opened,
        "closed_period": closed,
        "legal_gender": gender,
        "age_band": "30-49",
        "context_mask": 1,
        "form_mask": 0,
        "honour_mask": 0,
        "relation_mask": 0,
        "flag_mask": 0,
        "measure_mask": 0,
        "risk_level": "",
        "risk_assessment_count": 0,
        "repeat_victimisation": False,
        "child_count": 0,
    }
    values.update(fields)
    return Record(**values)


@pytest.mark.parametrize("dataset", ["random", "many children", "honour"])
@pytest.mark.parametrize("period", [Period(2026), Period(2026, 1), Period(2026, 2)], ids=str)
def test_the_database_counts_every_cell_as_a_record_by_record_count_does(
    period: Period, dataset: str
) -> None:
    records = {
        # Seeds 204 + i lean the way LEANS[i] names (seed % 6).
        "random": lambda: random_records(41, size=300),
        "many children": lambda: adversarial_records(204 + LEANS.index("many_children")),
        "honour": lambda: adversarial_records(204 + LEANS.index("honour")),
    }[dataset]()
    store(records)
    counted = count_statistics(period)
    expected = reference_counts(records, period)
    assert {key: value for key, value in counted.items() if value} == {
        key: value for key, value in expected.items() if value
    }
    assert counted[cell_id(OVERVIEW, ONGOING, TOTAL)] > counted[cell_id(OVERVIEW, NEW, TOTAL)] > 0


def test_new_and_ongoing_follow_the_half_years_of_opening_and_closing() -> None:
    year = 2026
    h1, h2 = year * 2, year * 2 + 1
    store(
        [
            record(h1 - 3, h1 - 1),  # closed before the year: not counted
            record(h1 - 3, h1),  # closed in the year: ongoing
            record(h1 - 1, None),  # still open: ongoing
            record(h2, h2, gender="man"),  # opened and closed in the year: new and ongoing
            record(h2 + 1, None),  # opened after the year: not counted
            record(h1, None, gender="okänt"),  # a gender outside the vocabulary counts as övriga
        ]
    )
    whole = count_statistics(Period(year))
    assert whole[cell_id(OVERVIEW, ONGOING, TOTAL)] == 4
    assert whole[cell_id(OVERVIEW, NEW, TOTAL)] == 2
    assert whole[cell_id(OVERVIEW, NEW, "man")] == 1
    assert whole[cell_id(OVERVIEW, NEW, "ovriga")] == 1
    second_half = count_statistics(Period(year, 2))
    assert second_half[cell_id(OVERVIEW, ONGOING, TOTAL)] == 3  # the one closed in the first half is gone
    assert second_half[cell_id(OVERVIEW, NEW, TOTAL)] == 1


def test_counting_is_one_query_and_never_opens_a_case(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries, handlaggare_membership: Membership
) -> None:
    open_case(handlaggare_membership, name="Markör Räknas Ej")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the nulägesbild must not decrypt anything")

    monkeypatch.setattr(CaseVault, "open", refuse)
    monkeypatch.setattr(CaseVault, "open_json", refuse)
    monkeypatch.setattr(CaseVault, "for_case", refuse)
    with django_assert_num_queries(1):
        counted = count_statistics(Period(timezone.localdate().year))
    assert counted[cell_id(OVERVIEW, NEW, "kvinnor")] == 1


def test_referrals_and_overdue_actions_are_counted_as_totals_for_the_period(
    handlaggare: User, handlaggare_membership: Membership, other_agency: Agency
) -> None:
    case = open_case(handlaggare_membership)
    disclosure = do_disclose_case(
        case,
        acting_user=handlaggare,
        membership=handlaggare_membership,
        recipient=other_agency,
        legal_basis=LegalBasis.NECESSARY,
        categories=[InformationCategory.RISK],
        justification="Nödvändigt för att skydda.",
    )
    zone = timezone.get_current_timezone()
    sent = {
        ReferralStatus.ACCEPTED: datetime.datetime(2025, 3, 1, tzinfo=zone),
        ReferralStatus.DONE: datetime.datetime(2025, 6, 30, 23, 30, tzinfo=zone),
        ReferralStatus.REJECTED: datetime.datetime(2025, 2, 1, tzinfo=zone),
        ReferralStatus.SENT: datetime.datetime(2025, 5, 1, tzinfo=zone),
        ReferralStatus.REVOKED: datetime.datetime(2025, 5, 2, tzinfo=zone),
    }
    for status, moment in sent.items():
        referral = Referral.objects.create(
            case=case,
            from_agency=case.agency,
            to_agency=other_agency,
            disclosure=disclosure,
            status=status,
            sent_by=handlaggare,
        )
        Referral.objects.filter(pk=referral.pk).update(sent_at=moment)
    # Sent just after the first half ended (Stockholm time): counted in the second half only.
    late = Referral.objects.create(
        case=case, from_agency=case.agency, to_agency=other_agency, disclosure=disclosure, sent_by=handlaggare
    )
    Referral.objects.filter(pk=late.pk).update(sent_at=datetime.datetime(2025, 7, 1, 0, 10, tzinfo=zone))
    for due, action_status in (
        (datetime.date(2025, 3, 1), ActionStatus.OPEN),  # overdue
        (datetime.date(2025, 6, 30), ActionStatus.OPEN),  # overdue at the end of June
        (datetime.date(2025, 7, 1), ActionStatus.OPEN),  # due after the first half
        (datetime.date(2025, 3, 1), ActionStatus.DONE),  # done in time or late: not open
    ):
        Action.objects.create(
            case=case,
            agency=case.agency,
            owner=handlaggare,
            due_on=due,
            status=action_status,
            created_by=handlaggare,
        )
    first_half = count_collaboration(Period(2025, 1), datetime.date(2026, 1, 10))
    assert first_half == {
        "samverkan.forfragningar_accepterade.totalt": 2,
        "samverkan.forfragningar_avvisade.totalt": 1,
        "samverkan.forfragningar_obesvarade.totalt": 1,
        "samverkan.atgarder_forsenade.totalt": 2,
    }
    second_half = count_collaboration(Period(2025, 2), datetime.date(2026, 1, 10))
    assert second_half["samverkan.forfragningar_obesvarade.totalt"] == 1
    assert second_half["samverkan.atgarder_forsenade.totalt"] == 3
    # A period still running: only what is already past its date is overdue.
    running = count_collaboration(Period(2025, 2), datetime.date(2025, 7, 1))
    assert running["samverkan.atgarder_forsenade.totalt"] == 2


def test_a_whole_period_is_counted_with_its_collaboration_cells() -> None:
    counts = count_period(Period(2026), datetime.date(2026, 12, 31))
    assert counts[cell_id(OVERVIEW, NEW, TOTAL)] == 0
    assert counts["samverkan.atgarder_forsenade.totalt"] == 0
    assert counts["sarskilda.hbtqi.totalt"] == 0
