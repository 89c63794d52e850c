"""The statistics move from one pseudonymous row per case into one sealed block per half-year (issue 13:
a dump linked the rows back to their cases by content, length and order). The existing rows are packed
into the blocks with the key provider's keys, so the nulägesbild counts exactly what it counted; then
the per-case table (and the index coordination/0002 made on it) goes. Going back unpacks the blocks into
rows again (with the shorter pseudonyms the blocks keep: the counts are the same)."""

from django.db import migrations, models


def rows_into_blocks(apps, schema_editor):
    from cases import statistics

    record_model = apps.get_model("cases", "StatisticsRecord")
    block_model = apps.get_model("cases", "StatisticsBlock")
    by_period: dict[int, dict[bytes, bytes]] = {}
    for row in record_model.objects.using(schema_editor.connection.alias).iterator():
        name = bytes.fromhex(row.pseudonym)[: statistics.PSEUDONYM_BYTES]
        values = statistics.StatisticsValues(
            closed_period=row.closed_period,
            legal_gender=row.legal_gender,
            age_band=row.age_band,
            context_mask=row.context_mask,
            form_mask=row.form_mask,
            honour_mask=row.honour_mask,
            relation_mask=row.relation_mask,
            flag_mask=row.flag_mask,
            measure_mask=row.measure_mask,
            risk_level=row.risk_level,
            risk_assessment_count=row.risk_assessment_count,
            repeat_victimisation=row.repeat_victimisation,
            child_count=row.child_count,
        )
        by_period.setdefault(row.opened_period, {})[name] = statistics.pack(name, values)
    for period, records in by_period.items():
        block = block_model(period=period)
        statistics.seal_block(block, records)
        block.save(using=schema_editor.connection.alias)


def blocks_into_rows(apps, schema_editor):
    from cases import statistics

    record_model = apps.get_model("cases", "StatisticsRecord")
    block_model = apps.get_model("cases", "StatisticsBlock")
    alias = schema_editor.connection.alias
    for block in block_model.objects.using(alias).iterator():
        rows = []
        for name, values in statistics.open_block(block):
            rows.append(
                record_model(pseudonym=name.hex(), opened_period=block.period, **values._asdict())
            )
        record_model.objects.using(alias).bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_export_note"),
        # Its index on the per-case table must exist before the table goes, on a fresh database too.
        ("coordination", "0002_nulagesbild"),
    ]

    operations = [
        migrations.CreateModel(
            name="StatisticsBlock",
            fields=[
                ("period", models.PositiveIntegerField(primary_key=True, serialize=False)),
                ("records_sealed", models.BinaryField(default=b"")),
            ],
        ),
        migrations.RunPython(rows_into_blocks, blocks_into_rows, elidable=False),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS statisticsrecord_ongoing",
            "CREATE INDEX statisticsrecord_ongoing ON cases_statisticsrecord "
            "((COALESCE(closed_period, 2147483647)))",
        ),
        migrations.DeleteModel(name="StatisticsRecord"),
    ]
