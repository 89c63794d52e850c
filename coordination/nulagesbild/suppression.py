"""Disclosure control: which cells of a nulägesbild are published, which are shown as "<5"/"<10", and
which are hidden ("×").

The release is a system of cells tied together by what any reader knows: a row's genders add up to its
total (``Equation``), a table of exclusive categories adds up to its population, a count in a table of
non-exclusive categories is at most its population, new cases are among the ongoing ones
(``Inequality``). Everything here works on that system and nothing else, in this order:

1. **Primary suppression.** A count of 1–4 is shown as "<5"; a special-category total of 1–9 as "<10".
2. **Small groups are not broken down.** When a total is itself suppressed (1–4 cases: a row, a gender
   group of a frame, a whole frame), every cell of its breakdown is hidden, zeros included: otherwise
   the zeros around a small count tell every one of those few persons' category, and the parts'
   lower bounds (each "<5" is at least 1) would narrow the others down.
3. **Whole groups.** In a table of exclusive categories, when all of a gender group's cases fall into
   one category (every other category 0), that column's cells are hidden, zeros included: published,
   they would state the category of every person in the group. Elsewhere zeros are kept: a zero in a
   table where a case can be in several rows (or none) tells nothing about the others.
4. **Group shares.** In a table where a case can be in several rows, a count of at least T that is all
   of its population, or all but 1..T-1 of it, is hidden: it says something of every member of the
   group ("all 8 ongoing men have a contact ban").
5. **Secondary suppression** (``secondary=True``), until a fixed point: every suppressed cell must be
   *protected*, which is certified constructively. From the true data ``x``, a *move* is a direction
   ``z`` that keeps every equation (found by walking from the cell through the equations of the other
   suppressed cells: a cycle in a table, a path to a row total, the same step in a linked table);
   ``x + s·z`` is then data an attacker cannot tell from the truth as long as every cell stays within
   what its publication allows (published cells fixed, "<5" in 1–4, hidden cells ≥ 0) and every
   inequality still holds. When a move is stopped by an inequality with another suppressed cell (a
   population, the ongoing twin of a new count), that cell's own move is added. Protected means:

   - a "<T" cell can reach T−1 and can reach T−3 or less: the attacker can narrow it no further than
     the publication does at the top, and at least three values stay possible;
   - a hidden cell can move by at least 2 in total (up and down): at least three values stay possible.

   Because feasible data form a convex set, each certified point proves that part of the interval.
   A cell that is not yet protected gets a partner: the cheapest published cell near it that makes it
   protected, looked for first in its own equations, then in those of its suppressed neighbours, then
   across its inequalities; zeros only if nothing else exists; a row's total in a table of several
   categories per case before other cells (the gender breakdown is the point), smaller counts first, a
   frame's total and a gender group's population last. Suppressing more never undoes a proof (moves
   only gain room), so the loop ends; a cell that nothing near can protect is reported, and content.py
   then refuses to publish. The test with a linear-programming attacker
   (tests/coordination/test_nulagesbild_attacker.py) checks the result independently.

Before step 5, a hidden zero that the published figures force to zero anyway is shown as 0 (the
figures include the case form's rules, ``Problem.facts``).

6. **The gate** (``gate``, integer_audit.certify): the certificate above is linear; the integer audit
   of everything published comes last, and hides more where a reader who reasons in whole numbers
   could still narrow a cell.

Nothing here keeps a suppressed cell's true value beyond the call: the published tables carry only
the symbol (content.py).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

_T = TypeVar("_T")

SHOWN = "visas"
BELOW = "under"  # shown as "<T", published as "between 1 and T-1"
HIDDEN = "dold"  # shown as "×", published as "not shown"

PRIMARY = "primär"
SMALL_GROUP = "liten grupp"
WHOLE_GROUP = "hel grupp"
GROUP_SHARE = "gruppandel"
SECONDARY = "sekundär"

INFINITY = math.inf
# The moves searched, by the number of cells they change, shortest first: a row and its total are 2, a
# rectangle in a table 4, a path through a table into its population and on into the overview 6–8.
MOVE_SIZES = (2, 4, 6, 8)
# How many other suppressed cells a move may pull along when an inequality stops it, and how many
# moves are tried for one cell before it counts as stuck.
JOINT_ROUNDS = 30
# Small on purpose: a search that fails (the cell needs a partner) runs to the end of its budgets, and
# over the 200 datasets of the attacker test 5 moves and 10 repairs suppress exactly as many cells as
# 60 and 60 did, in a quarter of the time (the worst dataset: 3 s instead of 30 s).
MOVES_TRIED = 5
# The cheapest published cells near a stuck one that are tried as its partner.
CANDIDATES_TRIED = 16
PROGRESS_TRIED = 4
# Partners hidden in a row that gave a stuck cell no room at all before it is given up.
FRUITLESS_PARTNERS = 12
# Mending broken inequalities: the moves considered for each, and the attempts allowed in all.
REPAIR_BRANCHES = 6
REPAIR_BUDGET = 10
# When no single move goes the whole way: at most this many moves of one step each.
PIECES = 9
TOLERANCE = 1e-9
# Tiers of the cost of hiding a published cell, cheapest first. A row's total in a table where a case
# can be in several rows hides nothing of the gender breakdown and ties nothing else up; then the
# other table cells; then a frame's total (the genders stay visible); a gender group's population last.
ROW_TOTAL, TABLE_CELL, FRAME_TOTAL, POPULATION = 0, 1, 2, 3


@dataclass
class Cell:
    id: str
    value: int
    threshold: int
    tier: int = TABLE_CELL
    status: str = SHOWN
    reason: str = ""

    @property
    def is_suppressed(self) -> bool:
        return self.status != SHOWN


@dataclass(frozen=True)
class Equation:
    """The parts add up to the total."""

    parts: tuple[str, ...]
    total: str


@dataclass(frozen=True)
class Inequality:
    smaller: str
    larger: str


@dataclass(frozen=True)
class Fact:
    """A relation every classification keeps (cases/records.py), over cell ids:
    low ≤ Σ coefficient·cell ≤ high. Only the integer audit (integer_audit.py) uses these."""

    terms: tuple[tuple[str, int], ...]
    low: float
    high: float


@dataclass
class Problem:
    cells: dict[str, Cell]
    equations: list[Equation]
    inequalities: list[Inequality]
    # Rule 2: each total and the cells that break it down.
    breakdowns: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Rule 3: the lines of exclusive categories (a gender group's column and its population).
    exclusive_lines: list[Equation] = field(default_factory=list)
    # Rule 2 for one-way totals: a cell hidden when its population (an id) is below a minimum.
    small_populations: list[tuple[str, str, int]] = field(default_factory=list)
    # Rule 4: a count that is all of its population, or all but 1..T-1 of it (cell id, population id).
    group_shares: list[tuple[str, str]] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    cells: dict[str, Cell]
    unprotected: tuple[str, ...]  # empty unless secondary suppression was switched off

    def count(self, reason: str) -> int:
        return sum(1 for cell in self.cells.values() if cell.reason == reason)


Gate = Callable[[Problem, "Certifier"], tuple[str, ...]]


def protect(problem: Problem, *, secondary: bool = True, gate: Gate | None = None) -> Outcome:
    """Apply the rules to ``problem`` (its cells' statuses are set in place) and return the outcome.
    ``gate``, after the secondary suppression, hides more until it can certify the release and returns
    the cells it could not (integer_audit.certify)."""
    cells = problem.cells
    for cell in cells.values():
        if 1 <= cell.value < cell.threshold:
            cell.status, cell.reason = BELOW, PRIMARY
    for total, parts in problem.breakdowns:
        if 1 <= cells[total].value < cells[total].threshold:
            for part in parts:
                cells[part].status, cells[part].reason = HIDDEN, SMALL_GROUP
    for cell_id, population, minimum in problem.small_populations:
        if cells[population].value < minimum:
            cells[cell_id].status, cells[cell_id].reason = HIDDEN, SMALL_GROUP
    for line in problem.exclusive_lines:
        nonzero = [part for part in line.parts if cells[part].value > 0]
        if cells[line.total].value > 0 and len(nonzero) == 1 and len(line.parts) > 1:
            for part in line.parts:
                if not (cells[part].status == HIDDEN and cells[part].reason == SMALL_GROUP):
                    cells[part].status, cells[part].reason = HIDDEN, WHOLE_GROUP
    for cell_id, population in problem.group_shares:
        cell, whole = cells[cell_id], cells[population]
        if (
            cell.status == SHOWN
            and cell.value >= cell.threshold
            and 0 <= whole.value - cell.value < cell.threshold
        ):
            cell.status, cell.reason = HIDDEN, GROUP_SHARE
    _show_forced_zeros(problem)
    certifier = Certifier(problem)
    if secondary:
        certifier.suppress_until_protected()
    unprotected = tuple(cell_id for cell_id in certifier.suppressed() if not certifier.is_protected(cell_id))
    if secondary and gate is not None and not unprotected:
        unprotected = gate(problem, certifier)
    return Outcome(cells=cells, unprotected=unprotected)


def upper_bounds(problem: Problem) -> dict[str, float]:
    """The largest value each cell can have given what is published, by propagating the published
    upper bounds through the equations (a part is at most its total, a total at most its parts) and
    the inequalities, to a fixed point. Sound but not tight: only a zero it finds is used."""
    cells = problem.cells
    upper: dict[str, float] = {}
    for cell_id, cell in cells.items():
        if cell.status == SHOWN:
            upper[cell_id] = cell.value
        elif cell.status == BELOW:
            upper[cell_id] = cell.threshold - 1
        else:
            upper[cell_id] = INFINITY
    changed = True
    while changed:
        changed = False

        def lower_to(cell_id: str, bound: float) -> None:
            nonlocal changed
            if bound < upper[cell_id]:
                upper[cell_id] = bound
                changed = True

        for equation in problem.equations:
            for part in equation.parts:
                lower_to(part, upper[equation.total])
            lower_to(equation.total, sum(upper[part] for part in equation.parts))
        for inequality in problem.inequalities:
            lower_to(inequality.smaller, upper[inequality.larger])
        for fact in problem.facts:
            # a·x + Σ b·y ≤ high with every cell ≥ 0: x ≤ (high + Σ over b < 0 of |b|·upper(y)) / a.
            if fact.high == INFINITY:
                continue
            room = fact.high + sum(
                -coefficient * upper[other] for other, coefficient in fact.terms if coefficient < 0
            )
            for cell_id, coefficient in fact.terms:
                if coefficient > 0:
                    lower_to(cell_id, room / coefficient)
    return upper


def _show_forced_zeros(problem: Problem) -> None:
    """A hidden zero that the published figures already force to zero (a part of a published 0, a
    count of a population published as 0) is shown: hiding it protects nothing, and a "×" that can
    only be 0 would break the promise that every hidden cell can take several values."""
    upper = upper_bounds(problem)
    for cell_id, cell in problem.cells.items():
        if cell.status == HIDDEN and upper[cell_id] <= 0:
            cell.status, cell.reason = SHOWN, ""


class Certifier:
    """Finds moves for suppressed cells and adds secondary suppressions until every one is protected."""

    def __init__(self, problem: Problem) -> None:
        self.cells = problem.cells
        self.terms: list[dict[str, int]] = []
        self.equations_of: dict[str, list[int]] = {cell_id: [] for cell_id in self.cells}
        for index, equation in enumerate(problem.equations):
            terms = {part: 1 for part in equation.parts}
            terms[equation.total] = -1
            self.terms.append(terms)
            for cell_id in terms:
                self.equations_of[cell_id].append(index)
        # Inequalities by number (hashing the dataclass in the inner loops costs more than the search).
        self.inequalities = list(problem.inequalities)
        self.pairs = [(inequality.smaller, inequality.larger) for inequality in self.inequalities]
        self.value = {cell_id: cell.value for cell_id, cell in self.cells.items()}
        self.inequalities_of: dict[str, list[int]] = {cell_id: [] for cell_id in self.cells}
        for number, inequality in enumerate(self.inequalities):
            self.inequalities_of[inequality.smaller].append(number)
            self.inequalities_of[inequality.larger].append(number)
        # How much room each inequality has in the true data (larger - smaller): a change breaks it
        # when it raises the smaller side over the larger by more than that.
        self.slack = [self.value[larger] - self.value[smaller] for smaller, larger in self.pairs]
        self._reached: dict[tuple[str, int, float], bool] = {}

    # --- The rules of protection ------------------------------------------------------------------------

    def suppressed(self) -> list[str]:
        return sorted(cell_id for cell_id, cell in self.cells.items() if cell.is_suppressed)

    def bounds(self, cell_id: str) -> tuple[float, float]:
        cell = self.cells[cell_id]
        if cell.status == SHOWN:
            return cell.value, cell.value
        if cell.status == BELOW:
            return 1, cell.threshold - 1
        return 0, INFINITY

    def is_protected(self, cell_id: str) -> bool:
        cell = self.cells[cell_id]
        if cell.status == BELOW:
            up = cell.threshold - 1 - cell.value
            down = cell.value - (cell.threshold - 3)
            return (up <= 0 or self.can_reach(cell_id, +1, up)) and (
                down <= 0 or self.can_reach(cell_id, -1, down)
            )
        if cell.status == HIDDEN:
            if self.can_reach(cell_id, +1, 2) or (cell.value >= 2 and self.can_reach(cell_id, -1, 2)):
                return True
            return cell.value >= 1 and self.can_reach(cell_id, +1, 1) and self.can_reach(cell_id, -1, 1)
        return True

    # --- Moves --------------------------------------------------------------------------------------------

    def _room(self, cell_id: str, rate: int, change: float = 0) -> float:
        """How far a cell at (true value + ``change``) can go at ``rate`` before leaving its bounds."""
        low, high = self.bounds(cell_id)
        value = self.cells[cell_id].value + change
        return (high - value) / rate if rate > 0 else (value - low) / -rate

    def _within_bounds(self, cell_id: str, change: float) -> bool:
        low, high = self.bounds(cell_id)
        return low - TOLERANCE <= self.cells[cell_id].value + change <= high + TOLERANCE

    def moves(
        self, start: str, sign: int, step: float, base: dict[str, float] | None = None
    ) -> Iterator[dict[str, int]]:
        """Directions that keep every equation, with ``start`` changing by ``sign``, along which every
        cell (from the data moved by ``base``) stays within its bounds for ``step``: the shortest first
        (a row and its total, a rectangle in a table, a path into a population and the overview), each
        cell at most once."""
        base = base or {}
        if self._room(start, sign, base.get(start, 0)) < step - TOLERANCE:
            return
        shorter = 0
        for size in MOVE_SIZES:
            move = {start: sign}
            imbalance: dict[int, int] = {}
            for index in self.equations_of[start]:
                imbalance[index] = self.terms[index][start] * sign
            for found in self._extend(move, imbalance, step, size, base):
                if len(found) > shorter:
                    yield found
            shorter = size

    def _extend(
        self, move: dict[str, int], imbalance: dict[int, int], step: float, size: int, base: dict[str, float]
    ) -> Iterator[dict[str, int]]:
        open_equations = [index for index, amount in imbalance.items() if amount]
        if not open_equations:
            yield dict(move)
            return
        if len(move) >= size:
            return
        index = min(open_equations)
        amount = imbalance[index]
        for cell_id in sorted(self.terms[index]):
            if cell_id in move or not self.cells[cell_id].is_suppressed:
                continue
            rate = -amount * self.terms[index][cell_id]
            if self._room(cell_id, rate, base.get(cell_id, 0)) < step * abs(rate) - TOLERANCE:
                continue
            move[cell_id] = rate
            for other in self.equations_of[cell_id]:
                imbalance[other] = imbalance.get(other, 0) + self.terms[other][cell_id] * rate
            yield from self._extend(move, imbalance, step, size, base)
            for other in self.equations_of[cell_id]:
                imbalance[other] -= self.terms[other][cell_id] * rate
            del move[cell_id]

    def _broken(self, change: dict[str, float]) -> Iterator[tuple[Inequality, float]]:
        """The inequalities broken by moving the data by ``change``, with the amount of each, each once.
        (The innermost loop of the search: written for speed, against the precomputed slack.)"""
        reported: set[int] = set()
        pairs, slack, inequalities_of = self.pairs, self.slack, self.inequalities_of
        for cell_id in change:
            for number in inequalities_of[cell_id]:
                smaller_id, larger_id = pairs[number]
                excess = change.get(smaller_id, 0) - change.get(larger_id, 0) - slack[number]
                if excess > TOLERANCE and number not in reported:
                    reported.add(number)
                    yield self.inequalities[number], excess

    def _violation(self, change: dict[str, float]) -> tuple[Inequality, float] | None:
        return next(self._broken(change), None)

    def can_reach(self, cell_id: str, sign: int, need: float) -> bool:
        """Is there data, indistinguishable from the truth for a reader, with ``cell_id`` moved by
        ``need`` in direction ``sign``? Found as one move, or else as moves of one step each, one after
        the other; when a move breaks an inequality, the other side (if suppressed) is moved along by
        just enough, by a move of its own."""
        key = (cell_id, sign, need)
        if key not in self._reached:
            self._reached[key] = self._reach(cell_id, sign, need)
        return self._reached[key]

    def _reach(self, cell_id: str, sign: int, need: float) -> bool:
        for move in itertools.islice(self.moves(cell_id, sign, need), MOVES_TRIED):
            if self._repair(cell_id, {other: need * rate for other, rate in move.items()}) is not None:
                return True
        change: dict[str, float] = {}
        remaining = need
        for _piece in range(PIECES):
            piece = min(1.0, remaining)
            for move in itertools.islice(self.moves(cell_id, sign, piece, change), MOVES_TRIED):
                trial = dict(change)
                for other, rate in move.items():
                    trial[other] = trial.get(other, 0) + piece * rate
                repaired = self._repair(cell_id, trial)
                if repaired is not None:
                    change, remaining = repaired, remaining - piece
                    break
            else:
                return False
            if remaining <= TOLERANCE:
                return True
        return False

    def _repair(
        self, start: str, change: dict[str, float], budget: list[int] | None = None, depth: int = 0
    ) -> dict[str, float] | None:
        """``change`` with every broken inequality mended by moving its other side, or None. A search
        with backtracking: the repairs that break the fewest other inequalities are tried first, and
        ``budget`` caps the attempts."""
        budget = budget if budget is not None else [REPAIR_BUDGET]
        violation = self._violation(change)
        if violation is None:
            return change
        if depth >= JOINT_ROUNDS or budget[0] <= 0:
            return None
        inequality, deficit = violation
        # The inequalities ``change`` breaks, once: each option below differs from it only in the
        # cells of one move, so only the inequalities of those cells need checking again.
        broken_before = self._broken_numbers(change, change)
        options: list[tuple[int, int, dict[str, float]]] = []
        for partner, sign in ((inequality.larger, +1), (inequality.smaller, -1)):
            # Never undo an earlier repair (that would go round in circles), never move the cell
            # being certified, never a published cell.
            if partner == start or not self.cells[partner].is_suppressed or change.get(partner, 0) * sign < 0:
                continue
            for move in itertools.islice(self.moves(partner, sign, deficit, change), REPAIR_BRANCHES):
                if start in move:
                    continue
                trial = dict(change)
                for other, rate in move.items():
                    trial[other] = trial.get(other, 0) + deficit * rate
                options.append((self._violations(trial, broken_before, move), len(options), trial))
        for _count, _order, trial in sorted(options, key=lambda option: option[:2]):
            budget[0] -= 1
            repaired = self._repair(start, trial, budget, depth + 1)
            if repaired is not None:
                return repaired
            if budget[0] <= 0:
                break
        return None

    def _broken_numbers(self, change: dict[str, float], cells: Iterable[str]) -> set[int]:
        """The inequalities of ``cells`` that ``change`` breaks, by number."""
        pairs, slack, inequalities_of = self.pairs, self.slack, self.inequalities_of
        broken: set[int] = set()
        for cell_id in cells:
            for number in inequalities_of[cell_id]:
                smaller_id, larger_id = pairs[number]
                if change.get(smaller_id, 0) - change.get(larger_id, 0) - slack[number] > TOLERANCE:
                    broken.add(number)
        return broken

    def _violations(self, trial: dict[str, float], broken_before: set[int], move: dict[str, int]) -> int:
        """How many inequalities ``trial`` breaks, where ``trial`` is a change that broke
        ``broken_before`` moved further along ``move``: those of the move's cells are checked again,
        the others stand as they were."""
        touched = {number for cell_id in move for number in self.inequalities_of[cell_id]}
        return len(broken_before - touched) + len(self._broken_numbers(trial, move))

    # --- Secondary suppression --------------------------------------------------------------------------

    def _hide(self, cell_id: str) -> None:
        self.cells[cell_id].status, self.cells[cell_id].reason = HIDDEN, SECONDARY
        self._reached = self._still_reached()

    def _still_reached(self) -> dict[tuple[str, int, float], bool]:
        """What stays known when one more cell is hidden: every "reached" (a certificate, data the
        reader cannot tell from the truth, stays one when less is published), no "not reached"."""
        return {key: reached for key, reached in self._reached.items() if reached}

    def _with_hidden(self, cell_id: str, probe: Callable[[], _T]) -> _T:
        """``probe()`` as if ``cell_id`` were hidden too; afterwards it is shown again and what was
        known before is known again."""
        known = self._reached
        self._reached = self._still_reached()
        self.cells[cell_id].status = HIDDEN
        try:
            return probe()
        finally:
            self.cells[cell_id].status = SHOWN
            self._reached = known

    def suppress_until_protected(self) -> None:
        pending = [cell_id for cell_id in self.suppressed() if not self.is_protected(cell_id)]
        fruitless = 0
        while pending:
            target = pending[0]
            choice, helps = self._partner_for(target)
            fruitless = 0 if helps else fruitless + 1
            if choice is None or fruitless > FRUITLESS_PARTNERS:
                # Nothing near helps: leave it to the caller, which refuses to publish (content.py).
                pending.pop(0)
                fruitless = 0
                continue
            self._hide(choice)
            # Suppressing more only adds room, so protected cells stay protected: recheck the rest.
            pending = [cell_id for cell_id in [*pending, choice] if not self.is_protected(cell_id)]

    def _cost(self, cell_id: str) -> tuple[int, int, int, str]:
        cell = self.cells[cell_id]
        return (cell.value == 0, cell.tier, cell.value, cell_id)

    def _neighbourhood(self, target: str) -> list[str]:
        """The published cells that could give ``target`` room, in the order they are tried: those in
        its own equations, then those in the equations of its suppressed neighbours (two steps out),
        then those across its inequalities and in their equations; each group cheapest first, and a
        gender group's population only after all of them."""
        rank: dict[str, int] = {}

        def reach_out(cells: set[str], level: int) -> set[str]:
            found = {
                other
                for cell_id in cells
                for index in self.equations_of[cell_id]
                for other in self.terms[index]
            }
            for cell_id in found:
                rank.setdefault(cell_id, level)
            return {cell_id for cell_id in found if self.cells[cell_id].is_suppressed}

        suppressed = reach_out({target}, 0)
        suppressed |= reach_out(suppressed, 1)
        reach_out(suppressed, 1)
        across = {
            other
            for cell_id in {target, *suppressed}
            for number in self.inequalities_of[cell_id]
            for other in self.pairs[number]
        }
        for cell_id in across:
            rank.setdefault(cell_id, 2)
        reach_out({cell_id for cell_id in across if self.cells[cell_id].is_suppressed}, 2)
        published = [cell_id for cell_id in rank if not self.cells[cell_id].is_suppressed]
        return sorted(
            published,
            key=lambda cell_id: (self.cells[cell_id].tier == POPULATION, rank[cell_id], *self._cost(cell_id)),
        )

    def _progress(self, target: str) -> int:
        """How far the cell can go up and down (each counted to 4): more is better."""
        progress = 0
        for sign in (+1, -1):
            for distance in range(1, 5):
                if not self.can_reach(target, sign, distance):
                    break
                progress += 1
        return progress

    def _partner_for(self, target: str) -> tuple[str | None, bool]:
        """The cell to hide next for ``target``, and whether it helps: the cheapest that protects it, or
        else the cheapest of the first few that gives it more room, or else simply the cheapest."""
        candidates = self._neighbourhood(target)
        if not candidates:
            return None, False
        nonzero = [cell_id for cell_id in candidates if self.cells[cell_id].value > 0] or candidates
        # The first few, and the overview's cells wherever they come: sometimes only a population helps.
        overview = [
            cell_id for cell_id in nonzero[CANDIDATES_TRIED:] if self.cells[cell_id].tier >= FRAME_TOTAL
        ]
        nonzero = nonzero[:CANDIDATES_TRIED] + overview
        for candidate in nonzero:
            if self._with_hidden(candidate, lambda: self.is_protected(target)):
                return candidate, True
        before = self._progress(target)
        for candidate in nonzero[:PROGRESS_TRIED]:
            if self._with_hidden(candidate, lambda: self._progress(target)) > before:
                return candidate, True
        return nonzero[0], False
