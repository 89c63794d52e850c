"""A linear-programming attacker on a published nulägesbild.

It reads only what a release publishes (the content's tables: numbers, "<5"/"<10" and "×") and what any
reader knows about how the tables relate, written out here independently of the suppression code:

- in every table with gender columns, kvinnor + män + övriga = totalt in each row;
- in a table of exclusive categories (age, risk level) each column adds up to its population row;
- in a table where a case can be in several rows, each bounded cell is at most its population;
- the new cases are among the ongoing ones: the overview's "nya" row is at most its "pågående" row, and
  each cell of the new cases' context table at most the same cell of the ongoing one;
- a one-way total is at most the population it is counted in (``bounded_by``), and whatever that says,
  each HRV subtype is at most the ongoing HRV cases: a subtype can only be recorded on a case whose
  context is HRV, and the case form says so;
- a cell shown as "<T" is 1..T-1, a cell shown as "×" is any number ≥ 0.

Counts are integers; the attacker relaxes them to reals (a linear programme), which can only widen
what it finds, so the intervals are the tightest a linear attacker gets. For each suppressed cell it
minimises and maximises the cell subject to all of the above.

What "wide" means (the release's promise, suppression.py):
- a "<T" cell: the attacker's maximum is still T-1 (it learns nothing more precise at the top than the
  publication says) and its minimum at most T-3, so at least three values stay possible;
- a "×" cell: maximum - minimum ≥ 2, so at least three values stay possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]

GENDER_COLUMNS = ("kvinnor", "man", "ovriga")
TOTAL = "totalt"
HONOUR_ONGOING = "kontext_pagaende.hrv.totalt"
EPSILON = 1e-6


@dataclass(frozen=True)
class Interval:
    cell: str
    status: str
    upper: int | None  # the published upper bound of a "<T" cell (T-1)
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def is_pinned(self) -> bool:
        return self.width < EPSILON

    @property
    def is_wide(self) -> bool:
        if self.status == "under":
            assert self.upper is not None
            return self.high >= self.upper - EPSILON and self.low <= self.upper - 2 + EPSILON
        return self.width >= 2 - EPSILON


def published_cells(content: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every published cell by id; a cell printed in several tables must read the same everywhere."""
    cells: dict[str, dict[str, Any]] = {}
    for table in content["tables"]:
        rows = list(table["rows"])
        if table["population"]:
            rows.append(table["population"])
        for row in rows:
            for cell in row["cells"]:
                seen = cells.setdefault(cell["id"], cell)
                assert seen["display"] == cell["display"], f"{cell['id']} is published twice, differently"
    return cells


def relations(content: dict[str, Any]) -> tuple[list[tuple[list[str], str]], list[tuple[str, str]]]:
    """(equations: parts add up to total, inequalities: smaller ≤ larger), by cell id."""
    equations: list[tuple[list[str], str]] = []
    inequalities: list[tuple[str, str]] = []
    tables = {table["key"]: table for table in content["tables"]}

    def ids(row: dict[str, Any]) -> dict[str, str]:
        return {column: cell["id"] for column, cell in zip(table["columns"], row["cells"], strict=True)}

    for table in tables.values():
        if table["kind"] == "oneway":
            for row in table["rows"]:
                if row.get("bounded_by"):
                    inequalities.append((row["cells"][0]["id"], row["bounded_by"]))
                if row["key"].startswith("heder_"):
                    inequalities.append((row["cells"][0]["id"], HONOUR_ONGOING))
            continue
        for row in table["rows"]:
            row_ids = ids(row)
            equations.append(([row_ids[column] for column in GENDER_COLUMNS], row_ids[TOTAL]))
        if table["kind"] == "overview":
            new, ongoing = (ids(row) for row in table["rows"])
            inequalities += [(new[column], ongoing[column]) for column in table["columns"]]
            continue
        population = ids(table["population"])
        for column in table["columns"]:
            if table["kind"] == "exclusive":
                equations.append(([ids(row)[column] for row in table["rows"]], population[column]))
            else:
                inequalities += [
                    (ids(row)[column], population[column]) for row in table["rows"] if row["bounded"]
                ]
        if table["contains"]:
            inner = tables[table["contains"]]
            for inner_row, row in zip(inner["rows"], table["rows"], strict=True):
                inner_ids, row_ids = ids(inner_row), ids(row)
                inequalities += [(inner_ids[column], row_ids[column]) for column in table["columns"]]
    return equations, inequalities


def attack(content: dict[str, Any]) -> list[Interval]:
    """The feasible interval of every suppressed cell, given everything the release publishes."""
    cells = published_cells(content)
    unknown = sorted(cell_id for cell_id, cell in cells.items() if cell["status"] != "visas")
    if not unknown:
        return []
    index = {cell_id: position for position, cell_id in enumerate(unknown)}

    def linear(terms: list[tuple[str, int]]) -> tuple[np.ndarray, float]:
        row = np.zeros(len(unknown))
        constant = 0.0
        for cell_id, sign in terms:
            cell = cells[cell_id]
            if cell_id in index:
                row[index[cell_id]] += sign
            else:
                constant += sign * cell["value"]
        return row, constant

    equations, inequalities = relations(content)
    equality_rows, equality_values = [], []
    for parts, total in equations:
        row, constant = linear([(part, 1) for part in parts] + [(total, -1)])
        if row.any():
            equality_rows.append(row)
            equality_values.append(-constant)
        else:
            assert abs(constant) < EPSILON, f"published numbers contradict {total}"
    upper_rows, upper_values = [], []
    for smaller, larger in inequalities:
        row, constant = linear([(smaller, 1), (larger, -1)])
        if row.any():
            upper_rows.append(row)
            upper_values.append(-constant)
        else:
            assert constant <= EPSILON, f"published numbers contradict {smaller} ≤ {larger}"
    bounds = []
    for cell_id in unknown:
        cell = cells[cell_id]
        bounds.append((1, cell["upper"]) if cell["status"] == "under" else (0, None))
    problem: dict[str, Any] = {
        "A_eq": np.array(equality_rows) if equality_rows else None,
        "b_eq": np.array(equality_values) if equality_rows else None,
        "A_ub": np.array(upper_rows) if upper_rows else None,
        "b_ub": np.array(upper_values) if upper_rows else None,
        "bounds": bounds,
        "method": "highs",
    }
    intervals = []
    for cell_id in unknown:
        objective = np.zeros(len(unknown))
        objective[index[cell_id]] = 1
        lowest = linprog(objective, **problem)
        highest = linprog(-objective, **problem)
        assert lowest.status in (0, 3) and highest.status in (0, 3), f"the attacker's LP failed on {cell_id}"
        high = float("inf") if highest.status == 3 else -highest.fun
        cell = cells[cell_id]
        intervals.append(Interval(cell_id, cell["status"], cell.get("upper"), lowest.fun, high))
    return intervals
