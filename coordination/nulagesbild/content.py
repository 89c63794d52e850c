"""A nulägesbild's published content: the tables as they may be shown, the method, the footnotes.

``build_content`` turns true counts into the content of a draft or a release, a plain JSON document.
It is the only thing a release stores and the only thing the HTML, PDF and CSV are made from, so what
it does not hold no output can show: a suppressed cell carries its symbol and nothing of its value.
Its canonical form (sorted keys, no spaces, UTF-8) is what the SHA-256 covers.

Nothing in it is finer than the period: no date, no case, no agency, no person (not even the chef who
releases it; the release row keeps who and when, outside the content).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from cases.records import MAX_CHILDREN
from coordination.nulagesbild.integer_audit import certify
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.suppression import (
    BELOW,
    FRAME_TOTAL,
    POPULATION,
    ROW_TOTAL,
    SHOWN,
    TABLE_CELL,
    Cell,
    Equation,
    Fact,
    Inequality,
    Problem,
    protect,
)
from coordination.nulagesbild.tables import (
    COLUMN_LABELS,
    COLUMNS,
    FRAME_LABELS,
    FRAME_TABLES,
    FRAMES,
    GENDERS,
    NEW,
    ONE_WAY_TABLES,
    ONGOING,
    OVERVIEW,
    OVERVIEW_DESCRIPTION,
    OVERVIEW_TITLE,
    PERCENT_MIN_DENOMINATOR,
    SPECIAL,
    SPECIAL_THRESHOLD,
    THRESHOLD,
    TOTAL,
    cell_id,
    population_id,
)

# Version 2 publishes no reason per cell and no count per reason (version 1 did, and with the hash of
# the content a reader could recover each hidden cell's reason).
FORMAT = "skyddsnat-nulagesbild/2"
TITLE = "Nulägesbild: våld i nära relation och hedersrelaterat våld och förtryck"
AREA = "Kommunen, samtliga myndigheter i Skyddsnät"
HIDDEN_SYMBOL = "×"

GENDER_COLUMNS = tuple(key for key, _gender, _label in GENDERS)

FOOTNOTES = (
    "Juridiskt kön. Statistiken är uppdelad på juridiskt kön: kvinnor, män och övriga/uppgift saknas "
    "(annat juridiskt kön och ärenden där uppgiften saknas, sammanslagna så att ingen grupp blir för "
    "liten). Juridiskt kön säger inte hur en person identifierar sig.",
    "Normkritisk läsning. Siffrorna visar vilka som har fått kontakt med och stöd från myndigheterna, "
    "inte hur våldet är fördelat i befolkningen. Att vissa grupper – män, HBTQI-personer, äldre, "
    "personer med funktionsnedsättning – är få kan bero på att våld mot dem inte upptäcks, inte "
    "känns igen eller inte anmäls, och på att stödet inte är utformat för dem. Skillnader mellan "
    "könen ska därför läsas som en fråga om vem som syns och varför, inte som ett mått på vem som "
    "utsätts.",
    "Perioder. Nya ärenden öppnades under perioden; pågående ärenden var öppna någon gång under "
    "perioden (de nya inräknade). Inga uppgifter anges finare än perioden, och inget ärende, ingen "
    "person och ingen myndighet pekas ut.",
)


def method_rules(secondary: bool) -> list[str]:
    rules = [
        f"Antal 1–{THRESHOLD - 1} visas som <{THRESHOLD}.",
        f"Totaler för särskilt utsatta grupper och hedersrelaterade våldsformer som är 1–"
        f"{SPECIAL_THRESHOLD - 1} visas som <{SPECIAL_THRESHOLD}; de visas inte alls (×) om gruppen de "
        f"räknas i har färre än {SPECIAL_THRESHOLD} ärenden.",
        f"När en summa är under {THRESHOLD} fördelas den inte: alla celler i dess fördelning visas som "
        f"{HIDDEN_SYMBOL}, också nollor.",
        "När alla i en könsgrupp hamnar i samma kategori av en tabell med uteslutande kategorier "
        f"visas kolumnen som {HIDDEN_SYMBOL}, eftersom nollorna annars skulle avslöja allas kategori. "
        "Andra nollor visas.",
        f"När ett antal i en tabell där ett ärende kan finnas på flera rader är hela gruppen eller alla "
        f"utom 1–{THRESHOLD - 1} i den (och minst {THRESHOLD}) visas det som {HIDDEN_SYMBOL}: annars "
        "skulle det säga något om var och en i gruppen.",
        f"Antal barn i hushållen visas som {HIDDEN_SYMBOL} när färre än {THRESHOLD} hushåll har barn.",
        f"Andelar (%) visas bara när nämnaren är minst {PERCENT_MIN_DENOMINATOR} och både täljare och "
        "nämnare visas.",
    ]
    if secondary:
        rules.append(
            f"Sekundär röjandekontroll: fler celler visas som {HIDDEN_SYMBOL} tills ingen dold eller "
            "undertryckt uppgift kan räknas fram ur summor, ur andra tabeller med samma population eller "
            "ur att nya ärenden ingår bland de pågående; varje sådan uppgift kan fortfarande ha minst "
            "tre olika värden."
        )
        rules.append(
            "Varje publicering granskas sist som ett heltalsproblem av allt som visas, reglerna ovan och "
            "ärendeformulärets regler (varje ärende har ett sammanhang, bevittnat våld och orosanmälan "
            f"förutsätter barn, högst {MAX_CHILDREN} barn per hushåll); fler celler döljs tills ingen "
            "uppgift kan räknas fram snävare än så."
        )
    return rules


SYMBOLS = {
    f"<{THRESHOLD}": f"1–{THRESHOLD - 1}",
    f"<{SPECIAL_THRESHOLD}": f"1–{SPECIAL_THRESHOLD - 1}",
    HIDDEN_SYMBOL: "visas inte för att skydda en liten grupp eller andra uppgifter (kan vara 0)",
}


class UnprotectedReleaseError(Exception):
    """Disclosure control could not protect every suppressed cell; nothing may be published."""


def _frame_table_keys(frame: str) -> list[str]:
    return [table.key for table in FRAME_TABLES if table.frame == frame]


def build_problem(counts: dict[str, int]) -> Problem:
    """The release's cells and everything a reader knows about how they relate."""
    cells: dict[str, Cell] = {}

    def add(identifier: str, threshold: int = THRESHOLD, tier: int = TABLE_CELL) -> None:
        cells[identifier] = Cell(identifier, int(counts.get(identifier, 0)), threshold, tier)

    equations: list[Equation] = []
    inequalities: list[Inequality] = []
    breakdowns: list[tuple[str, tuple[str, ...]]] = []
    exclusive_lines: list[Equation] = []
    small_populations: list[tuple[str, str, int]] = []

    def row_equation(table_key: str, row_key: str) -> None:
        parts = tuple(cell_id(table_key, row_key, column) for column in GENDER_COLUMNS)
        total = cell_id(table_key, row_key, TOTAL)
        equations.append(Equation(parts, total))
        breakdowns.append((total, parts))

    for frame in FRAMES:
        for column in COLUMNS:
            add(population_id(frame, column), tier=FRAME_TOTAL if column == TOTAL else POPULATION)
        row_equation(OVERVIEW, frame)
    for column in COLUMNS:
        inequalities.append(Inequality(population_id(NEW, column), population_id(ONGOING, column)))
    for table in FRAME_TABLES:
        for row in table.rows:
            for column in COLUMNS:
                cheap = table.kind == "multi" and column == TOTAL
                add(cell_id(table.key, row.key, column), tier=ROW_TOTAL if cheap else TABLE_CELL)
            row_equation(table.key, row.key)
        for column in COLUMNS:
            population = population_id(table.frame, column)
            column_cells = tuple(cell_id(table.key, row.key, column) for row in table.rows)
            if table.kind == "exclusive":
                line = Equation(column_cells, population)
                equations.append(line)
                exclusive_lines.append(line)
            else:
                for row in table.rows:
                    if row.bounded:
                        inequalities.append(Inequality(cell_id(table.key, row.key, column), population))
            if table.contains:
                for row in table.rows:
                    inequalities.append(
                        Inequality(
                            cell_id(table.contains, row.key, column), cell_id(table.key, row.key, column)
                        )
                    )
    for frame in FRAMES:
        for column in COLUMNS:
            breakdown = tuple(
                cell_id(table.key, row.key, column)
                for table in FRAME_TABLES
                if table.frame == frame
                for row in table.rows
            )
            breakdowns.append((population_id(frame, column), breakdown))
    group_shares: list[tuple[str, str]] = []
    for table in FRAME_TABLES:
        if table.kind == "multi":
            for row in table.rows:
                if row.bounded:
                    for column in COLUMNS:
                        group_shares.append(
                            (cell_id(table.key, row.key, column), population_id(table.frame, column))
                        )
    facts = _form_facts(inequalities, breakdowns)
    for one_way in ONE_WAY_TABLES:
        for one_way_row in one_way.rows:
            identifier = cell_id(one_way.key, one_way_row.key, TOTAL)
            add(identifier, threshold=one_way.threshold)
            if one_way_row.bounded_by:
                inequalities.append(Inequality(identifier, one_way_row.bounded_by))
                if one_way is SPECIAL:
                    # "<10" of a population of 7 would say more than "<10".
                    small_populations.append((identifier, one_way_row.bounded_by, SPECIAL_THRESHOLD))
    return Problem(
        cells, equations, inequalities, breakdowns, exclusive_lines, small_populations, group_shares, facts
    )


