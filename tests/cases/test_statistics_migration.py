"""An existing installation keeps its counts: migration cases/0004 packs the per-case statistics rows into
the sealed half-year blocks, and the nulägesbild counts from the blocks exactly what it counted from the
rows (the reference below counts the rows the way the old SQL did)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cases import statistics
from coordination.nulagesbild.aggregate import count_statistics
from coordination.nulagesbild.periods import Period
from tests.coordination.nulagesbild_data import random_records, reference_counts

BEFORE = [("cases", "0003_export_note"), ("coordination", "0003_meeting_cancelled_notification")]
AFTER = [("cases", "0004_statistics_blocks")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_count_and_leaves_no_row_per_case() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    old_model = old_apps.get_model("cases", "StatisticsRecord")
    records = random_records(5, size=300, year=2026)
    old_model.objects.bulk_create(
        old_model(pseudonym=hashlib.sha256(str(index).encode()).hexdigest(), **record.__dict__)
        for index, record in enumerate(records)
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    # Back to the newest state for the rest of the suite.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert statistics.record_count() == 300
    with connection.cursor() as cursor:
        assert "cases_statisticsrecord" not in connection.introspection.table_names(cursor)
    for period in (Period(2026), Period(2026, 1), Period(2025, 2), Period(2024)):
        assert count_statistics(period) == reference_counts(records, period), period.slug
