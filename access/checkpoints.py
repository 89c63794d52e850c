"""Verifying the audit trail and signing checkpoints of it.

The chain (access/audit.py) makes a changed, removed or reordered event visible: every event's hash
covers its content and its predecessor's hash. It cannot by itself reveal two things: events dropped
from the end, and a chain rewritten from scratch with fresh hashes. Signed checkpoints close both:

- A checkpoint is an Ed25519 signature over the chain's head (the last event's id and hash, the number
  of events up to it) and over the previous checkpoint's signature. The signing key comes from the key
  provider, never from the database, so whoever can rewrite the database cannot make one.
- Verification fails when a checkpoint's event is gone or has another hash (truncation, rewriting),
  when a checkpoint's signature is wrong, and when checkpoints are missing from the middle of theirs.
- The granskare exports the checkpoints to a file kept outside the system (``verify_audit --export``,
  or the download on the compliance page). Checked against that file (``verify_audit --against``), a
  database rolled back to an older state, checkpoints and all, is found out too.

Verification is incremental: it starts from the newest checkpoint (each made only after a successful
verification) and reads only the events after it. ``full`` reads the whole chain from the start.
"""

from __future__ import annotations

import datetime
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from auditlog.models import LogEntry
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import import_string

from access.audit import GENESIS_HASH, HASHED_FIELDS, chain_hash, event_mac, mac_key
from access.auditing import CHAINED_ACTIONS, changes_digest
from access.models import AuditEvent
from access.models_chain import AuditCheckpoint, AuditVerification

SIGNATURE_FORMAT = "skyddsnat-audit-checkpoint-v1"
EXPORT_FORMAT = "skyddsnat-audit-checkpoints"
BATCH_SIZE = 5000
LOG_ENTRY_ACTIONS = frozenset(CHAINED_ACTIONS.values())


class AuditKeys(Protocol):
    """What signs and verifies checkpoints: settings.AUDIT_SIGNING_KEYS names a callable returning it."""

    def current_audit_signing_version(self) -> str: ...

    def audit_signing_key(self, version: str) -> bytes: ...


class CheckpointFileError(Exception):
    """A checkpoint file that cannot be read; the message says where and why, in plain English."""


def audit_keys() -> AuditKeys:
    source: AuditKeys = import_string(settings.AUDIT_SIGNING_KEYS)()
    return source


@dataclass(frozen=True)
class SignedHead:
    """A checkpoint's content as signed, whether from the database or from an exported file."""

    event_id: int
    entry_hash: str
    event_count: int
    created_at: datetime.datetime
    key_version: str
    previous_signature: str
    signature: str

    @classmethod
    def of(cls, checkpoint: AuditCheckpoint) -> SignedHead:
        return cls(
            event_id=checkpoint.event_id,
            entry_hash=checkpoint.entry_hash,
            event_count=checkpoint.event_count,
            created_at=checkpoint.created_at,
            key_version=checkpoint.key_version,
            previous_signature=checkpoint.previous_signature,
            signature=checkpoint.signature,
        )

    def message(self) -> bytes:
        return signed_message(
            self.event_id,
            self.entry_hash,
            self.event_count,
            self.created_at,
            self.key_version,
            self.previous_signature,
        )


def signed_message(
    event_id: int,
    entry_hash: str,
    event_count: int,
    created_at: datetime.datetime,
    key_version: str,
    previous_signature: str,
) -> bytes:
    created = created_at.astimezone(datetime.UTC).isoformat()
    parts = [SIGNATURE_FORMAT, str(event_id), entry_hash, str(event_count), created, key_version]
    return "|".join([*parts, previous_signature]).encode("ascii")


VERIFICATION_FORMAT = "skyddsnat-audit-verification/v1"


def verification_message(verification: AuditVerification) -> bytes:
    """Everything a verification record says, as the bytes its signature covers."""
    parts = [
        VERIFICATION_FORMAT,
        verification.started_at.astimezone(datetime.UTC).isoformat(),
        verification.finished_at.astimezone(datetime.UTC).isoformat(),
        str(int(verification.full)),
        str(verification.from_event_id),
        str(verification.to_event_id),
        str(verification.checked),
        str(int(verification.ok)),
        str(verification.first_broken_event_id),
        verification.problem,
        str(verification.checkpoint_id),
        verification.key_version,
    ]
    return "|".join(parts).encode("utf-8")


