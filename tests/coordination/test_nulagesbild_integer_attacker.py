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

from coordination.nulagesbild import content as content_module
from tests.coordination.nulagesbild_attacker import attack
from tests.coordination.nulagesbild_integer_attacker import group_disclosures, integer_attack, narrowed
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


DATASETS = range(300)
CHUNK = 25


@pytest.mark.parametrize(
    "chunk",
    range(len(DATASETS) // CHUNK),
    ids=lambda chunk: f"datasets {chunk * CHUNK}-{chunk * CHUNK + CHUNK - 1}",
)
def test_no_release_lets_the_integer_attacker_narrow_a_cell_or_see_a_whole_group(chunk: int) -> None:
    failures = []
    for seed in DATASETS[chunk * CHUNK : (chunk + 1) * CHUNK]:
        content, counts = release_for(seed)
        for interval in narrowed(content):
            failures.append(f"seed {seed}: {interval} (true value {counts.get(interval.cell, 0)})")
        failures.extend(f"seed {seed}: group disclosure {line}" for line in group_disclosures(content))
    assert failures == [], "the integer attacker got through:\n" + "\n".join(failures)


def test_without_the_integer_gate_the_attacker_narrows_cells_the_linear_certificate_let_through() -> None:
    found = 0
    for seed in range(200, 215):
        content, counts = release_for(seed, integer=False)
        for interval in narrowed(content):
            true_value = counts.get(interval.cell, 0)
            assert interval.low - 1e-6 <= true_value <= interval.high + 1e-6, (seed, interval)
            found += 1
    assert found


def test_the_quick_verdict_is_the_full_attack_s() -> None:
    for seed in (204, 205):
        content, _counts = release_for(seed, integer=False)
        full = {interval.cell: interval for interval in integer_attack(content) if not interval.is_wide}
        quick = {interval.cell: interval for interval in narrowed(content)}
        assert quick.keys() == full.keys() and quick
        for cell_id, interval in quick.items():
            assert (
                abs(interval.low - full[cell_id].low) < 1e-6
                and abs(interval.high - full[cell_id].high) < 1e-6
            )


def test_group_disclosure_is_a_count_that_is_all_or_nearly_all_of_its_population(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the rule that hides them (suppression.py), releases show whole groups, and each one found
    # is a real one.
    build_problem = content_module.build_problem

    def without_group_shares(counts: dict[str, int]) -> object:
        problem = build_problem(counts)
        problem.group_shares.clear()
        return problem

    monkeypatch.setattr(content_module, "build_problem", without_group_shares)
    found = 0
    for seed in (3, 204, 210):
        content, counts = release_for(seed, integer=False)
        for line in group_disclosures(content):
            cell_id, numbers = line.split(": ")
            part, whole = (int(number) for number in numbers.split(" of "))
            assert counts.get(cell_id, 0) == part and part >= 5 and 0 <= whole - part < 5
            found += 1
    assert found
