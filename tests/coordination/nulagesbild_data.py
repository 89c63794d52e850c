"""Synthetic statistics records for the nulägesbild tests, and a plain-Python count of them.

The datasets are skewed on purpose: few men, very few "annat", rare forms of violence and rare special
categories, so a release has many small cells, rows with one small cell, columns whose whole group
is in one category, and small populations. ``reference_counts`` counts records one by one in Python,
independently of aggregate.py's SQL; a test checks the two agree on the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cases import statistics
from cases.choices import (
    AgeBand,
    CaseFlag,
    HonourSubtype,
    MeasureKind,
    PerpetratorRelation,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
    to_mask,
)
from cases.statistics import StatisticsValues
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.tables import (
    FRAME_TABLES,
    GENDERS,
    NEW,
    OVERVIEW,
    SPECIAL,
    TOTAL,
    Measure,
    cell_id,
)


@dataclass
class Record:
    opened_period: int
    closed_period: int | None
    legal_gender: str
    age_band: str
    context_mask: int
    form_mask: int
    honour_mask: int
    relation_mask: int
    flag_mask: int
    measure_mask: int
    risk_level: str
    risk_assessment_count: int
    repeat_victimisation: bool
    child_count: int

    def stored(self, pseudonym: str) -> tuple[bytes, int, StatisticsValues]:
        """(pseudonym, opened half-year, values), as cases.statistics.bulk_add takes them."""
        values = {name: value for name, value in self.__dict__.items() if name != "opened_period"}
        name = pseudonym.encode()[: statistics.PSEUDONYM_BYTES].ljust(statistics.PSEUDONYM_BYTES, b"-")
        return name, self.opened_period, StatisticsValues(**values)


def store_records(records: list[Record], prefix: str = "test-") -> None:
    """Put ``records`` into the sealed statistics blocks, as the cases' actions would."""
    statistics.bulk_add(record.stored(f"{prefix}{index:06d}") for index, record in enumerate(records))


def _pick(rng: random.Random, choices: dict[str, float]) -> str:
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def _some(rng: random.Random, probabilities: dict[str, float], scale: float) -> list[str]:
    return [
        code for code, probability in probabilities.items() if rng.random() < min(1.0, probability * scale)
    ]


def random_records(seed: int, *, size: int | None = None, year: int = 2026) -> list[Record]:
    """About 30–400 records opened over three years up to ``year``, skewed towards small cells."""
    rng = random.Random(seed)  # noqa: S311 - test data
    size = size if size is not None else rng.randint(30, 400)
    # Each dataset leans its own way: one has more men, another almost no "annat", another many HRV.
    genders = {"kvinna": 0.78, "man": 0.18 * rng.uniform(0.2, 1.6), "annat": 0.04 * rng.uniform(0.0, 2.0)}
    rarity = rng.uniform(0.3, 1.5)
    contexts = {
        ViolenceContext.PARTNER: 0.7,
        ViolenceContext.OTHER_RELATIVE: 0.25 * rarity,
        ViolenceContext.HONOUR: 0.08 * rarity,
    }
    forms = {
        ViolenceForm.PHYSICAL: 0.6,
        ViolenceForm.PSYCHOLOGICAL: 0.85,
        ViolenceForm.SEXUAL: 0.15,
        ViolenceForm.ECONOMIC: 0.1,
        ViolenceForm.MATERIAL: 0.05,
        ViolenceForm.LATENT: 0.03,
        ViolenceForm.NEGLECT: 0.02,
        ViolenceForm.DISABILITY_RELATED: 0.02,
        ViolenceForm.DIGITAL: 0.1,
    }
    relations = {
        PerpetratorRelation.PARTNER: 0.5,
        PerpetratorRelation.EX_PARTNER: 0.3,
        PerpetratorRelation.PARENT: 0.08,
        PerpetratorRelation.CHILD: 0.03,
        PerpetratorRelation.SIBLING: 0.03,
        PerpetratorRelation.OTHER_RELATIVE: 0.05,
        PerpetratorRelation.SEVERAL: 0.04,
        PerpetratorRelation.OTHER: 0.03,
    }
    ages = {
        AgeBand.CHILD: 0.05,
        AgeBand.YOUNG: 0.3,
        AgeBand.ADULT: 0.4,
        AgeBand.MIDDLE: 0.17,
        AgeBand.ELDERLY: 0.06 * rarity,
        AgeBand.UNKNOWN: 0.02,
    }
    measures = {
        MeasureKind.CONTACT_BAN: 0.15,
        MeasureKind.SHELTERED_HOUSING: 0.12,
        MeasureKind.SAFETY_ALARM: 0.08,
        MeasureKind.TRAVEL_BAN: 0.02,
        MeasureKind.SAFETY_PLAN: 0.4,
    }
    risks = {"": 0.3, RiskLevel.LOW: 0.3, RiskLevel.MEDIUM: 0.25, RiskLevel.HIGH: 0.15}
    records = []
    for _index in range(size):
        gender = _pick(rng, genders)
        opened = rng.randint((year - 2) * 2, year * 2 + 1)
        closed = None if rng.random() < 0.5 else opened + rng.randint(0, 3)
        context = _some(rng, contexts, 1.0)
        if not context:
            # Every case has a context (the form's rule, cases/records.py); the draw keeps the datasets.
            rng.random()
            context = [ViolenceContext.PARTNER]
        honour = (
            _some(rng, {code: 0.3 for code in HonourSubtype.values}, rarity)
            if ViolenceContext.HONOUR in context
            else []
        )
        children = rng.choice([0, 0, 0, 1, 1, 2, 3, 4])
        flags = _some(
            rng,
            {
                CaseFlag.LGBTQI: 0.04,
                CaseFlag.ELDERLY: 0.05,
                CaseFlag.SHELTERED_HOUSING: 0.05,
                CaseFlag.CHILDREN_WITNESSED: 0.5 if children else 0.0,
                # Only with children: the form records an orosanmälan as a detail of the children.
                CaseFlag.REPORT_OF_CONCERN: 0.4 if children else 0.0,
            },
            rarity,
        )
        if gender == "kvinna" and rng.random() < 0.07 * rarity:
            flags.append(CaseFlag.DISABILITY)
        if children:
            flags.append(CaseFlag.CHILDREN_IN_HOUSEHOLD)
        risk = _pick(rng, risks)
        records.append(
            Record(
                opened_period=opened,
                closed_period=closed,
                legal_gender=gender,
                age_band=_pick(rng, ages),
                context_mask=to_mask(ViolenceContext, context),
                form_mask=to_mask(ViolenceForm, _some(rng, forms, rarity)),
                honour_mask=to_mask(HonourSubtype, honour),
                relation_mask=to_mask(PerpetratorRelation, _some(rng, relations, 1.0)),
                flag_mask=to_mask(CaseFlag, sorted(set(flags))),
                measure_mask=to_mask(MeasureKind, _some(rng, measures, rarity)),
                risk_level=risk,
                risk_assessment_count=0 if not risk else rng.randint(1, 3),
                repeat_victimisation=rng.random() < 0.2,
                child_count=children,
            )
        )
    return records


