"""On PostgreSQL the audit tables only grow: a trigger refuses UPDATE and DELETE from every role, and
deploy/postgres/grants.sql keeps the application's role from UPDATE, DELETE and TRUNCATE. These run in
the PostgreSQL suite (make test-postgres) and are skipped on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from access.audit import record_event
from access.checkpoints import record_verification, sign_checkpoint, verify_chain
from access.models import AuditCheckpoint, AuditEvent, AuditVerification
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

APP_ROLE = "skyddsnat_app"
AUDIT_TABLES = (
    "access_auditevent",
    "access_auditcheckpoint",
    "access_auditverification",
    "auditlog_logentry",
)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL suite (make test-postgres)")


@pytest.fixture
def trail() -> list[AuditEvent]:
    AgencyFactory.create()  # a tracked model: a django-auditlog entry (and its chained event)
    events = []
    for number in range(3):
        with transaction.atomic():
            events.append(record_event("test.event", actor=None, details={"number": number}))
    report = verify_chain()
    record_verification(report, events[0].occurred_at, sign_checkpoint(report))
    return events


def refused(sql: str) -> str:
    """The database's message when it refuses ``sql`` (run in a savepoint, so the test goes on)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as error:
        return str(error)
    pytest.fail(f"the database allowed: {sql}")


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_no_role_can_update_or_delete_audit_rows(trail: list[AuditEvent], table: str) -> None:
    # The test connects as a superuser who owns the tables: the trigger binds even that role.
    before = AuditEvent.objects.count()
    for sql in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):  # noqa: S608 - fixed table names
        assert f"the audit trail is append-only: {sql.split()[0]} on {table} is refused" in refused(sql)
    assert AuditEvent.objects.count() == before
    assert AuditCheckpoint.objects.count() == 1
    assert AuditVerification.objects.count() == 1


def test_the_orm_cannot_change_or_delete_an_event_either(trail: list[AuditEvent]) -> None:
    event = trail[0]
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="test.harmless"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    event.refresh_from_db()
    assert event.action == "test.event"


def _apply_grants() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            # Roles are shared by every database of the server: another test run may create it at the
            # same moment, so a duplicate is as good as success.
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
            f"THEN CREATE ROLE {APP_ROLE} NOLOGIN; END IF; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        cursor.execute((Path(settings.BASE_DIR) / "deploy" / "postgres" / "grants.sql").read_text())


def test_the_application_role_may_append_but_not_change_delete_or_truncate(trail: list[AuditEvent]) -> None:
    before = AuditEvent.objects.count()
    _apply_grants()
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(
                "SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, 'SELECT'), "
                "has_table_privilege(%s, %s, 'UPDATE'), has_table_privilege(%s, %s, 'DELETE'), "
                "has_table_privilege(%s, %s, 'TRUNCATE')",
                [APP_ROLE, table] * 5,
            )
            assert cursor.fetchone() == (True, True, False, False, False), table
        # Ordinary tables stay fully usable.
        cursor.execute("SELECT has_table_privilege(%s, 'cases_case', 'UPDATE')", [APP_ROLE])
        assert cursor.fetchone() == (True,)
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        # As the application: appending works (sequence and table privileges are enough) ...
        with transaction.atomic():
            appended = record_event("test.as_app", actor=None)
        assert appended.previous_hash == trail[-1].entry_hash
        # ... changing, deleting and truncating do not: refused by privilege, before any trigger.
        for sql in (
            "UPDATE access_auditevent SET action = 'x'",
            "DELETE FROM access_auditevent",
            "TRUNCATE access_auditevent",
            "TRUNCATE access_auditcheckpoint",
        ):
            assert "permission denied for table" in refused(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditEvent.objects.count() == before + 1
    assert verify_chain().ok


def test_verify_audit_signs_as_the_application_role(trail: list[AuditEvent]) -> None:
    """The hourly run, on a node set up as the README says: verify and sign as skyddsnat_app, with
    exactly grants.sql's privileges (no UPDATE on the checkpoint table). A row lock needed UPDATE, so
    the run crashed and no checkpoint was ever signed."""
    import io

    from django.core.management import call_command

    _apply_grants()
    with transaction.atomic():
        record_event("test.after_checkpoint", actor=None)
    before = AuditCheckpoint.objects.count()
    out = io.StringIO()
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        call_command("verify_audit", stdout=out)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert "The audit trail holds" in out.getvalue()
    assert "Signed checkpoint" in out.getvalue()
    assert AuditCheckpoint.objects.count() == before + 1
    assert AuditVerification.objects.filter(ok=True).count() == 2
