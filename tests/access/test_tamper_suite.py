"""Every tampering attack of issue 15, against the two modes an operator schedules (deploy/): the hourly
``verify_audit`` and the nightly ``verify_audit --full --archive DIR``. Runs in the SQLite suite and in
the PostgreSQL one (where tampering means switching the triggers off, as only a superuser can).

The trail of each test: five events, a nightly run (a signed checkpoint at the fifth, and the first
archived file), four more events and an hourly run that verifies them without signing. Each attack then
changes the database as someone with full access to it, but without the keys, would; the test asserts
which scheduled modes find it, that they exit 1 (BROKEN), and where an event is to blame, that its id
is named as the first broken one. Nothing here may go unseen by both.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from access.models import AuditCheckpoint, AuditEvent, AuditVerification
from tests.access.test_audit_chain import _forge_after, append, rehash_from, tampering, verify

pytestmark = pytest.mark.django_db


@dataclass
class Trail:
    checkpointed: list[AuditEvent]  # covered by the signed checkpoint
    later: list[AuditEvent]  # verified by the hourly run, not yet checkpointed
    archive: Path


def nightly(trail: Trail) -> tuple[int, str]:
    return verify("--full", "--archive", str(trail.archive))


def hourly(_trail: Trail) -> tuple[int, str]:
    return verify()


@pytest.fixture
def trail(tmp_path: Path) -> Trail:
    checkpointed = append(5)
    archive = tmp_path / "kontrollpunkter"
    archive.mkdir()
    assert verify("--full", "--archive", str(archive))[0] == 0
    later = append(4, action="test.later")
    assert verify("--no-checkpoint")[0] == 0
    return Trail(checkpointed, later, archive)


def _other(column: str, value: Any, someone: int | None) -> Any:
    """Another value of the column's own type."""
    if column == "occurred_at":
        return value - datetime.timedelta(minutes=5)
    if column == "actor_id":
        return someone
    if column == "details":
        return {**value, "number": -1}
    if column in ("previous_hash", "entry_hash", "mac"):
        return ("0" if value[:1] != "0" else "1") + value[1:]
    return f"{value}-x"


EVENT_COLUMNS = [field.attname for field in AuditEvent._meta.concrete_fields if field.attname != "id"]


def _edit(target: AuditEvent, column: str) -> None:
    from tests.factories import UserFactory

    someone = UserFactory.create().pk if column == "actor_id" else None
    value = AuditEvent.objects.values_list(column, flat=True).get(pk=target.pk)
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(**{column: _other(column, value, someone)})


@pytest.mark.parametrize("column", EVENT_COLUMNS)
@pytest.mark.parametrize("where", ["checkpointed", "later"])
def test_an_edit_to_any_column_of_any_event_is_found_and_the_event_named(
    trail: Trail, column: str, where: str
) -> None:
    target = (trail.checkpointed if where == "checkpointed" else trail.later)[2]
    _edit(target, column)
    code, output = nightly(trail)
    assert code == 1, output
    assert f"First broken event: {target.pk}." in output
    if where == "later":
        # The hourly run reads everything after the newest checkpoint.
        code, output = hourly(trail)
        assert code == 1 and f"First broken event: {target.pk}." in output, output


@dataclass(frozen=True)
class Attack:
    name: str
    # Changes the database; returns the id the reports must name first (None: no event to blame).
    act: Callable[[Trail], int | None]
    hourly_finds_it: bool


def _delete_one(trail: Trail) -> int:
    with tampering():
        AuditEvent.objects.filter(pk=trail.later[1].pk).delete()
    return trail.later[2].pk


def _delete_checkpointed(trail: Trail) -> int:
    with tampering():
        AuditEvent.objects.filter(pk=trail.checkpointed[1].pk).delete()
    return trail.checkpointed[2].pk