def is_signed(verification: AuditVerification, keys: AuditKeys | None = None) -> bool:
    """Whether the record was written by verify_audit (signed with a configured key) and not since
    changed. Only such records are believed: anyone with INSERT can write the others."""
    if not verification.signature:
        return False
    try:
        keys = keys or audit_keys()
        public = Ed25519PublicKey.from_public_bytes(
            bytes.fromhex(public_key_hex(keys, verification.key_version))
        )
        public.verify(bytes.fromhex(verification.signature), verification_message(verification))
    except Exception:  # noqa: BLE001 - any failure (unknown key, bad hex, wrong signature) means "not signed"
        return False
    return True


# How far back past unsigned verification records the search for signed ones goes: rows anyone with
# INSERT can add must not push the real runs out of sight (a flood of 50 did, before), nor make every
# page that shows the chain's state read an unbounded table.
VERIFICATIONS_SCANNED = 10_000


def signed_verifications(
    limit: int = 50, scanned: int = VERIFICATIONS_SCANNED
) -> Iterator[AuditVerification]:
    """The ``limit`` newest verification records that are validly signed, newest first, looked for among
    the newest ``scanned`` records (unsigned ones, which anyone with INSERT could write, are skipped)."""
    try:
        keys = audit_keys()
    except Exception:  # noqa: BLE001 - no key provider configured: nothing can be believed
        return
    found = 0
    for verification in AuditVerification.objects.order_by("-id")[:scanned].iterator(chunk_size=limit):
        if is_signed(verification, keys):
            yield verification
            found += 1
            if found >= limit:
                return


def public_key_hex(keys: AuditKeys, version: str) -> str:
    private = Ed25519PrivateKey.from_private_bytes(keys.audit_signing_key(version))
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def signature_problem(head: SignedHead, keys: AuditKeys) -> str:
    """Why ``head``'s signature does not hold, or "" when it does."""
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex(keys, head.key_version)))
    except Exception:  # noqa: BLE001 - an unknown version or an unusable key: the checkpoint cannot hold
        return f"its signing key version {head.key_version!r} is not configured"
    try:
        public.verify(bytes.fromhex(head.signature), head.message())
    except (InvalidSignature, ValueError):
        return "its signature does not match its content"
    return ""


# --- Verifying ------------------------------------------------------------------------------------


@dataclass
class ChainReport:
    full: bool
    # The checkpoint verification started from (None: from the first event).
    start_checkpoint: int | None = None
    checked: int = 0
    from_event_id: int | None = None
    to_event_id: int | None = None
    head_hash: str = GENESIS_HASH
    head_count: int | None = None
    first_broken_event_id: int | None = None
    problem: str = ""
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problem

    def broken(self, problem: str, event_id: int | None = None) -> ChainReport:
        if self.ok:
            self.problem = problem
            self.first_broken_event_id = event_id
        return self


class _Macs:
    """Checks each event's MAC. From settings.AUDIT_MAC_REQUIRED_FROM on, an event without a MAC, or with
    a wrong one, was not written by the application. Where no signing key is configured at all, no MAC
    can be checked (the run says so, and cannot sign a checkpoint either)."""

    def __init__(self, keys: AuditKeys, report: ChainReport) -> None:
        self.keys = keys
        self.required_from: int = settings.AUDIT_MAC_REQUIRED_FROM
        self._keys: dict[str, bytes | None] = {}
        try:
            keys.current_audit_signing_version()
        except Exception:  # noqa: BLE001 - the provider's own error type: nothing to check with
            self.enabled = False
            report.notes.append("event MACs not checked: no audit signing key is configured")
        else:
            self.enabled = True

    def _key(self, version: str) -> bytes | None:
        if version not in self._keys:
            try:
                self._keys[version] = mac_key(self.keys.audit_signing_key(version))
            except Exception:  # noqa: BLE001 - an unknown version: no event of it can hold
                self._keys[version] = None
        return self._keys[version]

    def problem(self, event_id: int, entry_hash: str, version: str, mac: str) -> str:
        if not self.enabled:
            return ""
        if not mac:
            if event_id >= self.required_from:
                return (
                    f"event {event_id} carries no MAC: it was not written by the application (a trail "
                    "written before MACs sets SKYDDSNAT_AUDIT_MAC_REQUIRED_FROM to its first event with one)"
                )
            return ""
        key = self._key(version)
        if key is None:
            return f"event {event_id} names MAC key version {version!r}, which is not configured"
        if not hmac.compare_digest(event_mac(entry_hash, key), mac):
            return (
                f"event {event_id} does not carry the application's MAC: it was forged, or the trail "
                "was rewritten from here"
            )
        return ""


