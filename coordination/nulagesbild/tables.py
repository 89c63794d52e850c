"""The fixed, pre-approved table templates of a nulägesbild, and nothing else.

There are no free filters: every release has exactly these tables for a period, because a query a
user could shape (one agency, one month, one age band more) is the classic way to difference two
releases down to one person. A template names what is counted and how the attacker may relate it to
other cells; suppression.py uses that to protect the small counts.

Populations (frames), both for the whole municipality:
- ``nya``: cases opened in the period;
- ``pagaende``: cases opened before the period's end and not closed before its start (new ones included).

Every frame table is a breakdown by legal gender (kvinnor, män, övriga/uppgift saknas) with a total,
and sits under its frame's population row in the overview. In a table of *exclusive* categories each
case is in exactly one row, so the rows add up to the population; in a *multi* table a case may be in
several rows (or none), so a row is at most the population. Labels are Swedish constants: a release is
a Swedish document whatever language the interface speaks, and its text must never change afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cases.choices import (
    AgeBand,
    CaseFlag,
    HonourSubtype,
    LegalGender,
    MeasureKind,
    PerpetratorRelation,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
)

THRESHOLD = 5  # counts 1–4 are shown as "<5"
SPECIAL_THRESHOLD = 10  # special-category one-way totals 1–9 are shown as "<10"
PERCENT_MIN_DENOMINATOR = 20  # a share is shown only when its denominator is at least this

NEW = "nya"
ONGOING = "pagaende"
FRAMES = (NEW, ONGOING)
FRAME_LABELS = {NEW: "Nya ärenden", ONGOING: "Pågående ärenden"}

# Column key, the statistics record's legal gender, the column's heading.
GENDERS: tuple[tuple[str, str, str], ...] = (
    ("kvinnor", LegalGender.WOMAN.value, "Kvinnor"),
    ("man", LegalGender.MAN.value, "Män"),
    ("ovriga", LegalGender.OTHER.value, "Övriga/uppgift saknas"),
)
TOTAL = "totalt"
COLUMNS: tuple[str, ...] = (*(key for key, _gender, _label in GENDERS), TOTAL)
COLUMN_LABELS: dict[str, str] = {**{key: label for key, _gender, label in GENDERS}, TOTAL: "Totalt"}
GENDER_OF_COLUMN: dict[str, str] = {key: gender for key, gender, _label in GENDERS}

OVERVIEW = "oversikt"


@dataclass(frozen=True)
class Measure:
    """What one row counts among a frame's records: a bit of a mask, a field's value, a true flag, or
    the sum of a field (``sum``: the number of children, a count of persons but not of cases)."""

    kind: Literal["bit", "equals", "true", "sum"]
    field: str
    value: int | str = 0

    @classmethod
    def bit(cls, field: str, choices: type, code: str) -> Measure:
        return cls("bit", field, 1 << list(choices.values).index(code))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    measure: Measure
    # False for a row that is not a count of the frame's cases (the number of children): the attacker
    # cannot bound it by the population.
    bounded: bool = True


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    description: str
    frame: str
    kind: Literal["exclusive", "multi"]
    rows: tuple[Row, ...]
    # The same rows counted over the new cases: each cell of that table is at most this one's.
    contains: str | None = None


@dataclass(frozen=True)
class OneWay:
    """A total without gender breakdown, each row at most the population cell ``bounded_by`` (an id)."""

    key: str
    title: str
    description: str
    threshold: int
    rows: tuple[OneWayRow, ...]


@dataclass(frozen=True)
class OneWayRow:
    key: str
    label: str
    bounded_by: str | None = None
    # For the statistics totals: the measure over the ongoing cases, optionally of one legal gender.
    measure: Measure | None = None
    gender: str | None = None


def cell_id(table: str, row: str, column: str) -> str:
    return f"{table}.{row}.{column}"


def population_id(frame: str, column: str) -> str:
    return cell_id(OVERVIEW, frame, column)


def _bits(field: str, choices: type, labels: dict[str, str]) -> tuple[Row, ...]:
    return tuple(Row(code, label, Measure.bit(field, choices, code)) for code, label in labels.items())


_CONTEXTS = {
    ViolenceContext.PARTNER.value: "VINR – partner/f.d. partner",
    ViolenceContext.OTHER_RELATIVE.value: "VINR – annan närstående",
    ViolenceContext.HONOUR.value: "Hedersrelaterat våld och förtryck",
}
_FORMS = {
    ViolenceForm.PHYSICAL.value: "Fysiskt våld",
    ViolenceForm.PSYCHOLOGICAL.value: "Psykiskt våld",
    ViolenceForm.SEXUAL.value: "Sexuellt våld",
    ViolenceForm.ECONOMIC.value: "Ekonomiskt våld",
    ViolenceForm.MATERIAL.value: "Materiellt våld",
    ViolenceForm.LATENT.value: "Latent våld",
    ViolenceForm.NEGLECT.value: "Försummelse",
    ViolenceForm.DISABILITY_RELATED.value: "Funktionshinderrelaterat våld",
    ViolenceForm.DIGITAL.value: "Digitalt våld",
}
_RELATIONS = {
    PerpetratorRelation.PARTNER.value: "Partner",
    PerpetratorRelation.EX_PARTNER.value: "Före detta partner",
    PerpetratorRelation.PARENT.value: "Förälder",
    PerpetratorRelation.CHILD.value: "Barn",
    PerpetratorRelation.SIBLING.value: "Syskon",
    PerpetratorRelation.OTHER_RELATIVE.value: "Annan släkting",
    PerpetratorRelation.SEVERAL.value: "Flera utövare (heder)",
    PerpetratorRelation.OTHER.value: "Annan",
}
_AGES = {
    AgeBand.CHILD.value: "0–17 år",
    AgeBand.YOUNG.value: "18–29 år",
    AgeBand.ADULT.value: "30–49 år",
    AgeBand.MIDDLE.value: "50–64 år",
    AgeBand.ELDERLY.value: "65 år och äldre",
    AgeBand.UNKNOWN.value: "Okänd ålder",
}
_MEASURES = {
    MeasureKind.CONTACT_BAN.value: "Kontaktförbud",
    MeasureKind.SHELTERED_HOUSING.value: "Skyddat boende",
    MeasureKind.SAFETY_ALARM.value: "Trygghetslarm",
    MeasureKind.TRAVEL_BAN.value: "Utreseförbud",
    MeasureKind.SAFETY_PLAN.value: "Säkerhetsplan",
}
_HONOUR = {
    HonourSubtype.FORCED_MARRIAGE.value: "Tvångsäktenskap/äktenskapstvång",
    HonourSubtype.CHILD_MARRIAGE.value: "Barnäktenskap",
    HonourSubtype.MARRIAGE_JOURNEY.value: "Vilseledande till äktenskapsresa",
    HonourSubtype.FGM.value: "Könsstympning",
    HonourSubtype.RESTRICTIONS.value: "Begränsningar/oskuldskontroll",
    HonourSubtype.ABDUCTION.value: "Hot om bortförande/utreseförbud",
}

OVERVIEW_TITLE = "Ärenden i perioden"
OVERVIEW_DESCRIPTION = (
    "Nya ärenden öppnades under perioden. Pågående ärenden var öppna någon gång under perioden "
    "(de nya inräknade)."
)

FRAME_TABLES: tuple[Table, ...] = (
    Table(
        "kontext_nya",
        "Nya ärenden efter kontext och kön",
        "Ett ärende kan ha flera kontexter.",
        NEW,
        "multi",
        _bits("context_mask", ViolenceContext, _CONTEXTS),
    ),
    Table(
        "kontext_pagaende",
        "Pågående ärenden efter kontext och kön",
        "Ett ärende kan ha flera kontexter.",
        ONGOING,
        "multi",
        _bits("context_mask", ViolenceContext, _CONTEXTS),
        contains="kontext_nya",
    ),
    Table(
        "alder",
        "Nya ärenden efter ålder och kön",
        "Ålder när ärendet öppnades.",
        NEW,
        "exclusive",
        tuple(Row(code, label, Measure("equals", "age_band", code)) for code, label in _AGES.items()),
    ),
    Table(
        "vald",
        "Nya ärenden efter våldsform och kön",
        "Ett ärende kan ha flera våldsformer.",
        NEW,
        "multi",
        _bits("form_mask", ViolenceForm, _FORMS),
    ),
    Table(
        "relation",
        "Nya ärenden efter relation till den som utövar våld",
        "Ett ärende kan ha flera utövare.",
        NEW,
        "multi",
        _bits("relation_mask", PerpetratorRelation, _RELATIONS),
    ),
    Table(
        "risk",
        "Riskbedömningar i pågående ärenden",
        "Senaste riskbedömningens nivå; ärenden utan riskbedömning för sig.",
        ONGOING,
        "exclusive",
        (
            Row(RiskLevel.HIGH.value, "Hög risk", Measure("equals", "risk_level", RiskLevel.HIGH.value)),
            Row(
                RiskLevel.MEDIUM.value,
                "Medelhög risk",
                Measure("equals", "risk_level", RiskLevel.MEDIUM.value),
            ),
            Row(RiskLevel.LOW.value, "Låg risk", Measure("equals", "risk_level", RiskLevel.LOW.value)),
            Row("ingen", "Ingen riskbedömning", Measure("equals", "risk_level", "")),
        ),
    ),
    Table(
        "barn",
        "Barn, orosanmälningar och upprepad utsatthet i pågående ärenden",
        "Antal barn räknar barnen i hushållen, inte ärendena.",
        ONGOING,
        "multi",
        (
            Row(
                "barn_i_hushallet",
                "Barn i hushållet",
                Measure.bit("flag_mask", CaseFlag, CaseFlag.CHILDREN_IN_HOUSEHOLD.value),
            ),
            Row(
                "barn_bevittnat",
                "Barn som bevittnat/upplevt våld",
                Measure.bit("flag_mask", CaseFlag, CaseFlag.CHILDREN_WITNESSED.value),
            ),
            Row(
                "orosanmalan",
                "Orosanmälan gjord",
                Measure.bit("flag_mask", CaseFlag, CaseFlag.REPORT_OF_CONCERN.value),
            ),
            Row("upprepad", "Upprepad utsatthet", Measure("true", "repeat_victimisation")),
            Row("antal_barn", "Antal barn i hushållen", Measure("sum", "child_count"), bounded=False),
        ),
    ),
    Table(
        "skyddsinsatser",
        "Skyddsinsatser i pågående ärenden",
        "Ett ärende kan ha flera skyddsinsatser.",
        ONGOING,
        "multi",
        _bits("measure_mask", MeasureKind, _MEASURES),
    ),
)

SPECIAL = OneWay(
    "sarskilda",
    "Särskilt utsatta grupper och hedersrelaterade våldsformer (pågående ärenden)",
    "Totaler utan könsuppdelning. Under 10 visas som <10.",
    SPECIAL_THRESHOLD,
    (
        OneWayRow(
            "kvinnor_funktionsnedsattning",
            "Kvinnor med funktionsnedsättning",
            bounded_by=population_id(ONGOING, "kvinnor"),
            measure=Measure.bit("flag_mask", CaseFlag, CaseFlag.DISABILITY.value),
            gender=LegalGender.WOMAN.value,
        ),
        OneWayRow(
            "hbtqi",
            "HBTQI-personer",
            bounded_by=population_id(ONGOING, TOTAL),
            measure=Measure.bit("flag_mask", CaseFlag, CaseFlag.LGBTQI.value),
        ),
        # An HRV subtype can only be recorded on a case whose context is HRV (the case form and the
        # import both refuse anything else), so a reader knows each subtype is at most the ongoing HRV
        # cases: that row total is the group these totals are counted in, not all ongoing cases.
        *(
            OneWayRow(
                f"heder_{code}",
                label,
                bounded_by=cell_id("kontext_pagaende", ViolenceContext.HONOUR.value, TOTAL),
                measure=Measure.bit("honour_mask", HonourSubtype, code),
            )
            for code, label in _HONOUR.items()
        ),
    ),
)

COLLABORATION = OneWay(
    "samverkan",
    "Samverkan mellan myndigheter",
    "Förfrågningar om samverkan skickade under perioden, efter svar, och åtgärder som passerat sitt "
    "datum utan att vara klara. Totaler utan uppdelning på myndighet.",
    THRESHOLD,
    (
        OneWayRow("forfragningar_accepterade", "Förfrågningar som accepterats"),
        OneWayRow("forfragningar_avvisade", "Förfrågningar som avvisats"),
        OneWayRow("forfragningar_obesvarade", "Förfrågningar som väntar på svar"),
        OneWayRow("atgarder_forsenade", "Försenade åtgärder"),
    ),
)

ONE_WAY_TABLES: tuple[OneWay, ...] = (SPECIAL, COLLABORATION)


def frame_table(key: str) -> Table:
    return next(table for table in FRAME_TABLES if table.key == key)