def _swap(trail: Trail) -> int:
    first, second = trail.later[1], trail.later[2]
    columns = ["action", "object_reference", "details", "occurred_at"]
    rows = {
        row["pk"]: row
        for row in AuditEvent.objects.filter(pk__in=[first.pk, second.pk]).values("pk", *columns)
    }
    with tampering():
        for one, other in ((first, second), (second, first)):
            AuditEvent.objects.filter(pk=one.pk).update(
                **{column: rows[other.pk][column] for column in columns}
            )
    return first.pk


def _insert_forged(trail: Trail) -> int:
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None
    return int(_forge_after(last).pk)


def _truncate_checkpointed(trail: Trail) -> int | None:
    with tampering():
        AuditEvent.objects.filter(pk__gte=trail.checkpointed[-2].pk).delete()
    return None


def _truncate_after_checkpoint(trail: Trail) -> int | None:
    # Events the hourly run saw, after the newest checkpoint: its signed record says where the trail ended.
    with tampering():
        AuditEvent.objects.filter(pk__gte=trail.later[-2].pk).delete()
    return None


def _rewrite_checkpointed(trail: Trail) -> int:
    target = trail.checkpointed[1]
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(action="test.harmless")
        rehash_from(target.pk)
    return target.pk


def _rewrite_later(trail: Trail) -> int:
    target = trail.later[1]
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(action="test.harmless")
        rehash_from(target.pk)
    return target.pk


def _rewrite_and_remove_every_checkpoint(trail: Trail) -> int:
    target = trail.checkpointed[1]
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(action="test.harmless")
        rehash_from(target.pk)
        AuditVerification.objects.all().delete()
        AuditCheckpoint.objects.all().delete()
    return target.pk


def _delete_checkpoints(trail: Trail) -> int | None:
    with tampering():
        AuditVerification.objects.all().delete()
        AuditCheckpoint.objects.all().delete()
    return None


def _roll_back_to_a_backup(trail: Trail) -> int | None:
    # The night after the later events: a checkpoint over them, archived. Then the database is put back
    # as it was before them, checkpoints and verification records included.
    assert nightly(trail)[0] == 0
    first_later = trail.later[0].pk
    with tampering():
        AuditVerification.objects.filter(checkpoint__event_id__gte=first_later).delete()
        AuditVerification.objects.filter(to_event_id__gte=first_later).delete()
        AuditCheckpoint.objects.filter(event_id__gte=first_later).delete()
        AuditEvent.objects.filter(pk__gte=first_later).delete()
    return None


ATTACKS = [
    Attack("delete an event", _delete_one, True),
    Attack("delete a checkpointed event", _delete_checkpointed, False),
    Attack("swap two events", _swap, True),
    Attack("insert a forged, correctly chained event", _insert_forged, True),
    Attack("truncate before the checkpoint", _truncate_checkpointed, True),
    Attack("truncate after the checkpoint", _truncate_after_checkpoint, True),
    Attack("rewrite from a checkpointed event with recomputed hashes", _rewrite_checkpointed, True),
    Attack("rewrite after the checkpoint with recomputed hashes", _rewrite_later, True),
    Attack("rewrite and delete every checkpoint and run", _rewrite_and_remove_every_checkpoint, True),
    Attack("delete the checkpoints", _delete_checkpoints, False),
    Attack("roll back to an older backup", _roll_back_to_a_backup, False),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.name)
def test_every_attack_is_found_by_the_scheduled_modes(trail: Trail, attack: Attack) -> None:
    blamed = attack.act(trail)
    code, output = nightly(trail)
    assert code == 1, output
    if blamed is not None:
        assert f"First broken event: {blamed}." in output
    if attack.hourly_finds_it:
        code, output = hourly(trail)
        assert code == 1, output


def test_an_untouched_trail_holds_in_both_modes(trail: Trail) -> None:
    assert hourly(trail)[0] == 0
    assert nightly(trail)[0] == 0
    assert len(list(trail.archive.iterdir())) == 2


def test_an_archive_that_cannot_be_written_is_a_misconfiguration(tmp_path: Path) -> None:
    append(2)
    code, output = verify("--full", "--archive", str(tmp_path / "saknas"))
    assert code == 2
    assert "is not a directory this user can write to" in output
