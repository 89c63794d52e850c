"""The database thief (issue 13): with a copy of the database and no keys, link no special-category flag to
a case better than a guess.

The world: cases opened through the real actions, some of them for a woman with a disability, an HBTQI
person or honour-related violence (with the instrument and the measure such cases get: PATRIARK, a
travel ban), then changed many times in random order. The thief reads every table of the main database
(the key store is elsewhere) in its physical order, as a dump holds it, and tries what worked before:

- **markers**: a plaintext value that names the category by itself, on a row that leads to a case (a
  case id, a reference in the audit trail, an auditlog entry about a case's row);
- **rows and order**: a table with one row per case and no case column, joined to the cases by its
  place in the table, read for its masks;
- **lengths**: the lengths of every ciphertext of the case and its person, with the best rule any length
  pattern allows (an upper bound: the thief is even told which pattern means what).

Each must do no better than a guess: no case from the first two, and from the lengths exactly the
accuracy of always guessing the commonest answer. Runs on SQLite and, in the PostgreSQL suite, there.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.db import connection

from access.models import Membership
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_change_status,
    do_update_classification,
)
from cases.choices import STATUS_TRANSITIONS, CaseFlag, ViolenceContext
from cases.models import Case, ProtectiveMeasure, RiskAssessment
from cases.records import Classification
from tests.factories import open_case

pytestmark = pytest.mark.django_db

CASES = 36
CHURN = 110
FLAGS = ("funktionsnedsattning", "hbtqi", "hrv")
# Plaintext that names one of the categories by itself.
MARKERS = {
    "funktionsnedsattning": ("funktionsnedsattning",),
    "hbtqi": ("hbtqi",),
    "hrv": ("hrv", "patriark", "utreseforbud", "tvangsaktenskap", "konsstympning", "bortforande"),
}


def _classification(rng: random.Random, flags: set[str]) -> Classification:
    hrv = "hrv" in flags
    return Classification(
        contexts=["hrv"] if hrv else rng.choice([["vinr_partner"], ["vinr_narstaende"], ["vinr_partner"]]),
        forms=rng.sample(["fysiskt", "psykiskt", "sexuellt", "ekonomiskt"], rng.randint(1, 3)),
        honour_subtypes=rng.sample(["tvangsaktenskap", "begransningar", "bortforande"], rng.randint(1, 2))
        if hrv
        else [],
        relations=[rng.choice(["partner", "ex_partner"])],
        flags=sorted(flag for flag in flags if flag in CaseFlag.values),
    )


def build_world(membership: Membership, seed: int) -> dict[uuid.UUID, set[str]]:
    """The cases and, for the test's eyes only, each one's true categories."""
    rng = random.Random(seed)  # noqa: S311 - test data
    kwargs = {"acting_user": membership.user, "membership": membership}
    truth: dict[uuid.UUID, set[str]] = {}
    cases: list[Case] = []
    for index in range(CASES):
        flags = {flag for flag, rate in zip(FLAGS, (0.3, 0.25, 0.3), strict=True) if rng.random() < rate}
        case = open_case(
            membership,
            name=rng.choice(["Åsa Öberg", "Li Wang", "Maria Fernández Lindqvist", "Nour"]),
            identity_number=f"19{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}{index:04d}",
            legal_gender=rng.choice(["kvinna", "kvinna", "man", "annat"]),
            birth_year=rng.choice([None, 1950, 1981, 2004]),
            classification=_classification(rng, flags),
        )
        truth[case.pk] = flags
        cases.append(case)
    for _step in range(CHURN):
        case = Case.objects.get(pk=rng.choice(cases).pk)
        flags = truth[case.pk]
        hrv = "hrv" in flags
        action = rng.choice(["classification", "risk", "measure", "incident", "status"])
        if action == "classification":
            do_update_classification(case, classification=_classification(rng, flags), **kwargs)
        elif action == "risk":
            assessment = RiskAssessment.new(
                instrument="patriark" if hrv else rng.choice(["freda", "sara_sv", "check10"]),
                instrument_version=rng.choice(["", "2", "3:e upplagan"]),
                level=rng.choice(["lag", "medel", "hog"]),
                override_level="hog" if hrv and rng.random() < 0.5 else "",
                assessed_on=datetime.date(2026, rng.randint(1, 11), rng.randint(1, 28)),
            )
            reason = "Hot om våld vid resa." if assessment.override_level else ""
            do_add_risk_assessment(
                case, assessment=assessment, override_reason=reason, notes="Bedömning gjord.", **kwargs
            )
        elif action == "measure":
            measure = ProtectiveMeasure.new(
                kind="utreseforbud"
                if hrv and rng.random() < 0.7
                else rng.choice(["kontaktforbud", "trygghetslarm"]),
                starts_on=datetime.date(2026, rng.randint(1, 11), 1),
                responsible_agency=membership.agency,
            )
            do_add_protective_measure(case, measure=measure, **kwargs)
        elif action == "incident":
            day = datetime.date(2026, rng.randint(1, 11), rng.randint(1, 28))
            do_add_incident(case, occurred_on=day, forms=["fysiskt"], **kwargs)
        else:
            new_status = rng.choice(sorted(STATUS_TRANSITIONS[case.status]))
            do_change_status(case, new_status=new_status, on=datetime.date(2026, 11, 30), **kwargs)
    return truth


# --- The thief's side: only what a dump holds -------------------------------------------------------


def dump() -> dict[str, list[dict[str, Any]]]:
    """Every table of the main database, each in its physical order (no ORDER BY)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - every table
            names = [column[0] for column in cursor.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return tables


def _id(value: Any) -> str:
    """A case id as the test spells it, whichever way the database stores it (SQLite: 32 hex digits)."""
    return str(uuid.UUID(str(value)))


def _text_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False)]
    return []