def _form_facts(inequalities: list[Inequality], breakdowns: list[tuple[str, tuple[str, ...]]]) -> list[Fact]:
    """What the case form's rules (cases/records.py) tell a reader about the cells. The simple ones are
    inequalities every step uses (a witnessed child or a report of concern needs children in the
    household; a household with children has at least one); the others only the integer audit can
    use: every case has at least one context, a household has at most MAX_CHILDREN children. The number
    of children is a sum over the households: it is not broken down to fewer than THRESHOLD of them."""
    facts: list[Fact] = []
    for key in ("kontext_nya", "kontext_pagaende"):
        table = next(table for table in FRAME_TABLES if table.key == key)
        for column in COLUMNS:
            terms = [(cell_id(key, row.key, column), 1) for row in table.rows]
            facts.append(Fact((*terms, (population_id(table.frame, column), -1)), 0, math.inf))
    for column in COLUMNS:
        households = cell_id("barn", "barn_i_hushallet", column)
        for dependent in ("barn_bevittnat", "orosanmalan"):
            inequalities.append(Inequality(cell_id("barn", dependent, column), households))
        children = cell_id("barn", "antal_barn", column)
        inequalities.append(Inequality(households, children))
        facts.append(Fact(((children, 1), (households, -MAX_CHILDREN)), -math.inf, 0))
        breakdowns.append((households, (children,)))
    return facts


