"""The integer attacker (nulagesbild_integer_attacker.py) is sound and at least as strong as the linear one.

Sound: on every dataset the true value of every suppressed cell lies inside what it finds, so what it
narrows is really narrowed and not an artefact of a wrong model (a dataset that broke a rule of the case
form, a "×" taken for "0 or at least 5" that was the breakdown of a small sum, would fail this).
Stronger: its interval for each cell lies inside the linear attacker's.

What it finds against today's disclosure control is measured, not asserted (issue 14):
``SKYDDSNAT_DEBUG=true .venv/bin/python -m tests.coordination.nulagesbild_integer_attacker 0 300`` prints
the figures.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.coordination.nulagesbild_attacker import attack
from tests.coordination.nulagesbild_integer_attacker import group_disclosures, integer_attack
from tests.coordination.test_nulagesbild_attacker import release_for

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="database-independent; run once, with the SQLite suite"
)

SEEDS = (0, 3, 7, 12)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_truth_lies_inside_every_interval_and_inside_the_linear_one(seed: int) -> None:
    content, counts = release_for(seed)
    linear = {interval.cell: interval for interval in attack(content)}
    integer = integer_attack(content)
    assert {interval.cell for interval in integer} == set(linear)
    for interval in integer:
        true_value = counts.get(interval.cell, 0)
        assert interval.low - 1e-6 <= true_value <= interval.high + 1e-6, (seed, interval, true_value)
        wider = linear[interval.cell]
        assert wider.low - 1e-6 <= interval.low and interval.high <= wider.high + 1e-6, (interval, wider)


def test_without_secondary_suppression_it_pins_cells_to_their_true_value() -> None:
    content, counts = release_for(0, secondary=False)
    pinned = [interval for interval in integer_attack(content) if interval.is_pinned]
    assert pinned
    for interval in pinned:
        assert abs(interval.low - counts.get(interval.cell, 0)) < 1e-6


def test_group_disclosure_is_a_count_that_is_all_or_nearly_all_of_its_population() -> None:
    content, counts = release_for(3)
    for line in group_disclosures(content):
        cell_id, numbers = line.split(": ")
        part, whole = (int(number) for number in numbers.split(" of "))
        assert counts.get(cell_id, 0) == part and part >= 5 and 0 <= whole - part < 5
