"""An integer attacker on a published nulägesbild: everything the linear one knows
(nulagesbild_attacker.py), and what else a reader of the published method and of the case form knows.

Counts are integers, and the symbols are disjunctions, so this is a mixed-integer programme
(``scipy.optimize.milp``), solved for the least and the greatest value of every suppressed cell:

- **The symbols.** "<T" is 1..T-1. A "×" that is not in the breakdown of a small sum (none of the sums it
  is a part of is itself "<T" or "×") was a count that could have been published: 0 or at least T
  (T = 10 for the special totals). Modelled with one binary per such cell: x ≤ M·b, x ≥ T·b. A "×" inside
  a small sum's breakdown is any whole number the sums allow.
- **The form's facts** (cases/records.py, the rules every classification keeps): every case has at least
  one context, so in each gender column the contexts of the new (and of the ongoing) cases add up to at
  least the column's population; "bevittnat" and "orosanmälan" are recorded only with children, so each
  is at most "barn i hushållet"; a household with children has 1 to MAX_CHILDREN of them, so the number
  of children lies between "barn i hushållet" and MAX_CHILDREN times it.

The promise checked is the release's (suppression.py): a "<T" cell keeps T-1 at the top and at most T-3
at the bottom; a "×" cell keeps at least three values (maximum - minimum ≥ 2).

Besides the intervals, ``group_disclosures`` lists what statistics offices call group disclosure in the
published numbers themselves: a count in a table where a case can be in several rows that equals its
whole (published) population of at least T ("all 8 ongoing men have a contact ban"), or leaves a
complement of 1..T-1 ("all but 2").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]

from cases.records import MAX_CHILDREN
from tests.coordination.nulagesbild_attacker import (
    GENDER_COLUMNS,
    TOTAL,
    Interval,
    published_cells,
    relations,
)

SHOWN, BELOW, HIDDEN = "visas", "under", "dold"
SPECIAL_TABLE = "sarskilda"
NEW_CONTEXTS, ONGOING_CONTEXTS = "kontext_nya", "kontext_pagaende"


@dataclass(frozen=True)
class Model:
    unknown: list[str]
    rows: list[dict[str, int]]  # each: {cell id: coefficient}, a constant folded into low/high
    low: list[float]
    high: list[float]
    binaries: dict[str, str]  # × cell -> its "publishable" binary's name


def _thresholds(content: dict[str, Any]) -> dict[str, int]:
    method = content["method"]
    threshold: dict[str, int] = {}
    for table in content["tables"]:
        value = method["special_threshold"] if table["key"] == SPECIAL_TABLE else method["threshold"]
        for row in [*table["rows"], *([table["population"]] if table["population"] else [])]:
            for cell in row["cells"]:
                threshold.setdefault(cell["id"], value)
    return threshold


def _ids(table: dict[str, Any], row: dict[str, Any]) -> dict[str, str]:
    return {column: cell["id"] for column, cell in zip(table["columns"], row["cells"], strict=True)}


def form_facts(content: dict[str, Any]) -> list[tuple[dict[str, int], float, float]]:
    """The case form's rules as linear relations: (terms, low, high) with low ≤ Σ terms ≤ high."""
    tables = {table["key"]: table for table in content["tables"]}
    facts: list[tuple[dict[str, int], float, float]] = []
    for key in (NEW_CONTEXTS, ONGOING_CONTEXTS):
        table = tables[key]
        population = _ids(table, table["population"])
        for column in table["columns"]:
            terms = {_ids(table, row)[column]: 1 for row in table["rows"]}
            terms[population[column]] = terms.get(population[column], 0) - 1
            facts.append((terms, 0, np.inf))
    barn = tables["barn"]
    rows = {row["key"]: _ids(barn, row) for row in barn["rows"]}
    for column in barn["columns"]:
        households = rows["barn_i_hushallet"][column]
        for dependent in ("barn_bevittnat", "orosanmalan"):
            facts.append(({rows[dependent][column]: 1, households: -1}, -np.inf, 0))
        children = rows["antal_barn"][column]
        facts.append(({children: 1, households: -1}, 0, np.inf))
        facts.append(({children: 1, households: -MAX_CHILDREN}, -np.inf, 0))
    return facts


