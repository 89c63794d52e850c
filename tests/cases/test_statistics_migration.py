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


@pytest.mark.django_db(transaction=True)
def test_the_sealing_migration_moves_risk_and_measure_values_both_ways(db: None) -> None:
    """cases/0005 seals an existing assessment's instrument and levels and a measure's kind with the case's
    key; going back opens them into their columns again."""
    from access.models import Role
    from cases.actions import do_add_protective_measure, do_add_risk_assessment
    from cases.models import ProtectiveMeasure, RiskAssessment
    from cases.vault import CaseVault
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory, open_case

    membership = MembershipFactory.create(
        user=UserFactory.create(username="migrator"), agency=AgencyFactory.create(), role=Role.HANDLAGGARE
    )
    case = open_case(membership)
    kwargs = {"acting_user": membership.user, "membership": membership}
    assessment = RiskAssessment.new(instrument="patriark", instrument_version="2", level="hog", **_dated())
    do_add_risk_assessment(case, assessment=assessment, **kwargs)
    measure = ProtectiveMeasure.new(kind="utreseforbud", responsible_agency=membership.agency, **_started())
    do_add_protective_measure(case, measure=measure, **kwargs)

    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0004_statistics_blocks")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT instrument, instrument_version, level FROM cases_riskassessment")
        assert cursor.fetchall() == [("patriark", "2", "hog")]
        cursor.execute("SELECT kind FROM cases_protectivemeasure")
        assert cursor.fetchall() == [("utreseforbud",)]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    vault = CaseVault.for_case(case)
    row = vault.open_values(RiskAssessment.objects.get(), "result")
    assert (row.instrument, row.instrument_version, row.level) == ("patriark", "2", "hog")
    assert vault.open_values(ProtectiveMeasure.objects.get(), "details").kind == "utreseforbud"
    with connection.cursor() as cursor:
        columns = {
            column.name
            for column in connection.introspection.get_table_description(cursor, "cases_riskassessment")
        }
    assert not columns & {"instrument", "instrument_version", "level", "override_level", "own_perception"}


def _dated() -> dict[str, object]:
    import datetime

    return {"assessed_on": datetime.date(2026, 3, 1)}


def _started() -> dict[str, object]:
    import datetime

    return {"starts_on": datetime.date(2026, 3, 1)}
