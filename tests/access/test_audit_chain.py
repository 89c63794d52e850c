"""The audit trail's tamper evidence: the hash chain, signed checkpoints, the exported checkpoint file and
verify_audit. Every way of tampering the issue names is done here once and must be found: editing,
deleting and reordering events, dropping the newest ones, and rewriting the whole chain (with and
without the checkpoints in the database)."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from access.audit import GENESIS_HASH, AuditWriteError, compute_hash, record_event
from access.checkpoints import read_checkpoint_file, sign_checkpoint, verify_chain
from access.models import AuditCheckpoint, AuditEvent, AuditVerification, User

pytestmark = pytest.mark.django_db


def append(count: int, action: str = "test.event", actor: User | None = None) -> list[AuditEvent]:
    events = []
    for number in range(count):
        with transaction.atomic():
            events.append(
                record_event(
                    action,
                    actor=actor,
                    object_type="case",
                    object_reference=f"VR-TEST-{number:02d}",
                    object_agency="soc",
                    reason="owner",
                    details={"number": number, "categories": ["identitet"]},
                )
            )
    return events


@contextmanager
def tampering() -> Iterator[None]:
    """Act as a database superuser: on PostgreSQL that means switching triggers off first (replication
    mode; the application's role cannot, see test_audit_postgres.py)."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def verify(*args: str) -> tuple[int, str]:
    """verify_audit's exit code and what it printed (stdout, or the error)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


def rehash_from(first_id: int) -> None:
    """What a forger with database access does after an edit: recompute every hash from there on."""
    previous = AuditEvent.objects.filter(id__lt=first_id).order_by("-id").first()
    running = previous.entry_hash if previous else GENESIS_HASH
    for event in AuditEvent.objects.filter(id__gte=first_id).order_by("id"):
        event.previous_hash = running
        event.entry_hash = compute_hash(event, running)
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=event.previous_hash, entry_hash=event.entry_hash
        )
        running = event.entry_hash


# --- Appending --------------------------------------------------------------------------------------


def test_each_event_hashes_its_content_and_its_predecessor() -> None:
    first, second = append(2)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.entry_hash
    assert second.entry_hash == compute_hash(second, first.entry_hash)
    assert first.entry_hash != second.entry_hash


@pytest.mark.django_db(transaction=True)
def test_an_event_is_written_only_inside_the_transaction_of_what_it_records() -> None:
    # transaction=True: outside any atomic block, as a view or command would be.
    with pytest.raises(AuditWriteError, match="inside the transaction"):
        record_event("test.event", actor=None)
    assert not AuditEvent.objects.exists()


def test_a_failed_write_is_an_audit_write_error_and_leaves_no_event() -> None:
    with pytest.raises(AuditWriteError), transaction.atomic():
        # An action longer than its column: the database (or Django's validation on SQLite, which does
        # not enforce lengths) must not silently store something else.
        record_event("x" * 61, actor=None, details={"not": {"json", "serialisable"}})
    assert not AuditEvent.objects.exists()


# --- An intact trail ---------------------------------------------------------------------------------


def test_an_intact_trail_verifies_and_gets_a_signed_checkpoint() -> None:
    events = append(5)
    code, output = verify()
    assert code == 0, output
    assert "verified 5 event(s) from the start of the trail (events" in output
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.event_id, checkpoint.entry_hash, checkpoint.event_count) == (
        events[-1].pk,
        events[-1].entry_hash,
        5,
    )
    assert checkpoint.previous_signature == ""
    assert f"Signed checkpoint {checkpoint.pk} at event {events[-1].pk}." in output
    run = AuditVerification.objects.get()
    assert (run.ok, run.checked, run.to_event_id, run.checkpoint) == (True, 5, events[-1].pk, checkpoint)


def test_verification_is_incremental_from_the_newest_checkpoint() -> None:
    append(4)
    verify()
    newer = append(3, action="test.later")
    code, output = verify()
    assert code == 0, output
    first = AuditCheckpoint.objects.order_by("id").first()
    assert first is not None
    assert f"verified 3 event(s) after checkpoint {first.pk} (events {newer[0].pk}–{newer[-1].pk})" in output
    second = AuditCheckpoint.objects.latest("id")
    assert second.previous_signature == first.signature
    assert second.event_count == 7
    # Nothing new: nothing read, no checkpoint added.
    code, output = verify()
    assert "verified 0 event(s)" in output and "no new events" in output
    assert AuditCheckpoint.objects.count() == 2


def test_an_empty_trail_verifies_and_signs_nothing() -> None:
    code, output = verify()
    assert code == 0
    assert "verified 0 event(s)" in output
    assert not AuditCheckpoint.objects.exists()


# --- Tampering with events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "test.harmless"),
        ("object_reference", "VR-ANNAN-99"),
        ("actor_username", "nagon-annan"),
        ("reason", "emergency"),
        ("details", {"number": 2, "categories": []}),
        ("occurred_at", datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)),
        ("object_agency", "polis"),
    ],
)
@pytest.mark.parametrize("full", [True, False])
def test_editing_any_field_of_an_event_is_found_and_named(field: str, value: Any, full: bool) -> None:
    events = append(5)
    if not full:
        # A checkpoint before the edited event: the incremental run reads only what follows it.
        sign_checkpoint(verify_chain())
        events += append(3, action="test.later")
    target = events[-2]
    with tampering():
        AuditEvent.objects.filter(pk=target.pk).update(**{field: value})
    code, output = verify(*(["--full"] if full else []))
    assert code == 1
    assert f"event {target.pk} was changed after it was written" in output
    assert f"First broken event: {target.pk}." in output
    run = AuditVerification.objects.latest("id")
    assert (run.ok, run.first_broken_event_id) == (False, target.pk)
    assert AuditCheckpoint.objects.filter(event_id__gte=target.pk).count() == 0, "no checkpoint over a break"


def test_editing_an_event_and_rehashing_the_rest_is_found_by_the_checkpoint() -> None:
    events = append(6)
    verify()
    with tampering():
        AuditEvent.objects.filter(pk=events[2].pk).update(action="test.harmless")
        rehash_from(events[2].pk)
    # The rehashed events keep MACs made for their old hashes (the forger has no key): the first
    # rewritten event is named, by both modes (before MACs, only the checkpoint's event was).
    code, output = verify()
    assert code == 1
    assert f"event {events[-1].pk} does not have the hash checkpoint" in output
    code, output = verify("--full")
    assert code == 1
    assert f"event {events[2].pk} does not carry the application's MAC" in output
    assert f"First broken event: {events[2].pk}." in output


def test_deleting_an_event_is_found_at_the_event_after_it() -> None:
    events = append(5)
    with tampering():
        AuditEvent.objects.filter(pk=events[2].pk).delete()
    code, output = verify("--full")
    assert code == 1
    assert f"event {events[3].pk} does not follow the event before it" in output
    assert f"First broken event: {events[3].pk}." in output


def test_deleting_the_first_event_is_found() -> None:
    events = append(3)
    with tampering():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    code, output = verify("--full")
    assert code == 1
    assert f"First broken event: {events[1].pk}." in output


def test_reordering_events_is_found() -> None:
    events = append(5)
    first, second = events[1], events[2]
    columns = [f.name for f in AuditEvent._meta.fields if f.name != "id"]
    # Swap the two rows' whole content, hashes included: the ids (the order) now disagree with the chain.
    values = {
        event.pk: {name: getattr(event, name) for name in columns}
        for event in AuditEvent.objects.filter(pk__in=[first.pk, second.pk])
    }
    with tampering():
        AuditEvent.objects.filter(pk=first.pk).update(entry_hash="0" * 64)  # free the unique hash
        AuditEvent.objects.filter(pk=second.pk).update(**values[first.pk])
        AuditEvent.objects.filter(pk=first.pk).update(**values[second.pk])
    code, output = verify("--full")
    assert code == 1
    assert f"event {first.pk} does not follow the event before it" in output


def test_inserting_a_forged_event_is_found() -> None:
    events = append(3)
    with tampering():
        AuditEvent.objects.filter(pk=events[2].pk).delete()
        forged = AuditEvent(
            occurred_at=events[2].occurred_at,
            action="test.forged",
            previous_hash=events[1].entry_hash,
            entry_hash="",
        )
        forged.entry_hash = compute_hash(forged, events[1].entry_hash)
        forged.save(force_insert=True)
        AuditEvent.objects.bulk_create([AuditEvent(**_copy(events[2]))])
    code, output = verify("--full")
    assert code == 1
    assert f"event {forged.pk} carries no MAC: it was not written by the application" in output


def _copy(event: AuditEvent) -> dict[str, Any]:
    return {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields if f.name != "id"}


# --- Dropping the newest events ------------------------------------------------------------------------


def test_dropping_the_newest_events_is_found_by_the_checkpoint() -> None:
    events = append(6)
    verify()
    with tampering():
        AuditEvent.objects.filter(pk__gte=events[4].pk).delete()
    code, output = verify()
    assert code == 1
    assert f"event {events[-1].pk}, signed by checkpoint" in output
    assert "is missing" in output
    code, output = verify("--full")
    assert code == 1
    assert f"event {events[-1].pk}, signed by checkpoint" in output
    assert f"the trail now ends at event {events[3].pk}" in output


def test_dropping_events_that_a_verification_saw_is_found_without_a_checkpoint() -> None:
    events = append(4)
    verify("--no-checkpoint")
    assert not AuditCheckpoint.objects.exists()
    with tampering():
        AuditEvent.objects.filter(pk=events[-1].pk).delete()
    code, output = verify()
    assert code == 1
    assert f"the trail ended at event {events[-1].pk} when it was last verified" in output


# --- Checkpoints ---------------------------------------------------------------------------------------


def test_a_forged_checkpoint_signature_is_found() -> None:
    append(3)
    verify()
    checkpoint = AuditCheckpoint.objects.get()
    forged = ("0" if checkpoint.signature[0] != "0" else "1") + checkpoint.signature[1:]
    with tampering():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(signature=forged)
    code, output = verify()
    assert code == 1
    assert f"checkpoint {checkpoint.pk} (event {checkpoint.event_id}) is not valid" in output
    assert "signature does not match" in output


def test_a_checkpoint_moved_to_a_rewritten_head_is_found() -> None:
    events = append(3)
    verify()
    checkpoint = AuditCheckpoint.objects.get()
    with tampering():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(entry_hash=events[1].entry_hash)
    code, output = verify()
    assert code == 1
    assert "signature does not match its content" in output


def test_a_checkpoint_removed_from_the_middle_is_found() -> None:
    for _ in range(3):
        append(2)
        verify()
    middle = AuditCheckpoint.objects.order_by("id")[1]
    with tampering():
        AuditVerification.objects.filter(checkpoint=middle).update(checkpoint=None)
        AuditCheckpoint.objects.filter(pk=middle.pk).delete()
    code, output = verify()
    assert code == 1
    assert "does not follow the checkpoint before it" in output


def test_a_checkpoint_of_an_unknown_key_version_is_found() -> None:
    append(2)
    verify()
    with tampering():
        AuditCheckpoint.objects.update(key_version="gammal")
    code, output = verify()
    assert code == 1
    assert "signing key version 'gammal' is not configured" in output


def test_without_a_signing_key_verification_still_runs_but_refuses_to_sign(monkeypatch) -> None:
    from cases import keys

    append(2)
    monkeypatch.delenv("SKYDDSNAT_AUDIT_SIGNING_KEYS")
    keys.reset_key_provider()
    try:
        code, output = verify()
    finally:
        monkeypatch.undo()
        keys.reset_key_provider()
    assert code == 2
    assert "No audit signing key is configured" in output
    assert not AuditCheckpoint.objects.exists()


# --- The exported file ----------------------------------------------------------------------------------


def test_the_export_holds_every_checkpoint_and_the_public_key(tmp_path: Path) -> None:
    append(2)
    verify()
    append(2)
    path = tmp_path / "kontrollpunkter.jsonl"
    code, output = verify("--export", str(path))
    assert code == 0, output
    assert f"Wrote 2 checkpoint(s) to {path}." in output
    assert path.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["format"] == "skyddsnat-audit-checkpoints"
    assert set(lines[0]["public_keys"]) == {"ta1"}
    assert [line["signature"] for line in lines[1:]] == list(
        AuditCheckpoint.objects.order_by("id").values_list("signature", flat=True)
    )
    assert len(read_checkpoint_file(path)) == 2


def test_a_trail_rewritten_with_its_checkpoints_is_found_by_the_exported_file(tmp_path: Path) -> None:
    events = append(4)
    path = tmp_path / "kontrollpunkter.jsonl"
    assert verify("--export", str(path))[0] == 0
    assert verify("--against", str(path))[0] == 0
    # The forger edits an event, rehashes the chain, and removes the checkpoints and runs that betray it.
    with tampering():
        AuditEvent.objects.filter(pk=events[1].pk).update(action="test.harmless")
        rehash_from(events[1].pk)
        AuditVerification.objects.all().delete()
        AuditCheckpoint.objects.all().delete()
    # Without the key the forger could not make the MACs: the rewrite is seen even without the file,
    # at the first rewritten event.
    code, output = verify("--full", "--no-checkpoint")
    assert code == 1
    assert f"event {events[1].pk} does not carry the application's MAC" in output


def test_a_trail_rolled_back_to_an_older_backup_is_found_by_the_exported_file(tmp_path: Path) -> None:
    append(3)
    verify()
    newer = append(2)
    path = tmp_path / "kontrollpunkter.jsonl"
    verify("--export", str(path))
    with tampering():
        AuditEvent.objects.filter(pk__gte=newer[0].pk).delete()
        AuditVerification.objects.filter(checkpoint__event_id__gte=newer[0].pk).delete()
        AuditCheckpoint.objects.filter(event_id__gte=newer[0].pk).delete()
        AuditVerification.objects.filter(to_event_id__gte=newer[0].pk).delete()
    code, output = verify("--against", str(path))
    assert code == 1
    assert f"event {newer[-1].pk}, signed by checkpoint 2 of the file, is missing" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("hej\n", "line 1: not a checkpoint file exported by verify_audit"),
        ('{"format": "skyddsnat-audit-checkpoints"}\n{"event_id": 1}\n', "line 2: not a checkpoint"),
    ],
)
def test_a_bad_checkpoint_file_is_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "fil.jsonl"
    path.write_text(content)
    code, output = verify("--against", str(path))
    assert code == 2
    assert message in output
    assert not AuditVerification.objects.exists()


def test_export_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "finns.jsonl"
    path.write_text("behåll")
    code, output = verify("--export", str(path))
    assert code == 2
    assert "already exists" in output
    assert path.read_text() == "behåll"


# --- Exit statuses ------------------------------------------------------------------------------------


def test_a_verification_that_cannot_run_has_its_own_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    """3, not 1: an alert must tell a node that cannot verify (a missing privilege, a database that is
    down) from a trail that was tampered with."""
    from django.db import OperationalError

    from access.management.commands import verify_audit as command

    append(2)

    def fails(**kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(command, "verify_chain", fails)
    status, message = verify()
    assert status == command.CRASHED == 3
    assert "could not run (OperationalError: server closed the connection unexpectedly)" in message
    assert "This is not a finding about the trail" in message
    assert "BROKEN" not in message


def test_the_statuses_are_distinct_and_named_in_the_help() -> None:
    from access.management.commands import verify_audit as command

    assert len({command.HOLDS, command.BROKEN, command.MISCONFIGURED, command.CRASHED}) == 4
    help_text = command.Command.help
    for status in ("0 the trail holds", "1 the trail is BROKEN", "2 misconfigured", "3 the verification"):
        assert status in help_text


# --- The checkpointed event and the verification records ---------------------------------------------


def test_editing_the_checkpointed_event_itself_is_found_by_the_default_mode() -> None:
    """The default (hourly) run starts at the newest checkpoint: it recomputes that event's hash from
    its content instead of trusting the stored one. Before, an edit that left the hash column alone
    passed."""
    events = append(4)
    assert verify()[0] == 0
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.event_id == events[-1].pk
    append(1)
    with tampering():
        AuditEvent.objects.filter(pk=events[-1].pk).update(object_reference="VR-ANNAN-99")
    code, output = verify()
    assert code == 1
    assert f"event {events[-1].pk} does not have the hash checkpoint {checkpoint.pk} signed" in output


def test_a_forged_verification_record_is_not_believed() -> None:
    """One INSERT (all the application's role may do to the table) must neither make every later run
    BROKEN for good nor show the granskare a reassuring run that never happened."""
    from access.checkpoints import chain_status

    events = append(3)
    assert verify("--no-checkpoint")[0] == 0
    real = AuditVerification.objects.get()
    AuditVerification.objects.create(
        started_at=real.started_at,
        finished_at=real.finished_at,
        ok=True,
        to_event_id=events[-1].pk + 1_000_000,
        checked=1_000_000,
        signature=real.signature,
        key_version=real.key_version,
    )
    code, output = verify("--no-checkpoint")
    assert code == 0, output
    status = chain_status()
    assert status.last_good_verification is not None
    assert status.last_good_verification.to_event_id == events[-1].pk


def test_a_flood_of_unsigned_verification_records_does_not_hide_the_real_runs() -> None:
    """Sixty made-up records (more than the fifty the panel shows) after a real run: the real run is
    still the last one, for the panel and for the truncation check."""
    from access.checkpoints import chain_status

    events = append(3)
    assert verify("--no-checkpoint")[0] == 0
    real = AuditVerification.objects.get()
    AuditVerification.objects.bulk_create(
        AuditVerification(
            started_at=real.started_at,
            finished_at=real.finished_at,
            ok=False,
            to_event_id=1,
            checked=1,
            signature="",
            key_version="",
        )
        for _number in range(60)
    )
    status = chain_status()
    assert status.last_verification is not None and status.last_verification.pk == real.pk
    assert not status.broken
    # The real run still says the trail reached events[-1]: removing it is still found.
    with tampering():
        AuditEvent.objects.filter(pk=events[-1].pk).delete()
    code, output = verify("--no-checkpoint")
    assert code == 1
    assert f"ended at event {events[-1].pk} when it was last verified" in output


def test_verification_records_are_signed_and_a_changed_one_is_not() -> None:
    from access.checkpoints import is_signed

    append(2)
    verify()
    record = AuditVerification.objects.get()
    assert record.signature and record.key_version
    assert is_signed(record)
    record.checked += 1
    assert not is_signed(record)


# --- Event MACs ----------------------------------------------------------------------------------------


def _forge_after(last: AuditEvent, **fields: Any) -> AuditEvent:
    """What someone with INSERT and no key can do: append an event that chains correctly."""
    forged = AuditEvent(
        occurred_at=last.occurred_at, action="case.read", object_reference="VR-FALSK-11", previous_hash=""
    )
    forged.previous_hash = last.entry_hash
    forged.entry_hash = compute_hash(forged, last.entry_hash)
    for name, value in fields.items():
        setattr(forged, name, value)
    forged.save(force_insert=True)
    return forged


@pytest.mark.parametrize(
    "mac", [{}, {"mac_version": "ta1", "mac": "0" * 64}, {"mac_version": "okand", "mac": "a" * 64}]
)
def test_a_correctly_chained_forged_event_is_found_by_the_hourly_run(mac: dict[str, str]) -> None:
    """Before MACs the chain was an unkeyed SHA-256: one INSERT appended an event that verified."""
    events = append(3)
    assert verify()[0] == 0
    forged = _forge_after(events[-1], **mac)
    code, output = verify()
    assert code == 1, output
    assert f"First broken event: {forged.pk}." in output
    assert not AuditCheckpoint.objects.filter(event_id=forged.pk).exists(), "nothing signed over a forgery"


def test_every_event_carries_a_mac_under_the_current_key() -> None:
    from access.audit import event_mac, mac_key
    from access.checkpoints import audit_keys

    (event,) = append(1)
    keys = audit_keys()
    assert event.mac_version == keys.current_audit_signing_version()
    assert event.mac == event_mac(event.entry_hash, mac_key(keys.audit_signing_key(event.mac_version)))


def test_events_from_before_macs_pass_when_the_operator_says_where_macs_begin(settings: Any) -> None:
    events = append(4)
    with tampering():
        AuditEvent.objects.filter(pk__lte=events[1].pk).update(mac="", mac_version="")
    code, output = verify("--full")
    assert code == 1
    assert f"event {events[0].pk} carries no MAC" in output
    settings.AUDIT_MAC_REQUIRED_FROM = events[2].pk
    assert verify("--full")[0] == 0