def _small_sum_parts(content: dict[str, Any], cells: dict[str, dict[str, Any]]) -> set[str]:
    """The cells that are a part of some sum that is not published as a number: they may be the
    breakdown of a small sum, so a "×" there says nothing beyond "a whole number"."""
    equations, inequalities = relations(content)
    parts: set[str] = set()

    threshold = _thresholds(content)

    def unpublished(cell_id: str) -> bool:
        return bool(cells[cell_id]["status"] != SHOWN)

    def small_for(part: str, whole: str) -> bool:
        # Not published as a number, or published but below the part's threshold (a special total
        # is hidden when its population is under 10).
        return unpublished(whole) or bool(cells[whole]["value"] < threshold[part])

    for members, total in equations:
        parts.update(member for member in members if small_for(member, total))
    for smaller, larger in inequalities:
        if small_for(smaller, larger):
            parts.add(smaller)
    # The number of children is not shown for fewer than T households (the method's rule): a "×" there
    # may be any number when the households are not published as at least T.
    barn = next(table for table in content["tables"] if table["key"] == "barn")
    barn_rows = {row["key"]: _ids(barn, row) for row in barn["rows"]}
    for column in barn["columns"]:
        households = barn_rows["barn_i_hushallet"][column]
        if unpublished(households) or cells[households]["value"] < threshold[households]:
            parts.add(barn_rows["antal_barn"][column])
    # A whole frame of 1..4 cases hides every table of the frame: the overview's cells are the sums.
    for table in content["tables"]:
        if table["population"]:
            population = _ids(table, table["population"])
            for row in table["rows"]:
                for column, cell_id in _ids(table, row).items():
                    if unpublished(population[column]) or unpublished(population[TOTAL]):
                        parts.add(cell_id)
    return parts


def build_model(content: dict[str, Any], *, disjunctions: bool = True, facts: bool = True) -> Model:
    cells = published_cells(content)
    unknown = sorted(cell_id for cell_id, cell in cells.items() if cell["status"] != SHOWN)
    rows: list[dict[str, int]] = []
    low: list[float] = []
    high: list[float] = []

    def add(terms: dict[str, int], lo: float, hi: float) -> None:
        row: dict[str, int] = {}
        constant = 0.0
        for cell_id, coefficient in terms.items():
            if cells[cell_id]["status"] == SHOWN:
                constant += coefficient * cells[cell_id]["value"]
            elif coefficient:
                row[cell_id] = row.get(cell_id, 0) + coefficient
        if not row:
            assert lo - 1e-6 <= constant <= hi + 1e-6, f"published numbers contradict {terms}"
            return
        rows.append(row)
        low.append(lo - constant)
        high.append(hi - constant)

    equations, inequalities = relations(content)
    for members, total in equations:
        add({**{member: 1 for member in members}, total: -1}, 0, 0)
    for smaller, larger in inequalities:
        add({smaller: 1, larger: -1}, -np.inf, 0)
    if facts:
        for terms, lo, hi in form_facts(content):
            add(terms, lo, hi)
    binaries: dict[str, str] = {}
    if disjunctions:
        small_parts = _small_sum_parts(content, cells)
        for cell_id in unknown:
            if cells[cell_id]["status"] == HIDDEN and cell_id not in small_parts:
                binaries[cell_id] = f"publishable:{cell_id}"
    return Model(unknown, rows, low, high, binaries)


def _big_m(content: dict[str, Any]) -> float:
    cells = published_cells(content)
    largest = max((cell["value"] or 0) for cell in cells.values() if cell["status"] == SHOWN)
    # No count exceeds the number of children in the largest population (each case: at most 20).
    return float(max(largest, 1) * (MAX_CHILDREN + 1) + 100)


