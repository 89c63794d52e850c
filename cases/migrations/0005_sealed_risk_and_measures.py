"""A risk assessment's instrument, version and levels, and a protective measure's kind, move into sealed
columns (issue 13: PATRIARK and a travel ban named honour-related violence in plaintext, with no join).
Existing rows are sealed with their case's data key (the key store must be reachable, as for the
application itself); going back opens them again."""

from django.db import migrations, models

RESULT = ("instrument", "instrument_version", "level", "override_level", "own_perception")


def seal_existing(apps, schema_editor):
    from cases.vault import CaseVault

    alias = schema_editor.connection.alias
    vaults: dict[object, CaseVault] = {}

    def vault(case_id: object) -> CaseVault:
        if case_id not in vaults:
            vaults[case_id] = CaseVault.for_case(case_id)
        return vaults[case_id]

    for row in apps.get_model("cases", "RiskAssessment").objects.using(alias).iterator():
        vault(row.case_id).seal_json(row, "result", {name: getattr(row, name) for name in RESULT})
        row.save(update_fields=["result_sealed"])
    for row in apps.get_model("cases", "ProtectiveMeasure").objects.using(alias).iterator():
        vault(row.case_id).seal_json(row, "details", {"kind": row.kind})
        row.save(update_fields=["details_sealed"])


def open_existing(apps, schema_editor):
    from cases.vault import CaseVault

    alias = schema_editor.connection.alias
    for row in apps.get_model("cases", "RiskAssessment").objects.using(alias).iterator():
        data = CaseVault.for_case(row.case_id).open_json(row, "result", default={})
        for name in RESULT:
            setattr(row, name, data.get(name, ""))
        row.save(update_fields=list(RESULT))
    for row in apps.get_model("cases", "ProtectiveMeasure").objects.using(alias).iterator():
        row.kind = CaseVault.for_case(row.case_id).open_json(row, "details", default={}).get("kind", "")
        row.save(update_fields=["kind"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_statistics_blocks"),
    ]

    operations = [
        migrations.AddField(
            model_name="protectivemeasure",
            name="details_sealed",
            field=models.BinaryField(default=b""),
        ),
        migrations.AddField(
            model_name="riskassessment",
            name="result_sealed",
            field=models.BinaryField(default=b""),
        ),
        migrations.RunPython(seal_existing, open_existing, elidable=False),
        migrations.RemoveConstraint(
            model_name="riskassessment",
            name="override_needs_reason",
        ),
        # Defaults first, so that going back can add the columns again to rows that exist.
        migrations.AlterField(
            model_name="protectivemeasure", name="kind", field=models.CharField(default="", max_length=20)
        ),
        migrations.AlterField(
            model_name="riskassessment", name="instrument", field=models.CharField(default="", max_length=20)
        ),
        migrations.AlterField(
            model_name="riskassessment", name="level", field=models.CharField(default="", max_length=10)
        ),
        migrations.RemoveField(model_name="protectivemeasure", name="kind"),
        migrations.RemoveField(model_name="riskassessment", name="instrument"),
        migrations.RemoveField(model_name="riskassessment", name="instrument_version"),
        migrations.RemoveField(model_name="riskassessment", name="level"),
        migrations.RemoveField(model_name="riskassessment", name="override_level"),
        migrations.RemoveField(model_name="riskassessment", name="own_perception"),
    ]