def _number(value: int) -> str:
    """Swedish digit grouping with a plain space: 12 345."""
    return f"{value:,}".replace(",", " ")


def _percent(numerator: Cell, denominator: Cell) -> int | None:
    if numerator.status != SHOWN or denominator.status != SHOWN:
        return None
    if denominator.value < PERCENT_MIN_DENOMINATOR:
        return None
    # Rounded half up, in integers: both counts are published, so the share tells nothing more.
    return (200 * numerator.value + denominator.value) // (2 * denominator.value)


def _published(cell: Cell, share_of: Cell | None = None) -> dict[str, Any]:
    published: dict[str, Any] = {"id": cell.id, "status": cell.status}
    if cell.status == SHOWN:
        published.update(display=_number(cell.value), value=cell.value, upper=None)
    elif cell.status == BELOW:
        published.update(display=f"<{cell.threshold}", value=None, upper=cell.threshold - 1)
    else:
        published.update(display=HIDDEN_SYMBOL, value=None, upper=None)
    published["percent"] = _percent(cell, share_of) if share_of is not None else None
    return published


def _tables(cells: dict[str, Cell]) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = [
        {
            "key": OVERVIEW,
            "title": OVERVIEW_TITLE,
            "description": OVERVIEW_DESCRIPTION,
            "kind": "overview",
            "frame": None,
            "contains": None,
            "columns": list(COLUMNS),
            "rows": [
                {
                    "key": frame,
                    "label": FRAME_LABELS[frame],
                    "bounded": True,
                    "cells": [
                        _published(
                            cells[population_id(frame, column)],
                            None if column == TOTAL else cells[population_id(frame, TOTAL)],
                        )
                        for column in COLUMNS
                    ],
                }
                for frame in FRAMES
            ],
            "population": None,
        }
    ]
    for table in FRAME_TABLES:
        tables.append(
            {
                "key": table.key,
                "title": table.title,
                "description": table.description,
                "kind": table.kind,
                "frame": table.frame,
                "contains": table.contains,
                "columns": list(COLUMNS),
                "rows": [
                    {
                        "key": row.key,
                        "label": row.label,
                        "bounded": row.bounded,
                        "cells": [
                            _published(
                                cells[cell_id(table.key, row.key, column)],
                                cells[population_id(table.frame, column)] if row.bounded else None,
                            )
                            for column in COLUMNS
                        ],
                    }
                    for row in table.rows
                ],
                "population": {
                    "label": f"Samtliga {FRAME_LABELS[table.frame].lower()}",
                    "cells": [_published(cells[population_id(table.frame, column)]) for column in COLUMNS],
                },
            }
        )
    for one_way in ONE_WAY_TABLES:
        tables.append(
            {
                "key": one_way.key,
                "title": one_way.title,
                "description": one_way.description,
                "kind": "oneway",
                "frame": ONGOING if one_way is SPECIAL else None,
                "contains": None,
                "columns": [TOTAL],
                "rows": [
                    {
                        "key": row.key,
                        "label": row.label,
                        "bounded": row.bounded_by is not None,
                        "bounded_by": row.bounded_by,
                        "cells": [
                            _published(
                                cells[cell_id(one_way.key, row.key, TOTAL)],
                                cells[row.bounded_by] if row.bounded_by else None,
                            )
                        ],
                    }
                    for row in one_way.rows
                ],
                "population": None,
            }
        )
    return tables