def _matches(record: Record, measure: Measure) -> int:
    value = getattr(record, measure.field)
    if measure.kind == "bit":
        return int(bool(value & int(measure.value)))
    if measure.kind == "equals":
        return int(value == measure.value)
    if measure.kind == "true":
        return int(bool(value))
    return int(value)  # sum


def reference_counts(records: list[Record], period: Period) -> dict[str, int]:
    """The statistics cells counted record by record (the collaboration cells are 0 here)."""
    column_of = {gender: column for column, gender, _label in GENDERS}
    counts: dict[str, int] = {}

    def add(key: str, amount: int) -> None:
        counts[key] = counts.get(key, 0) + amount

    for record in records:
        ongoing = record.opened_period <= period.last and (
            record.closed_period is None or record.closed_period >= period.first
        )
        if not ongoing:
            continue
        new = record.opened_period >= period.first
        column = column_of.get(record.legal_gender, "ovriga")
        for frame, member in ((NEW, new), ("pagaende", True)):
            if member:
                add(cell_id(OVERVIEW, frame, column), 1)
                add(cell_id(OVERVIEW, frame, TOTAL), 1)
        for table in FRAME_TABLES:
            if table.frame == NEW and not new:
                continue
            for row in table.rows:
                amount = _matches(record, row.measure)
                add(cell_id(table.key, row.key, column), amount)
                add(cell_id(table.key, row.key, TOTAL), amount)
        for special in SPECIAL.rows:
            assert special.measure is not None
            if special.gender is None or special.gender == record.legal_gender:
                add(cell_id(SPECIAL.key, special.key, TOTAL), _matches(record, special.measure))
    return counts


ADVERSARIAL_FROM = 200
LEANS = ("one_man", "everyone_alike", "many_children", "honour", "all_new", "tiny")


def adversarial_records(seed: int, *, year: int = 2026) -> list[Record]:
    """A small municipality that leans one extreme way, as an attacker would pick it: one or two men
    among the women, everyone with the same context, form and measure (all of a group in one row), a
    few households with many children, mostly honour-related cases, every case new in the period, or
    only a handful of cases. The form's rules still hold (cases/records.py)."""
    rng = random.Random(seed)  # noqa: S311 - test data
    lean = LEANS[seed % len(LEANS)]
    records = random_records(
        seed, size=rng.randint(5, 12) if lean == "tiny" else rng.randint(15, 90), year=year
    )
    for index, record in enumerate(records):
        if lean == "one_man":
            record.legal_gender = "man" if index < rng.randint(1, 2) else "kvinna"
        elif lean == "everyone_alike":
            record.context_mask = to_mask(ViolenceContext, [ViolenceContext.PARTNER])
            record.honour_mask = 0
            record.form_mask = to_mask(ViolenceForm, [ViolenceForm.PSYCHOLOGICAL])
            record.measure_mask = to_mask(MeasureKind, [MeasureKind.CONTACT_BAN])
        elif lean == "many_children":
            record.child_count = rng.choice([0, 0, 0, 0, 12, 20]) if index % 3 else 0
        elif lean == "honour":
            record.context_mask |= to_mask(ViolenceContext, [ViolenceContext.HONOUR])
            record.honour_mask = to_mask(HonourSubtype, [rng.choice(HonourSubtype.values)])
        elif lean == "all_new":
            record.opened_period = year * 2 + rng.randint(0, 1)
            record.closed_period = None
        _keep_the_form_rules(record)
    return records


def _keep_the_form_rules(record: Record) -> None:
    """The children's flags follow the number of children, as the form makes them."""
    derived = to_mask(
        CaseFlag, [CaseFlag.CHILDREN_IN_HOUSEHOLD, CaseFlag.CHILDREN_WITNESSED, CaseFlag.REPORT_OF_CONCERN]
    )
    if record.child_count:
        record.flag_mask |= to_mask(CaseFlag, [CaseFlag.CHILDREN_IN_HOUSEHOLD])
    else:
        record.flag_mask &= ~derived


def records_for(seed: int) -> list[Record]:
    """The attacker tests' dataset ``seed``: random below ADVERSARIAL_FROM, adversarial from there."""
    return random_records(seed) if seed < ADVERSARIAL_FROM else adversarial_records(seed)
