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
from collections.abc import Mapping

import numpy as np
from django.db.models import Count, Q, Value
from django.utils import timezone

from cases.statistics import (
    AGE_CODES,
    GENDER_CODES,
    RECORD_DTYPE,
    RISK_CODES,
    STILL_OPEN,
    arrays_up_to,
)
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


def count_statistics(period: Period) -> Counts:
    """Every cell of the overview, the frame tables and the special totals, from the sealed statistics
    blocks of every half-year up to the period's end (cases/statistics.py). Each block opens into an
    array of its records, and each measure is one vectorised test over all of them, summed per gender
    column with ``bincount``: a million records take a few array operations, not a million loops."""
    blocks = list(arrays_up_to(period.last))
    records = np.concatenate([array for _period, array in blocks]) if blocks else np.zeros(0, RECORD_DTYPE)
    opened = np.concatenate(
        [np.full(len(array), number, dtype=np.int64) for number, array in blocks]
        or [np.zeros(0, dtype=np.int64)]
    )
    closed = records["closed_period"].astype(np.int64)
    ongoing = (opened <= period.last) & ((closed == STILL_OPEN) | (closed >= period.first))
    # New cases are a subset of the ongoing ones: opened in the period.
    frames = {ONGOING: ongoing, NEW: ongoing & (opened >= period.first)}
    # A legal gender outside the vocabulary counts with "övriga/uppgift saknas".
    columns = [column for column, _gender, _label in GENDERS]
    column_of_code = np.array(
        [columns.index(_column_of_gender(gender)) for gender in GENDER_CODES]
        + [columns.index("ovriga")] * 256
    )[:256]
    column = column_of_code[records["legal_gender"]]
    # Each frame's records and their gender columns, selected once.
    selected = {frame: (records[mask], column[mask]) for frame, mask in frames.items()}
    counts: Counts = {}

    def per_column(frame: str, measure: Measure | None = None) -> list[int]:
        frame_records, frame_columns = selected[frame]
        weights = None if measure is None else _values(measure, frame_records)
        sums = np.bincount(frame_columns, weights=weights, minlength=len(columns))
        return [int(round(value)) for value in sums]

    for frame in (NEW, ONGOING):
        for position, number in enumerate(per_column(frame)):
            counts[cell_id(OVERVIEW, frame, columns[position])] = number
    for table in FRAME_TABLES:
        for row in table.rows:
            for position, number in enumerate(per_column(table.frame, row.measure)):
                counts[cell_id(table.key, row.key, columns[position])] = number
    _fill_zeros_and_totals(counts)
    for special in SPECIAL.rows:
        if special.measure is None:
            continue
        by_column = per_column(ONGOING, special.measure)
        wanted = [_column_of_gender(special.gender)] if special.gender else columns
        counts[cell_id(SPECIAL.key, special.key, TOTAL)] = sum(
            by_column[columns.index(wanted_column)] for wanted_column in wanted
        )
    return counts


def _column_of_gender(gender: str) -> str:
    return next((column for column, known, _label in GENDERS if known == gender), "ovriga")


_CODES = {"age_band": AGE_CODES, "risk_level": RISK_CODES, "legal_gender": GENDER_CODES}


def _values(measure: Measure, records: np.ndarray) -> np.ndarray:
    """What ``measure`` contributes of each record (1 or 0; the field itself for a sum), as floats."""
    field: np.ndarray = records[measure.field]
    if measure.kind == "bit":
        contributes: np.ndarray = (field & int(measure.value)) != 0
    elif measure.kind == "equals":
        codes = _CODES[measure.field]
        if measure.value not in codes:
            return np.zeros(len(records))
        contributes = field == codes.index(str(measure.value))
    elif measure.kind == "true":
        contributes = field != 0
    elif measure.kind == "sum":
        contributes = field
    else:
        raise ValueError(f"Unknown measure kind {measure.kind!r}.")
    return contributes.astype(np.float64)


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
