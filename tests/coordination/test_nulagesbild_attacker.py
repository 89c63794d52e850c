"""Prove the disclosure control: a linear-programming attacker (nulagesbild_attacker.py) gets everything a
release publishes and tries to narrow every suppressed cell down, over many random skewed datasets.

With secondary suppression on, every suppressed cell stays wide (see the attacker's module for what
that means) in every dataset; with it off, the same attacker pins cells exactly, so the test can fail.

Nothing here touches the database (the counts are made in Python), so the PostgreSQL run of the suite
skips this module rather than repeat the same three minutes of linear programming.
"""

from __future__ import annotations

import pytest
from django.db import connection

from coordination.nulagesbild.content import build_content
from coordination.nulagesbild.periods import Period
from tests.coordination.nulagesbild_attacker import Interval, attack
from tests.coordination.nulagesbild_data import records_for, reference_counts

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="database-independent; run once, with the SQLite suite"
)

# The linear certificate on its own (the integer gate off): the integer attacker test covers the whole
# release with the gate on, over 300 datasets; this checks the certifier independently, on the random
# datasets and a few adversarial ones.
SEEDS = (*range(90), *range(200, 210))
# Without secondary suppression the attacker must pin cells in these datasets (checked on a sample).
UNPROTECTED_SEEDS = range(0, 200, 20)


def period_for(seed: int) -> Period:
    """A year for odd seeds, a half-year for even ones (both halves)."""
    return Period(2026) if seed % 2 else Period(2026, (seed // 2) % 2 + 1)


def release_for(
    seed: int, *, secondary: bool = True, integer: bool = True
) -> tuple[dict[str, object], dict[str, int]]:
    period = period_for(seed)
    counts = reference_counts(records_for(seed), period)
    return build_content(counts, period, secondary=secondary, integer=integer), counts


def describe(interval: Interval, counts: dict[str, int]) -> str:
    return (
        f"{interval.cell} ({interval.status}, true value {counts.get(interval.cell, 0)}) narrowed to "
        f"[{interval.low:.2f}, {interval.high:.2f}]"
    )


@pytest.mark.parametrize("chunk", range(5), ids=lambda chunk: f"datasets {chunk * 20}-{chunk * 20 + 19}")
def test_no_suppressed_cell_can_be_narrowed_down_by_a_linear_programming_attacker(chunk: int) -> None:
    failures = []
    for seed in SEEDS[chunk * 20 : chunk * 20 + 20]:
        content, counts = release_for(seed, integer=False)
        intervals = attack(content)
        assert intervals, f"seed {seed}: the dataset is meant to have small cells"
        for interval in intervals:
            true_value = counts.get(interval.cell, 0)
            # The attacker's model must admit the truth, or it is modelling something else.
            assert interval.low - 1e-6 <= true_value <= interval.high + 1e-6, describe(interval, counts)
            if not interval.is_wide:
                failures.append(f"seed {seed}: {describe(interval, counts)}")
    assert failures == [], "the attacker narrowed suppressed cells down:\n" + "\n".join(failures)


def test_without_secondary_suppression_the_attacker_pins_cells_exactly() -> None:
    pinned_datasets = 0
    for seed in UNPROTECTED_SEEDS:
        content, counts = release_for(seed, secondary=False)
        pinned = [interval for interval in attack(content) if interval.is_pinned]
        for interval in pinned:
            # Pinned means recovered: the attacker now knows the true value.
            assert abs(interval.low - counts.get(interval.cell, 0)) < 1e-6
        pinned_datasets += bool(pinned)
    assert pinned_datasets == len(UNPROTECTED_SEEDS)


def test_the_attacker_sees_only_what_is_published() -> None:
    content, counts = release_for(5)
    for interval in attack(content):
        assert interval.status in ("under", "dold")
    # A suppressed cell's number is in no published cell of the content.
    for table in content["tables"]:
        for row in table["rows"]:
            for cell in row["cells"]:
                if cell["status"] != "visas":
                    assert cell["value"] is None and cell["percent"] is None
