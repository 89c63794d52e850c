"""The granskare's start page shows the chain's state, and the checkpoints download as the file that
verify_audit --against reads; the download is audited and only a granskare gets it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from access.audit import record_event
from access.checkpoints import read_checkpoint_file
from access.models import AuditCheckpoint, AuditEvent, User

pytestmark = pytest.mark.django_db

START = reverse("compliance:start")
EXPORT = reverse("compliance:checkpoint_export")


def append(count: int) -> None:
    for _ in range(count):
        with transaction.atomic():
            record_event("test.event", actor=None)


def test_the_panel_says_never_verified_until_verify_audit_runs(granskare: User, login_client) -> None:
    body = login_client(granskare).get(START).content.decode()
    assert "Granskningsloggens kedja" in body
    assert "Aldrig" in body
    append(3)
    call_command("verify_audit", stdout=io.StringIO())
    checkpoint = AuditCheckpoint.objects.get()
    body = login_client(granskare).get(START).content.decode()
    assert f"till och med händelse {checkpoint.event_id}" in body
    assert "– hel" in body
    assert "BRUTEN" not in body


def test_a_broken_chain_is_shown_as_an_alert_naming_the_event(granskare: User, login_client) -> None:
    from tests.access.test_audit_chain import tampering

    append(3)
    victim = AuditEvent.objects.order_by("id")[1]
    with tampering():
        AuditEvent.objects.filter(pk=victim.pk).update(action="test.harmless")
    with pytest.raises(Exception):  # noqa: B017, PT011 - verify_audit exits non-zero: CommandError
        call_command("verify_audit", "--full", stdout=io.StringIO())
    body = login_client(granskare).get(START).content.decode()
    assert 'role="alert"' in body
    assert f"Första felaktiga händelse: {victim.pk}." in body


def test_the_checkpoint_file_downloads_audited_and_verifies(
    granskare: User, login_client, tmp_path: Path
) -> None:
    append(2)
    call_command("verify_audit", stdout=io.StringIO())
    response = login_client(granskare).post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kontrollpunkter-')
    assert "no-store" in response["Cache-Control"]
    path = tmp_path / "kontrollpunkter.jsonl"
    path.write_bytes(response.content)
    assert len(read_checkpoint_file(path)) == 1
    event = AuditEvent.objects.get(action="audit.checkpoints.export")
    assert (event.actor, event.details) == (granskare, {"checkpoints": 1})
    out = io.StringIO()
    call_command("verify_audit", "--against", str(path), "--no-checkpoint", stdout=out)
    assert "The audit trail holds" in out.getvalue()


@pytest.mark.parametrize("persona", ["handlaggare", "chef", "systemadministrator"])
def test_only_a_granskare_gets_the_checkpoints(persona: str, request, login_client) -> None:
    user = request.getfixturevalue(persona)
    assert login_client(user).post(EXPORT).status_code == 403
    assert login_client(user).get(START).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.checkpoints.export").exists()


def test_the_export_is_a_post(granskare: User, login_client) -> None:
    assert login_client(granskare).get(EXPORT).status_code == 405
