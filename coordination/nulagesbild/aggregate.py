"""Counting a period's cells in the database.

Everything is counted from the pseudonymous statistics records (cases.models.StatisticsRecord), never
from the cases: no case is read and nothing is decrypted. One query scans the period's ongoing records
once, grouped by legal gender, with a conditional COUNT (or SUM) per cell; the new cases are a subset
of the ongoing ones (opened in the period), so their cells are conditional counts in the same scan.
Multi-valued categories are bit tests on the masks (``mask & bit > 0``), which SQLite and PostgreSQL
both run. Referrals and overdue actions are counted from their own tables, as totals only.

The result (``Counts``) holds true values, including the small ones; it lives in memory only, and
suppression.py decides what of it may be published.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, F, Func, IntegerField, Q, Sum, Value
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone

from cases.models import StatisticsRecord
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


class ClosedOrStillOpen(Func):
    """The half-year a case closed, or for a case still open one later than any real one. The constant
    is written into the SQL (not a parameter) so that it is the very expression the index of
    coordination/migrations/0002 covers: the ongoing cases of a recent period are then found without
    reading the many more cases closed before it."""

    template = "COALESCE(%(expressions)s, 2147483647)"
    output_field = IntegerField()


def ongoing_condition(period: Period) -> Q:
    """Opened before the period ended and not closed before it began. ``opened_period + 0`` keeps the
    planner off the opening index, which for a recent period selects nearly every case."""
    return Q(GreaterThanOrEqual(ClosedOrStillOpen(F("closed_period")), period.first)) & Q(
        LessThanOrEqual(F("opened_period") + 0, period.last)
    )


def _condition(measure: Measure) -> Q:
    if measure.kind == "bit":
        return Q(GreaterThan(F(measure.field).bitand(int(measure.value)), 0))
    if measure.kind == "equals":
        return Q(Exact(F(measure.field), measure.value))
    if measure.kind == "true":
        return Q(**{measure.field: True})
    raise ValueError(f"A {measure.kind} measure is not a condition.")


def _aggregate(measure: Measure, frame_condition: Q | None) -> Any:
    if measure.kind == "sum":
        return Sum(measure.field, filter=frame_condition, default=0)
    condition = _condition(measure)
    if frame_condition is not None:
        condition &= frame_condition
    return Count(ONE, filter=condition)


def count_statistics(period: Period) -> Counts:
    """Every cell of the overview, the frame tables and the special totals, by one grouped query."""
    new_cases = Q(opened_period__gte=period.first)  # within the ongoing ones: opened in the period
    frames = {NEW: new_cases, ONGOING: None}
    aggregates: dict[str, Any] = {
        f"population_{NEW}": Count(ONE, filter=new_cases),
        f"population_{ONGOING}": Count(ONE),
    }
    names: dict[str, tuple[str, str]] = {}
    for table in FRAME_TABLES:
        for row in table.rows:
            alias = f"c{len(names)}"
            names[alias] = (table.key, row.key)
            aggregates[alias] = _aggregate(row.measure, frames[table.frame])
    special_names: dict[str, str] = {}
    for special in SPECIAL.rows:
        if special.measure is None:
            continue
        alias = f"s{len(special_names)}"
        special_names[alias] = special.key
        aggregates[alias] = _aggregate(special.measure, None)
    grouped = (
        StatisticsRecord.objects.filter(ongoing_condition(period))
        .values("legal_gender")
        .annotate(**aggregates)
        .order_by()
    )
    column_of_gender = {gender: column for column, gender, _label in GENDERS}
    counts: Counts = {}
    special_by_gender: dict[tuple[str, str], int] = {}

    def add(key: str, value: int) -> None:
        counts[key] = counts.get(key, 0) + value

    for result in grouped:
        # A legal gender outside the vocabulary counts with "övriga/uppgift saknas".
        gender = result["legal_gender"] if result["legal_gender"] in column_of_gender else "annat"
        column = column_of_gender[gender]
        for frame in (NEW, ONGOING):
            add(cell_id(OVERVIEW, frame, column), int(result[f"population_{frame}"]))
        for alias, (table_key, row_key) in names.items():
            add(cell_id(table_key, row_key, column), int(result[alias]))
        for alias, special_key in special_names.items():
            special_by_gender[(special_key, gender)] = special_by_gender.get((special_key, gender), 0) + int(
                result[alias]
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