def _events_after(after: int, up_to: int) -> Iterator[tuple[Any, ...]]:
    columns = ("id", "previous_hash", "entry_hash", "mac_version", "mac", *HASHED_FIELDS)
    rows = AuditEvent.objects.filter(id__gt=after, id__lte=up_to).order_by("id").values_list(*columns)
    yield from rows.iterator(chunk_size=BATCH_SIZE)


def _check_checkpoints(checkpoints: list[AuditCheckpoint], keys: AuditKeys, report: ChainReport) -> None:
    """Every checkpoint's signature, and the link from each to the one before it."""
    previous_signature = ""
    for checkpoint in checkpoints:
        head = SignedHead.of(checkpoint)
        problem = signature_problem(head, keys)
        if problem:
            report.broken(f"checkpoint {checkpoint.pk} (event {checkpoint.event_id}) is not valid: {problem}")
            return
        if head.previous_signature != previous_signature:
            report.broken(
                f"checkpoint {checkpoint.pk} does not follow the checkpoint before it: a checkpoint is "
                "missing or was replaced"
            )
            return
        previous_signature = head.signature
        report.checkpoints_checked += 1


def verify_chain(*, full: bool = False, against: Iterable[SignedHead] = ()) -> ChainReport:
    """Check the chain (from the newest checkpoint, or from the start when ``full``), every checkpoint,
    and the checkpoints of an exported file. The report names the first broken event it found."""
    report = ChainReport(full=full)
    keys = audit_keys()
    checkpoints = list(AuditCheckpoint.objects.order_by("id"))
    _check_checkpoints(checkpoints, keys, report)
    if not report.ok:
        return report
    head_id = AuditEvent.objects.aggregate(head=Max("id"))["head"] or 0

    start = None if full or not checkpoints else checkpoints[-1]
    after, running, count = 0, GENESIS_HASH, 0
    macs = _Macs(keys, report)
    if start is not None:
        columns = ("previous_hash", "entry_hash", "mac_version", "mac", *HASHED_FIELDS)
        row = AuditEvent.objects.filter(id=start.event_id).values_list(*columns).first()
        if row is None:
            return report.broken(
                f"event {start.event_id}, signed by checkpoint {start.pk}, is missing: events were removed",
                start.event_id,
            )
        values = dict(zip(HASHED_FIELDS, row[4:], strict=True))
        # Recomputed from its content, not taken from its stored hash: an edit that keeps the hash
        # column as it was is found too.
        if row[1] != start.entry_hash or chain_hash(values, row[0]) != start.entry_hash:
            return report.broken(
                f"event {start.event_id} does not have the hash checkpoint {start.pk} signed: it was changed",
                start.event_id,
            )
        mac_problem = macs.problem(start.event_id, row[1], row[2], row[3])
        if mac_problem:
            return report.broken(mac_problem, start.event_id)
        after, running, count = start.event_id, start.entry_hash, start.event_count
        report.start_checkpoint = start.pk
    report.head_hash, report.head_count = running, count

    by_event = {checkpoint.event_id: checkpoint for checkpoint in checkpoints if checkpoint.event_id > after}
    log_entries: list[tuple[int, Any]] = []
    for row in _events_after(after, head_id):
        event_id, previous_hash, entry_hash, mac_version, mac = row[:5]
        values = dict(zip(HASHED_FIELDS, row[5:], strict=True))
        if report.from_event_id is None:
            report.from_event_id = event_id
        if previous_hash != running:
            return report.broken(
                f"event {event_id} does not follow the event before it: an event before it was removed, "
                "inserted or changed, or the events were reordered",
                event_id,
            )
        if chain_hash(values, previous_hash) != entry_hash:
            return report.broken(f"event {event_id} was changed after it was written", event_id)
        mac_problem = macs.problem(event_id, entry_hash, mac_version, mac)
        if mac_problem:
            return report.broken(mac_problem, event_id)
        if values["action"] in LOG_ENTRY_ACTIONS:
            log_entries.append((event_id, values["details"]))
            if len(log_entries) >= BATCH_SIZE and not _check_log_entries(log_entries, report):
                return report
        running, count = entry_hash, count + 1
        report.checked += 1
        report.to_event_id, report.head_hash, report.head_count = event_id, running, count
        checkpoint = by_event.pop(event_id, None)
        if checkpoint is not None and (
            checkpoint.entry_hash != entry_hash or checkpoint.event_count != count
        ):
            return report.broken(
                f"event {event_id} is not the event checkpoint {checkpoint.pk} signed: "
                "the trail was rewritten",
                event_id,
            )
    if not _check_log_entries(log_entries, report):
        return report
    if by_event:
        missing = min(by_event)
        return report.broken(
            f"event {missing}, signed by checkpoint {by_event[missing].pk}, is missing: the newest events "
            f"were removed (the trail now ends at event {report.to_event_id or after})",
            missing,
        )
    _check_against_last_run(report, head_id)
    if report.ok:
        _check_against_file(list(against), checkpoints, keys, report)
    return report


