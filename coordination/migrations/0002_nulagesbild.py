"""Drafts and releases of the nulägesbild (coordination/nulagesbild/models.py).

On PostgreSQL a release refuses UPDATE and DELETE from every role, the owner included, by a row-level
trigger (as the audit trail does, access/migrations/0005): a release is immutable. SQLite has no
triggers here; the model itself refuses to save an existing release or delete one.

An index on the statistics records' closing half-year (open cases as the largest integer), the very
expression coordination/nulagesbild/aggregate.py filters on: the ongoing cases of a recent period are a
fifth of a million cases, found without reading the rest (manage.py benchmark_nulagesbild). It is the
nulägesbild's index on the cases app's table, so it is created here, in raw SQL both databases accept.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION skyddsnat_nulagesbild_release_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a released nulägesbild is immutable: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER coordination_nulagesbildrelease_immutable BEFORE UPDATE OR DELETE "
        "ON coordination_nulagesbildrelease FOR EACH ROW "
        "EXECUTE FUNCTION skyddsnat_nulagesbild_release_immutable()"
    )


ONGOING_INDEX = (
    "CREATE INDEX statisticsrecord_ongoing ON cases_statisticsrecord ((COALESCE(closed_period, 2147483647)))"
)


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS coordination_nulagesbildrelease_immutable ON coordination_nulagesbildrelease"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS skyddsnat_nulagesbild_release_immutable()")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0002_disclosure_and_emergency_access'),
        ('coordination', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='NulagesbildDraft',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('year', models.PositiveSmallIntegerField(verbose_name='år')),
                ('half', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='halvår')),
                ('content', models.TextField()),
                ('sha256', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'utkast till nulägesbild',
                'verbose_name_plural': 'utkast till nulägesbilder',
                'ordering': ['-created_at'],
                'constraints': [models.CheckConstraint(condition=models.Q(('half__isnull', True), ('half__in', [1, 2]), _connector='OR'), name='nulagesbild_draft_half')],
            },
        ),
        migrations.CreateModel(
            name='NulagesbildRelease',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('year', models.PositiveSmallIntegerField(verbose_name='år')),
                ('half', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='halvår')),
                ('content', models.TextField()),
                ('sha256', models.CharField(max_length=64)),
                ('released_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('draft_id', models.UUIDField()),
                ('released_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'publicerad nulägesbild',
                'verbose_name_plural': 'publicerade nulägesbilder',
                'ordering': ['-released_at'],
                'constraints': [models.CheckConstraint(condition=models.Q(('half__isnull', True), ('half__in', [1, 2]), _connector='OR'), name='nulagesbild_release_half')],
            },
        ),
        migrations.RunPython(install, remove, elidable=False),
        migrations.RunSQL(ONGOING_INDEX, "DROP INDEX IF EXISTS statisticsrecord_ongoing", elidable=False),
    ]
