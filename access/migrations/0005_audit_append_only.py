"""On PostgreSQL, the audit tables refuse UPDATE and DELETE from every role, the owner included.

A row-level trigger rather than privileges alone: privileges bind only the roles they are revoked from,
and the role that runs the migrations owns the tables. deploy/postgres/roles.sql additionally keeps the
application's own role from TRUNCATE (a statement no row-level trigger sees). SQLite has no roles;
there the signed checkpoints are what reveal a changed trail.
"""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = ("access_auditevent", "access_auditcheckpoint", "access_auditverification")

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION skyddsnat_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION skyddsnat_audit_append_only()"
        )


def remove(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS skyddsnat_audit_append_only()")


class Migration(migrations.Migration):
    dependencies = [("access", "0004_audit_checkpoints")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