@dataclass(frozen=True)
class Programme:
    cells: dict[str, dict[str, Any]]
    unknown: list[str]
    names: list[str]
    constraints: Any
    bounds: Any

    def solve(self, objective: np.ndarray) -> Any:
        result = milp(
            objective,
            constraints=self.constraints,
            bounds=self.bounds,
            integrality=np.ones(len(self.names)),
            options={"presolve": True},
        )
        assert result.status == 0, f"the attacker's MILP failed: {result.message}"
        return result

    def extreme(self, cell_id: str, sign: int) -> tuple[float, dict[str, float]]:
        """The greatest (sign +1) or least (-1) value of the cell, and the data that has it."""
        objective = np.zeros(len(self.names))
        objective[self.names.index(cell_id)] = -sign
        result = self.solve(objective)
        return -sign * result.fun, self.point(result.x)

    def point(self, values: np.ndarray) -> dict[str, float]:
        return {
            name: float(value) for name, value in zip(self.names, values, strict=True) if name in self.cells
        }


def programme(content: dict[str, Any], *, disjunctions: bool = True, facts: bool = True) -> Programme:
    cells = published_cells(content)
    model = build_model(content, disjunctions=disjunctions, facts=facts)
    names = [*model.unknown, *model.binaries.values()]
    index = {name: position for position, name in enumerate(names)}
    threshold = _thresholds(content)
    big = _big_m(content)
    matrix: list[np.ndarray] = []
    low: list[float] = []
    high: list[float] = []
    for row, lo, hi in zip(model.rows, model.low, model.high, strict=True):
        vector = np.zeros(len(names))
        for cell_id, coefficient in row.items():
            vector[index[cell_id]] = coefficient
        matrix.append(vector)
        low.append(lo)
        high.append(hi)
    for cell_id, binary in model.binaries.items():
        # x ≤ M·b and x ≥ T·b: either 0, or at least T.
        upper = np.zeros(len(names))
        upper[index[cell_id]], upper[index[binary]] = 1, -big
        matrix.append(upper)
        low.append(-np.inf)
        high.append(0)
        lower = np.zeros(len(names))
        lower[index[cell_id]], lower[index[binary]] = 1, -threshold[cell_id]
        matrix.append(lower)
        low.append(0)
        high.append(np.inf)
    lower_bounds = []
    upper_bounds = []
    for name in names:
        if name in cells:
            cell = cells[name]
            lower_bounds.append(1 if cell["status"] == BELOW else 0)
            upper_bounds.append(cell["upper"] if cell["status"] == BELOW else big)
        else:
            lower_bounds.append(0)
            upper_bounds.append(1)
    constraints = LinearConstraint(np.array(matrix), np.array(low), np.array(high)) if matrix else None
    bounds = Bounds(np.array(lower_bounds, dtype=float), np.array(upper_bounds, dtype=float))
    return Programme(cells, model.unknown, names, constraints, bounds)


def integer_attack(
    content: dict[str, Any], *, disjunctions: bool = True, facts: bool = True
) -> list[Interval]:
    """The least and the greatest value of every suppressed cell, over whole numbers."""
    attacker = programme(content, disjunctions=disjunctions, facts=facts)
    intervals = []
    for cell_id in attacker.unknown:
        high, _point = attacker.extreme(cell_id, +1)
        low, _point = attacker.extreme(cell_id, -1)
        cell = attacker.cells[cell_id]
        intervals.append(Interval(cell_id, cell["status"], cell.get("upper"), low, high))
    return intervals