def _check_log_entries(pending: list[tuple[int, Any]], report: ChainReport) -> bool:
    """Each django-auditlog entry still holds what its chained event's digest says (and empties
    ``pending``). False, with the report marked broken, at the first that does not."""
    wanted = {
        int(details["log_entry"]): (event_id, details.get("sha256"), int(details.get("digest", 1)))
        for event_id, details in pending
    }
    pending.clear()
    found = {entry.pk: entry for entry in LogEntry.objects.filter(pk__in=wanted)}
    for entry_id, (event_id, digest, digest_format) in sorted(wanted.items(), key=lambda item: item[1][0]):
        entry = found.get(entry_id)
        if entry is None or changes_digest(entry, digest_format) != digest:
            what = "is missing" if entry is None else "was changed"
            report.broken(
                f"the model change log entry {entry_id} recorded by event {event_id} {what}", event_id
            )
            return False
    return True


def _check_against_last_run(report: ChainReport, head_id: int) -> None:
    # Only a signed record: one INSERT of a made-up "verified up to event 10^9" would otherwise report
    # every later run BROKEN for good.
    last = next((run for run in signed_verifications() if run.ok), None)
    if last is not None and last.to_event_id is not None and last.to_event_id > head_id:
        report.broken(
            f"the trail ended at event {last.to_event_id} when it was last verified and now ends at event "
            f"{head_id}: the newest events were removed",
            head_id + 1 if head_id else None,
        )


def _check_against_file(
    heads: list[SignedHead], checkpoints: list[AuditCheckpoint], keys: AuditKeys, report: ChainReport
) -> None:
    known = {checkpoint.signature for checkpoint in checkpoints}
    for number, head in enumerate(heads, start=1):
        problem = signature_problem(head, keys)
        if problem:
            report.broken(f"checkpoint {number} of the file is not valid: {problem}")
            return
        stored = AuditEvent.objects.filter(id=head.event_id).values_list("entry_hash", flat=True).first()
        if stored != head.entry_hash:
            what = "is missing" if stored is None else "has another hash"
            report.broken(
                f"event {head.event_id}, signed by checkpoint {number} of the file, {what}: the trail was "
                "rewritten or rolled back",
                head.event_id,
            )
            return
        if head.signature not in known:
            report.broken(
                f"checkpoint {number} of the file (event {head.event_id}) is missing from the database"
            )
            return
        report.checkpoints_checked += 1


# --- Signing and recording ------------------------------------------------------------------------


# Names the advisory lock that serialises signing on PostgreSQL (any constant; not the append lock's).
_SIGNING_LOCK_ID = 0x536B7964_5369676E  # "SkydSign"


def _lock_signing() -> None:
    """Two signers at once must not both chain onto the same previous checkpoint. A row lock (SELECT
    ... FOR UPDATE) needs the UPDATE privilege, which deploy/postgres/grants.sql rightly withholds from
    the application on the checkpoint table: an advisory transaction lock needs none. SQLite has one
    writer at a time anyway."""
    connection = connections[AuditCheckpoint.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SIGNING_LOCK_ID])


def sign_checkpoint(report: ChainReport) -> AuditCheckpoint | None:
    """A new checkpoint at the head ``report`` verified, if there is an event it does not cover yet."""
    if not report.ok or report.to_event_id is None or report.head_count is None:
        return None
    keys = audit_keys()
    try:
        version = keys.current_audit_signing_version()
    except Exception as error:  # noqa: BLE001 - the provider's own error type; its message says what is missing
        raise ImproperlyConfigured(str(error)) from None
    with transaction.atomic(using=AuditCheckpoint.objects.db):
        _lock_signing()
        previous = AuditCheckpoint.objects.order_by("-id").first()
        if previous is not None and previous.event_id >= report.to_event_id:
            return None
        created_at = timezone.now()
        previous_signature = previous.signature if previous else ""
        message = signed_message(
            report.to_event_id, report.head_hash, report.head_count, created_at, version, previous_signature
        )
        signature = Ed25519PrivateKey.from_private_bytes(keys.audit_signing_key(version)).sign(message)
        return AuditCheckpoint.objects.create(
            event_id=report.to_event_id,
            entry_hash=report.head_hash,
            event_count=report.head_count,
            created_at=created_at,
            key_version=version,
            previous_signature=previous_signature,
            signature=signature.hex(),
        )


