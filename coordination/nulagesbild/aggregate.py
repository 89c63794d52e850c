"""Counting a period's cells.

Everything is counted from the sealed statistics blocks (cases/statistics.py), never from the cases: no
case is read and no case data is decrypted. The blocks of every half-year up to the period's end are
opened and their records tallied in memory; the new cases are a subset of the ongoing ones (opened in
the period). Multi-valued categories are bit tests on the masks. Referrals and overdue actions are
counted from their own tables, as totals only.

The result (``Counts``) holds true values, including the small ones; it lives in memory only, and
suppression.py decides what of it may be published.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping

from django.db.models import Count, Q, Value
from django.utils import timezone

from cases.statistics import StatisticsValues, records_up_to
from coordination.models import Action, ActionStatus, Referral, ReferralStatus
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.tables import (
    COLLABORATION,
    FRAME_TABLES,
    GENDERS,
    NEW,
    ONGOING,
    OVERVIEW,
    SPECIAL,
    TOTAL,
    Measure,
    cell_id,
)

Counts = dict[str, int]
# COUNT(1) FILTER (WHERE ...): Django allows no filter on COUNT(*).
ONE = Value(1)


def _ongoing(period: Period, opened_period: int, values: StatisticsValues) -> bool:
    """Opened before the period ended and not closed before it began."""
    closed = values.closed_period
    return opened_period <= period.last and (closed is None or closed >= period.first)


def _holds(measure: Measure, values: StatisticsValues) -> bool:
    value = getattr(values, measure.field)
    if measure.kind == "bit":
        return bool(value & int(measure.value))
    if measure.kind == "equals":
        return bool(value == measure.value)
    if measure.kind == "true":
        return value is True
    raise ValueError(f"A {measure.kind} measure is not a condition.")


def _contribution(measure: Measure, values: StatisticsValues) -> int:
    if measure.kind == "sum":
        return int(getattr(values, measure.field))
    return 1 if _holds(measure, values) else 0


def count_statistics(period: Period) -> Counts:
    """Every cell of the overview, the frame tables and the special totals, from the sealed statistics
    blocks of every half-year up to the period's end (cases/statistics.py). The records are tallied by
    their distinct values first, so each measure is tested once per distinct combination, not once per
    case."""
    tally: Counter[tuple[bool, StatisticsValues]] = Counter()
    for opened_period, values in records_up_to(period.last):
        if _ongoing(period, opened_period, values):
            # New cases are a subset of the ongoing ones: opened in the period.
            tally[(opened_period >= period.first, values)] += 1
    column_of_gender = {gender: column for column, gender, _label in GENDERS}
    counts: Counts = {}
    special_by_gender: dict[tuple[str, str], int] = {}

    def add(key: str, value: int) -> None:
        counts[key] = counts.get(key, 0) + value

    for (is_new, values), number in tally.items():
        # A legal gender outside the vocabulary counts with "övriga/uppgift saknas".
        gender = values.legal_gender if values.legal_gender in column_of_gender else "annat"
        column = column_of_gender[gender]
        frames = (NEW, ONGOING) if is_new else (ONGOING,)
        for frame in frames:
            add(cell_id(OVERVIEW, frame, column), number)
        for table in FRAME_TABLES:
            if table.frame not in frames:
                continue
            for row in table.rows:
                add(cell_id(table.key, row.key, column), number * _contribution(row.measure, values))
        for special in SPECIAL.rows:
            if special.measure is None:
                continue
            key = (special.key, gender)
            special_by_gender[key] = special_by_gender.get(key, 0) + number * _contribution(
                special.measure, values
            )
    _fill_zeros_and_totals(counts)
    for special in SPECIAL.rows:
        genders = [special.gender] if special.gender else [gender for _column, gender, _label in GENDERS]
        counts[cell_id(SPECIAL.key, special.key, TOTAL)] = sum(
            special_by_gender.get((special.key, gender), 0) for gender in genders
        )
    return counts


def _fill_zeros_and_totals(counts: Counts) -> None:
    """A gender absent from the period counts 0; each row's total is the sum of its genders."""
    rows = [(OVERVIEW, frame) for frame in (NEW, ONGOING)] + [
        (table.key, row.key) for table in FRAME_TABLES for row in table.rows
    ]
    for table_key, row_key in rows:
        total = 0
        for column, _gender, _label in GENDERS:
            total += counts.setdefault(cell_id(table_key, row_key, column), 0)
        counts[cell_id(table_key, row_key, TOTAL)] = total


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def count_collaboration(period: Period, today: datetime.date) -> Counts:
    """Referrals sent in the period by their answer, and the actions still open past their due date
    (due before the period ended, and before today for a period still running)."""
    sent = Referral.objects.filter(
        sent_at__gte=_local_midnight(period.starts_on), sent_at__lt=_local_midnight(period.ends_before)
    ).aggregate(
        accepted=Count(ONE, filter=Q(status__in=[ReferralStatus.ACCEPTED, ReferralStatus.DONE])),
        rejected=Count(ONE, filter=Q(status=ReferralStatus.REJECTED)),
        pending=Count(ONE, filter=Q(status=ReferralStatus.SENT)),
    )
    overdue = Action.objects.filter(
        status=ActionStatus.OPEN, due_on__lt=min(period.ends_before, today)
    ).count()
    values: Mapping[str, int] = {
        "forfragningar_accepterade": sent["accepted"],
        "forfragningar_avvisade": sent["rejected"],
        "forfragningar_obesvarade": sent["pending"],
        "atgarder_forsenade": overdue,
    }
    return {cell_id(COLLABORATION.key, key, TOTAL): int(value) for key, value in values.items()}


def count_period(period: Period, today: datetime.date) -> Counts:
    return {**count_statistics(period), **count_collaboration(period, today)}
