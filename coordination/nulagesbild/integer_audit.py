"""The last gate before a nulägesbild is shown: an integer audit of everything it publishes.

The secondary suppression (suppression.py) certifies each suppressed cell with moves along the sums,
a linear argument. A reader knows more than sums (issue 14), and this audit models all of it, as a
mixed-integer programme (``scipy.optimize.milp``) over the suppressed cells:

- **the published numbers** and every relation of the release (``Problem.equations`` and
  ``Problem.inequalities``): the sums, the populations, the new cases among the ongoing ones;
- **whole numbers**: a "<T" is 1..T-1, a "×" any whole number ≥ 0;
- **the symbols' rules, as disjunctions**: a "×" is the breakdown of a small sum (a sum of 1..T-1, or a
  special total whose population is under its minimum), or else it was a count that could have been
  published, 0 or at least T. A reader cannot see which, but knows the rule, so the audit gives the
  reader exactly that: with a binary per "×" (0, or at least T) that is lifted only where one of the
  cell's sums can be small, and a binary per such sum that may be 1 only if the sum really can be
  small;
- **the case form's facts** (``Problem.facts``, cases/records.py): every case has a context, a witnessed
  child or a report of concern needs children in the household, a household has 1 to MAX_CHILDREN
  children.

For every suppressed cell it then asks what the release promises (suppression.py): a "<T" cell can be
T-1 and can be T-3 or less, a "×" can take at least three values. Every feasible point the solver
returns is kept as a witness for all cells (the truth is the first), so most cells need no programme
of their own. A cell that is narrowed gets a partner: the published cells near it (the certifier's
neighbourhood, cheapest first) are tried until one widens it; hiding more only widens what the reader
can infer, so every witness stays valid and the loop ends. A cell that nothing near can widen is
returned, and content.py refuses to publish.

The independent integer attacker (tests/coordination/nulagesbild_integer_attacker.py) reads only the
published content and checks the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
from scipy.sparse import lil_matrix  # type: ignore[import-untyped]

from coordination.nulagesbild.suppression import BELOW, HIDDEN, SECONDARY, SHOWN, Certifier, Fact, Problem

# One programme may take this long; one that does not finish proves nothing, and its cell counts as
# narrowed (more suppression, never less protection).
TIME_LIMIT = 5.0
# Partners tried for one narrowed cell before the cheapest is hidden anyway (it still adds room).
PARTNERS_TRIED = 6
# Cells the gate may hide for one release before it gives up and the release is refused.
MOST_HIDDEN = 60
TOLERANCE = 1e-6

# The variables' names, the constraints, the bounds and the integrality of a programme.
Model = tuple[list[str], LinearConstraint, Bounds, np.ndarray]


@dataclass
class AuditFigures:
    programmes: int = 0
    hidden: int = 0


class IntegerAudit:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.cells = problem.cells
        # A fact the true counts break (records from before the rule, cases/records.py) is not used: the
        # truth must be one of the data the audit considers.
        self.facts = [fact for fact in problem.facts if _holds(fact, problem)]
        self.facts_broken = len(problem.facts) - len(self.facts)
        largest = max((cell.value for cell in self.cells.values()), default=0)
        # No count can exceed the children of the largest population; the truth is always inside.
        self.big = float((largest + 1) * 21 + 100)
        self.witnesses: list[dict[str, float]] = [
            {cell_id: cell.value for cell_id, cell in self.cells.items()}
        ]
        self.figures = AuditFigures()
        # The sums whose smallness frees a cell from "0 or at least T": (total, minimum, parts).
        self.small_sums: list[tuple[str, int, int, tuple[str, ...]]] = [
            (total, 1, self.cells[total].threshold, parts) for total, parts in problem.breakdowns
        ]
        for cell_id, population, minimum in problem.small_populations:
            self.small_sums.append((population, 0, minimum, (cell_id,)))

    # --- The programme --------------------------------------------------------------------------------

    def _model(self) -> Model:
        cells = self.cells
        unknown = sorted(cell_id for cell_id, cell in cells.items() if cell.status != SHOWN)
        names: list[str] = list(unknown)
        index = {name: position for position, name in enumerate(names)}

        def variable(name: str) -> int:
            index[name] = len(names)
            names.append(name)
            return index[name]

        rows: list[tuple[dict[int, float], float, float]] = []

        def add(terms: Iterable[tuple[str, float]], low: float, high: float) -> None:
            row: dict[int, float] = {}
            constant = 0.0
            for cell_id, coefficient in terms:
                if cells[cell_id].status == SHOWN:
                    constant += coefficient * cells[cell_id].value
                else:
                    row[index[cell_id]] = row.get(index[cell_id], 0) + coefficient
            if row:
                rows.append((row, low - constant, high - constant))

        for equation in self.problem.equations:
            add([*((part, 1.0) for part in equation.parts), (equation.total, -1.0)], 0, 0)
        for inequality in self.problem.inequalities:
            add([(inequality.smaller, 1.0), (inequality.larger, -1.0)], -np.inf, 0)
        for fact in self.facts:
            add(((cell_id, float(coefficient)) for cell_id, coefficient in fact.terms), fact.low, fact.high)

        # For each hidden cell: which sums may free it, each either certainly small, certainly not, or
        # a suppressed sum that may be small (a binary that can be 1 only if the sum is then small).
        frees: dict[str, list[int]] = {cell_id: [] for cell_id in unknown if cells[cell_id].status == HIDDEN}
        free_for_sure: set[str] = set()
        small_flags: dict[tuple[str, int, int], int] = {}
        for total, low, high_exclusive, parts in self.small_sums:
            hidden_parts = [part for part in parts if part in frees]
            if not hidden_parts:
                continue
            cell = cells[total]
            if cell.status == SHOWN:
                if low <= cell.value < high_exclusive:
                    free_for_sure.update(hidden_parts)
                continue
            if cell.status == BELOW and low <= 1 and cell.threshold <= high_exclusive:
                free_for_sure.update(hidden_parts)  # "<T" is 1..T-1: small whatever it is
                continue
            key = (total, low, high_exclusive)
            if key not in small_flags:
                flag = small_flags[key] = variable(f"small:{total}:{low}:{high_exclusive}")
                # flag = 1 ⇒ low ≤ total ≤ high_exclusive - 1.
                rows.append(({index[total]: 1.0, flag: -float(low)}, 0, np.inf))
                rows.append(({index[total]: 1.0, flag: self.big}, -np.inf, high_exclusive - 1 + self.big))
            for part in hidden_parts:
                frees[part].append(small_flags[key])
        for cell_id, flags in frees.items():
            if cell_id in free_for_sure:
                continue
            threshold = float(cells[cell_id].threshold)
            publishable = variable(f"publishable:{cell_id}")
            # x ≤ M·b; x ≥ T·b − T·Σ flags: 0 or at least T, unless one of its sums is small.
            rows.append(({index[cell_id]: 1.0, publishable: -self.big}, -np.inf, 0))
            lower = {index[cell_id]: 1.0, publishable: -threshold}
            for flag in flags:
                lower[flag] = lower.get(flag, 0) + threshold
            rows.append((lower, 0, np.inf))

        matrix = lil_matrix((max(len(rows), 1), len(names)))
        row_lows = np.full(max(len(rows), 1), -np.inf)
        row_highs = np.full(max(len(rows), 1), np.inf)
        for number, (row, row_low, row_high) in enumerate(rows):
            for column, coefficient in row.items():
                matrix[number, column] = coefficient
            row_lows[number], row_highs[number] = row_low, row_high
        lower_bounds = np.zeros(len(names))
        upper_bounds = np.ones(len(names))
        for cell_id in unknown:
            cell = cells[cell_id]
            position = index[cell_id]
            if cell.status == BELOW:
                lower_bounds[position], upper_bounds[position] = 1, cell.threshold - 1
            else:
                upper_bounds[position] = self.big
        constraints = LinearConstraint(matrix.tocsr(), row_lows, row_highs)
        return names, constraints, Bounds(lower_bounds, upper_bounds), np.ones(len(names))

    def _sweep(self, model: Model) -> None:
        """Witnesses for many cells at once: the data with every suppressed cell as large, and as small,
        as the rest allows (the sum of them, greatest and least)."""
        names = model[0]
        for sign in (+1, -1):
            objective = np.array([-float(sign) if name in self.cells else 0.0 for name in names])
            self._run(model, objective)

    def _solve(self, model: Model, target: str, sign: int) -> float | None:
        """The extreme of ``target`` (sign +1: greatest, -1: least), or None if not proven; a feasible
        point found on the way is kept as a witness."""
        names = model[0]
        objective = np.zeros(len(names))
        objective[names.index(target)] = -sign
        result = self._run(model, objective)
        if result.status != 0:
            return None
        return float(-sign * result.fun)

    def _run(self, model: Model, objective: np.ndarray) -> Any:
        names, constraints, bounds, integrality = model
        self.figures.programmes += 1
        result = milp(
            objective,
            constraints=constraints,
            bounds=bounds,
            integrality=integrality,
            options={"time_limit": TIME_LIMIT, "presolve": True},
        )
        if result.x is not None:
            self.witnesses.append(
                {
                    name: float(round(value))
                    for name, value in zip(names, result.x, strict=True)
                    if name in self.cells
                }
            )
        return result

    # --- The promise ---------------------------------------------------------------------------------

    def _seen(self, cell_id: str) -> tuple[float, float]:
        values = [witness.get(cell_id, self.cells[cell_id].value) for witness in self.witnesses]
        return min(values), max(values)

    def _wide_enough(self, cell_id: str, low: float, high: float) -> bool:
        cell = self.cells[cell_id]
        if cell.status == BELOW:
            return high >= cell.threshold - 1 - TOLERANCE and low <= cell.threshold - 3 + TOLERANCE
        return high - low >= 2 - TOLERANCE

    def is_wide(self, cell_id: str, model: Model) -> bool:
        low, high = self._seen(cell_id)
        if self._wide_enough(cell_id, low, high):
            return True
        cell = self.cells[cell_id]
        greatest = self._solve(model, cell_id, +1)
        low, high = self._seen(cell_id)
        if greatest is not None:
            high = max(high, greatest)
        if self._wide_enough(cell_id, low, high):
            return True
        if cell.status == BELOW and high < cell.threshold - 1 - TOLERANCE:
            return False
        least = self._solve(model, cell_id, -1)
        low, high = self._seen(cell_id)
        if least is not None:
            low = min(low, least)
        return self._wide_enough(cell_id, low, high)

    def narrowed(self) -> str | None:
        """The first suppressed cell that a reader can narrow below its symbol, or None."""
        suppressed = sorted(cell_id for cell_id, cell in self.cells.items() if cell.is_suppressed)
        if not suppressed:
            return None
        model = self._model()
        if len(self.witnesses) == 1:
            self._sweep(model)
        for cell_id in suppressed:
            if not self.is_wide(cell_id, model):
                return cell_id
        return None


def _holds(fact: Fact, problem: Problem) -> bool:
    total = sum(coefficient * problem.cells[cell_id].value for cell_id, coefficient in fact.terms)
    return bool(fact.low - TOLERANCE <= total <= fact.high + TOLERANCE)


def certify(problem: Problem, certifier: Certifier) -> tuple[str, ...]:
    """Hide partners until the integer audit finds nothing narrowed; return the cells it could not
    widen (empty when the release may be shown)."""
    return audit_and_certify(problem, certifier)[0]


def audit_and_certify(problem: Problem, certifier: Certifier) -> tuple[tuple[str, ...], AuditFigures]:
    """``certify``, and what it took (for the benchmark)."""
    audit = IntegerAudit(problem)
    while True:
        target = audit.narrowed()
        if target is None:
            return (), audit.figures
        candidates = [
            cell_id
            for cell_id in certifier._neighbourhood(target)
            if not problem.cells[cell_id].is_suppressed
        ]
        if not candidates or audit.figures.hidden >= MOST_HIDDEN:
            return (target,), audit.figures
        nonzero = [cell_id for cell_id in candidates if problem.cells[cell_id].value > 0] or candidates
        choice = nonzero[0]
        for candidate in nonzero[:PARTNERS_TRIED]:
            known = len(audit.witnesses)
            _hide(problem, candidate)
            helps = audit.is_wide(target, audit._model())
            problem.cells[candidate].status, problem.cells[candidate].reason = SHOWN, ""
            if helps:
                choice = candidate
                break
            # Points found with the candidate hidden may give it another value: not data a reader
            # of the release without it could take for the truth.
            del audit.witnesses[known:]
        _hide(problem, choice)
        certifier._hide(choice)
        audit.figures.hidden += 1


def _hide(problem: Problem, cell_id: str) -> None:
    problem.cells[cell_id].status, problem.cells[cell_id].reason = HIDDEN, SECONDARY