def narrowed(content: dict[str, Any]) -> list[Interval]:
    """The same verdict as ``integer_attack`` (the cells it narrows, with their exact intervals), in a
    fraction of its programmes: every solution is data the reader cannot rule out, so it shows a
    possible value of every cell at once; a cell whose possible values already make it wide needs no
    programme of its own. Two first solutions push all suppressed cells up, and all down."""
    attacker = programme(content)
    if not attacker.unknown:
        return []
    seen: dict[str, list[float]] = {cell_id: [] for cell_id in attacker.unknown}

    def keep(point: dict[str, float]) -> None:
        for cell_id in attacker.unknown:
            seen[cell_id].append(point[cell_id])

    for sign in (+1, -1):
        objective = np.array([-float(sign) if name in attacker.cells else 0.0 for name in attacker.names])
        keep(attacker.point(attacker.solve(objective).x))
    found = []
    for cell_id in attacker.unknown:
        cell = attacker.cells[cell_id]

        def interval(
            low: float, high: float, cell: dict[str, Any] = cell, cell_id: str = cell_id
        ) -> Interval:
            return Interval(cell_id, cell["status"], cell.get("upper"), low, high)

        if interval(min(seen[cell_id]), max(seen[cell_id])).is_wide:
            continue
        high, point = attacker.extreme(cell_id, +1)
        keep(point)
        if interval(min(seen[cell_id]), high).is_wide:
            continue
        low, point = attacker.extreme(cell_id, -1)
        keep(point)
        if not interval(low, high).is_wide:
            found.append(interval(low, high))
    return found


def group_disclosures(content: dict[str, Any]) -> list[str]:
    """Published cells that tell something about every member of a group: a count equal to its whole
    population (at least T), or one that leaves 1..T-1 of the population out."""
    cells = published_cells(content)
    threshold = _thresholds(content)
    found = []
    for table in content["tables"]:
        if table["kind"] != "multi" or not table["population"]:
            continue
        population = _ids(table, table["population"])
        for row in table["rows"]:
            if not row["bounded"]:
                continue
            for column in GENDER_COLUMNS:
                cell_id, whole_id = _ids(table, row)[column], population[column]
                cell, whole = cells[cell_id], cells[whole_id]
                if cell["status"] != SHOWN or whole["status"] != SHOWN:
                    continue
                rest = whole["value"] - cell["value"]
                if cell["value"] >= threshold[cell_id] and 0 <= rest < threshold[cell_id]:
                    found.append(f"{cell_id}: {cell['value']} of {whole['value']}")
    return found


def measure(seeds: range, *, integer: bool = True) -> dict[str, int]:
    """The attacker against the releases of the attacker test's datasets: what it narrows and pins.
    ``integer=False``: against releases made without the integer audit (integer_audit.py)."""
    from coordination.nulagesbild.content import build_content
    from tests.coordination.nulagesbild_data import records_for, reference_counts
    from tests.coordination.test_nulagesbild_attacker import period_for

    totals = {"datasets": 0, "suppressed": 0, "narrowed": 0, "pinned": 0, "pinned_above_0": 0}
    totals |= {"datasets_with_narrowed": 0, "group_disclosures": 0}
    for seed in seeds:
        period = period_for(seed)
        counts = reference_counts(records_for(seed), period)
        content = build_content(counts, period, integer=integer)
        found = narrowed(content)
        totals["datasets"] += 1
        totals["suppressed"] += sum(
            1 for cell in published_cells(content).values() if cell["status"] != SHOWN
        )
        totals["narrowed"] += len(found)
        totals["pinned"] += sum(interval.is_pinned for interval in found)
        totals["pinned_above_0"] += sum(interval.is_pinned and interval.low > 0 for interval in found)
        totals["datasets_with_narrowed"] += bool(found)
        totals["group_disclosures"] += len(group_disclosures(content))
    return totals


if __name__ == "__main__":
    # SKYDDSNAT_DEBUG=true .venv/bin/python -m tests.coordination.nulagesbild_integer_attacker 0 300
    # (add --without-integer-audit for the releases the linear certificate alone would publish)
    import os
    import sys
    import time

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    django.setup()
    first, last = (int(argument) for argument in sys.argv[1:3])
    started = time.perf_counter()
    figures = measure(range(first, last), integer="--without-integer-audit" not in sys.argv)
    elapsed = time.perf_counter() - started
    line = ", ".join(f"{name} {value}" for name, value in figures.items()) + f"; {elapsed:.1f} s"
    print(line)  # noqa: T201 - the measurement's output
