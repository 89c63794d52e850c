"""django-auditlog's entries are part of the audit trail: on PostgreSQL they too refuse UPDATE and DELETE
(the function comes from access 0005). Nobody may run ``auditlogflush``."""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "auditlog_logentry"


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION skyddsnat_audit_append_only()"
        )


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("access", "0005_audit_append_only"), ("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