def attack_markers(tables: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """Case ids (as text) per category, from plaintext markers on rows that lead to a case."""
    cases = {str(row["id"]).replace("-", ""): _id(row["id"]) for row in tables["cases_case"]}
    by_reference = {row["reference"]: _id(row["id"]) for row in tables["cases_case"]}
    owner_of_row: dict[str, str] = {}
    for rows in tables.values():
        for row in rows:
            if "case_id" in row and "id" in row and row["case_id"] is not None:
                owner_of_row[str(row["id"]).replace("-", "")] = _id(row["case_id"])

    def case_of(table: str, row: dict[str, Any]) -> str | None:
        if table == "cases_case":
            return _id(row["id"])
        if row.get("case_id") is not None:
            return _id(row["case_id"])
        if row.get("object_reference") in by_reference:
            return by_reference[row["object_reference"]]
        key = str(row.get("object_pk", "")).replace("-", "")
        return cases.get(key) or owner_of_row.get(key)

    learned: dict[str, set[str]] = defaultdict(set)
    for table, rows in tables.items():
        for row in rows:
            case = case_of(table, row)
            if case is None:
                continue
            text = " ".join(item for value in row.values() for item in _text_values(value))
            for category, markers in MARKERS.items():
                if any(marker in text for marker in markers):
                    learned[category].add(case)
    return learned


def attack_row_order(tables: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """A table with a row per case and no case column, joined to the cases by position."""
    cases = [_id(row["id"]) for row in tables["cases_case"]]
    learned: dict[str, set[str]] = defaultdict(set)
    bits = {
        "funktionsnedsattning": ("flag_mask", 1 << list(CaseFlag.values).index("funktionsnedsattning")),
        "hbtqi": ("flag_mask", 1 << list(CaseFlag.values).index("hbtqi")),
        "hrv": ("context_mask", 1 << list(ViolenceContext.values).index("hrv")),
    }
    for rows in tables.values():
        if len(rows) != len(cases) or not rows or "case_id" in rows[0] or "id" in rows[0]:
            continue
        for case, row in zip(cases, rows, strict=True):
            for category, (column, bit) in bits.items():
                if isinstance(row.get(column), int) and row[column] & bit:
                    learned[category].add(case)
    return learned


def length_pattern(tables: dict[str, list[dict[str, Any]]]) -> dict[str, tuple[int, ...]]:
    """Per case: the lengths of every ciphertext of its case row and its person row."""
    people = {_id(row["case_id"]): row for row in tables["cases_person"]}
    pattern = {}
    for row in tables["cases_case"]:
        person = people[_id(row["id"])]
        sealed = [value for name, value in sorted({**row, **person}.items()) if name.endswith("_sealed")]
        pattern[_id(row["id"])] = tuple(len(bytes(value)) for value in sealed)
    return pattern


def risk_lengths(tables: dict[str, list[dict[str, Any]]]) -> set[tuple[int, ...]]:
    """The ciphertext lengths of each risk assessment row other than its free-text notes."""
    return {
        tuple(
            len(bytes(value))
            for name, value in sorted(row.items())
            if name.endswith("_sealed") and name != "notes_sealed"
        )
        for row in tables["cases_riskassessment"]
    }


def best_accuracy(pattern: dict[str, tuple[int, ...]], flagged: set[str]) -> float:
    """The best any rule on the length pattern can do (the commonest answer within each pattern)."""
    by_pattern: dict[tuple[int, ...], Counter[bool]] = defaultdict(Counter)
    for case, lengths in pattern.items():
        by_pattern[lengths][case in flagged] += 1
    return sum(max(counts.values()) for counts in by_pattern.values()) / len(pattern)


# --- The test ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [3, 11])
def test_a_dump_links_no_category_to_a_case_better_than_a_guess(
    handlaggare_membership: Membership, seed: int
) -> None:
    truth = build_world(handlaggare_membership, seed)
    actual = {
        category: {str(case) for case, flags in truth.items() if category in flags} for category in FLAGS
    }
    assert all(actual.values()), "the world must hold every category"
    tables = dump()

    markers = attack_markers(tables)
    linked = {category: markers[category] & actual[category] for category in FLAGS}
    assert linked == {category: set() for category in FLAGS}, "plaintext named a category beside a case"

    by_order = attack_row_order(tables)
    linked = {category: by_order[category] & actual[category] for category in FLAGS}
    assert linked == {category: set() for category in FLAGS}, "rows joined by order gave categories away"

    # Overridden or not, PATRIARK or FREDA: every assessment's sealed values have one length pattern.
    assert len(risk_lengths(tables)) == 1, "risk assessment ciphertext lengths differ"

    pattern = length_pattern(tables)
    for category in FLAGS:
        guess = max(len(actual[category]), CASES - len(actual[category])) / CASES
        assert best_accuracy(pattern, actual[category]) == guess, f"ciphertext lengths tell {category}"


def test_the_statistics_tables_hold_no_row_per_case(handlaggare_membership: Membership) -> None:
    build_world(handlaggare_membership, 5)
    rows = dump()["cases_statisticsblock"]
    # One block per half-year the cases were opened in, nothing per case, nothing in plaintext but the period.
    assert len(rows) < CASES
    assert {name for row in rows for name in row} == {"period", "records_sealed"}