def build_content(
    counts: dict[str, int], period: Period, *, secondary: bool = True, integer: bool = True
) -> dict[str, Any]:
    """The publishable content for ``period`` from its true ``counts`` (aggregate.py). ``integer=False``
    leaves out the integer audit (integer_audit.py), for the tests that show what it adds."""
    problem = build_problem(counts)
    outcome = protect(problem, secondary=secondary, gate=certify if integer else None)
    if secondary and outcome.unprotected:
        raise UnprotectedReleaseError(
            f"{len(outcome.unprotected)} suppressed cells could not be protected; nothing is published."
        )
    cells = outcome.cells
    return {
        "format": FORMAT,
        "title": TITLE,
        "area": AREA,
        "period": period.to_json(),
        "column_labels": {column: COLUMN_LABELS[column] for column in COLUMNS},
        "tables": _tables(cells),
        "footnotes": list(FOOTNOTES),
        "method": {
            "threshold": THRESHOLD,
            "special_threshold": SPECIAL_THRESHOLD,
            "percent_min_denominator": PERCENT_MIN_DENOMINATOR,
            "secondary_suppression": secondary,
            "rules": method_rules(secondary),
            "symbols": SYMBOLS,
            # How many cells are shown and how many not, and nothing about why: a count per reason
            # tells a reader which kind of "×" a cell is, and so narrows it (issue 14).
            "cells": {
                "total": len(cells),
                "shown": sum(1 for cell in cells.values() if cell.status == SHOWN),
                "suppressed": sum(1 for cell in cells.values() if cell.is_suppressed),
            },
        },
    }


def suppression_summary(cells: dict[str, int]) -> str:
    """The one line every output prints about suppression. A release of format 1 still holds counts per
    reason; only their total is shown."""
    hidden = cells["total"] - cells["shown"]
    return (
        f"Av {cells['total']} celler visas {cells['shown']}; {hidden} visas inte "
        "(små antal och celler som skyddar dem)."
    )


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