def record_verification(
    report: ChainReport, started_at: datetime.datetime, checkpoint: AuditCheckpoint | None
) -> AuditVerification:
    """The run's record, signed with the current audit signing key (unsigned if no key is configured:
    then it is shown but never believed)."""
    verification = AuditVerification(
        started_at=started_at,
        # Whole microseconds survive every database, so the signed text is the stored one.
        finished_at=timezone.now(),
        full=report.full,
        from_event_id=report.from_event_id,
        to_event_id=report.to_event_id,
        checked=report.checked,
        ok=report.ok,
        first_broken_event_id=report.first_broken_event_id,
        problem=report.problem[:500],
        checkpoint=checkpoint,
    )
    keys = audit_keys()
    try:
        verification.key_version = keys.current_audit_signing_version()
        private = Ed25519PrivateKey.from_private_bytes(keys.audit_signing_key(verification.key_version))
    except Exception:  # noqa: BLE001 - the provider's own error type; the record stays unsigned
        verification.key_version = ""
    else:
        verification.signature = private.sign(verification_message(verification)).hex()
    verification.save(force_insert=True)
    return verification


# --- The exported file ----------------------------------------------------------------------------


def export_checkpoints(out: TextIO) -> int:
    """Write every checkpoint as JSON Lines: a header naming the public keys, then one line each."""
    keys = audit_keys()
    checkpoints = list(AuditCheckpoint.objects.order_by("id"))
    versions = sorted({checkpoint.key_version for checkpoint in checkpoints})
    header = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "public_keys": {version: public_key_hex(keys, version) for version in versions},
    }
    out.write(json.dumps(header, sort_keys=True) + "\n")
    for checkpoint in checkpoints:
        line = {
            "event_id": checkpoint.event_id,
            "entry_hash": checkpoint.entry_hash,
            "event_count": checkpoint.event_count,
            "created_at": checkpoint.created_at.astimezone(datetime.UTC).isoformat(),
            "key_version": checkpoint.key_version,
            "previous_signature": checkpoint.previous_signature,
            "signature": checkpoint.signature,
        }
        out.write(json.dumps(line, sort_keys=True) + "\n")
    return len(checkpoints)


def read_checkpoint_file(path: Path) -> list[SignedHead]:
    """The checkpoints of an exported file; CheckpointFileError names the line that is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointFileError(f"{path} cannot be read: {error}") from None
    if not lines:
        raise CheckpointFileError(f"{path} is empty.")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise CheckpointFileError(f"{path} line 1: not a checkpoint file exported by verify_audit.")
    heads = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            heads.append(
                SignedHead(
                    event_id=int(data["event_id"]),
                    entry_hash=str(data["entry_hash"]),
                    event_count=int(data["event_count"]),
                    created_at=datetime.datetime.fromisoformat(str(data["created_at"])),
                    key_version=str(data["key_version"]),
                    previous_signature=str(data["previous_signature"]),
                    signature=str(data["signature"]),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise CheckpointFileError(f"{path} line {number}: not a checkpoint ({error}).") from None
    return heads


# --- The granskare's panel ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainStatus:
    """What the compliance page says about the chain: the latest verification and checkpoint."""

    last_verification: AuditVerification | None
    last_good_verification: AuditVerification | None
    last_checkpoint: AuditCheckpoint | None
    checkpoint_count: int
    events_since_checkpoint: int

    @property
    def broken(self) -> bool:
        return self.last_verification is not None and not self.last_verification.ok


def chain_status() -> ChainStatus:
    last_checkpoint = AuditCheckpoint.objects.order_by("-id").first()
    since = AuditEvent.objects.filter(id__gt=last_checkpoint.event_id if last_checkpoint else 0)
    # Only records verify_audit signed: anyone with INSERT could write a reassuring one.
    signed = list(signed_verifications())
    return ChainStatus(
        last_verification=signed[0] if signed else None,
        last_good_verification=next((run for run in signed if run.ok), None),
        last_checkpoint=last_checkpoint,
        checkpoint_count=AuditCheckpoint.objects.count(),
        events_since_checkpoint=since.count(),
    )
