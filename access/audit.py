"""Writing the audit trail: append-only and hash-chained.

Every entry's hash covers its own content and the previous entry's hash. Appends are serialised: on
PostgreSQL by an advisory transaction lock, on SQLite by its single writer (IMMEDIATE transactions), so
two concurrent appends can never both claim the same predecessor.

``record_event`` must run inside the caller's transaction: a read of personal data and its audit entry
commit together or not at all (no audit, no data).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from access.models import AuditEvent, Membership, User
from access.network import client_ip

GENESIS_HASH = "0" * 64
# Any constant will do; it names the lock that serialises appends on PostgreSQL.
_APPEND_LOCK_ID = 0x5C7DD9A7


MAC_LABEL = b"skyddsnat/audit-event-mac/v1"


def mac_key(signing_key: bytes) -> bytes:
    """The MAC key of one audit signing key version (derived, so no second secret to manage)."""
    return hmac.new(signing_key, MAC_LABEL, hashlib.sha256).digest()


def event_mac(entry_hash: str, key: bytes) -> str:
    return hmac.new(key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def _current_mac_key() -> tuple[str, bytes] | None:
    """(version, key) of the current audit signing key, or None where none is configured (development;
    production refuses to start without one, cases/checks.py)."""
    try:
        keys = import_string(settings.AUDIT_SIGNING_KEYS)()
        version = keys.current_audit_signing_version()
        return version, mac_key(keys.audit_signing_key(version))
    except Exception:  # noqa: BLE001 - the provider's own error type: no key, so no MAC
        return None


class AuditWriteError(Exception):
    """The audit entry could not be written; whatever it was to record must not happen."""


# What an entry's reason and the strings in its details may be: a code, a reference, an id, a date, a
# username. No whitespace and at most 64 characters, so no sentence, name-and-surname or note typed by
# a user can ever land in the trail that granskare of several agencies read (typed text is sealed with
# the case's key instead, as cases.models.ExportNote is). A value of another shape is refused: the
# event, and with it what it records, does not happen.
_TOKEN = re.compile(r"[^\s]{0,64}")


def _prose_in(value: Any, where: str) -> str | None:
    """Where ``value`` holds something that is not a token (see ``_TOKEN``), or None."""
    if isinstance(value, str):
        return None if _TOKEN.fullmatch(value) else where
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _prose_in(str(key), f"{where} key") or _prose_in(item, f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _prose_in(item, f"{where}[{index}]")
            if found:
                return found
        return None
    if value is None or isinstance(value, bool | int | float):
        return None
    return f"{where} ({type(value).__name__})"


# The fields an entry's hash covers, in the order verification reads them (access/checkpoints.py).
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "agency_code",
    "role",
    "action",
    "object_type",
    "object_reference",
    "object_agency",
    "reason",
    "request_id",
    "client_address",
    "details",
)


def canonical_content(values: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers: its fields (as named in HASHED_FIELDS) as canonical JSON."""
    content: dict[str, Any] = {
        "occurred_at": values["occurred_at"].isoformat(),
        "actor": values["actor_id"],
        "actor_username": values["actor_username"],
        "agency_code": values["agency_code"],
        "role": values["role"],
        "action": values["action"],
        "object_type": values["object_type"],
        "object_reference": values["object_reference"],
        "reason": values["reason"],
        "request_id": values["request_id"],
        "client_address": values["client_address"],
        "details": values["details"],
    }
    # Added after the first events were written: an empty value is left out, so older entries keep the
    # hash they were written with.
    if values["object_agency"]:
        content["object_agency"] = values["object_agency"]
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(values: Mapping[str, Any], previous_hash: str) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + b"|" + canonical_content(values)).hexdigest()


def compute_hash(event: AuditEvent, previous_hash: str) -> str:
    return chain_hash({name: getattr(event, name) for name in HASHED_FIELDS}, previous_hash)


def _address(request: HttpRequest | None, given: str | None) -> str:
    if given is not None:
        return given
    return client_ip(request) if request is not None else ""


def _lock_chain() -> None:
    connection = connections[AuditEvent.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPEND_LOCK_ID])


def hold_append_lock() -> None:
    """Take the lock that serialises appends, for the rest of the caller's transaction: for a decision
    counted from the trail (a rate limit) that must not race a concurrent append of the same kind."""
    if not transaction.get_connection(AuditEvent.objects.db).in_atomic_block:
        raise AuditWriteError("hold_append_lock must run inside a transaction.")
    _lock_chain()


def record_event(
    action: str,
    *,
    actor: User | None,
    request: HttpRequest | None = None,
    membership: Membership | None = None,
    object_type: str = "",
    object_reference: str = "",
    object_agency: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
    client_address: str | None = None,
) -> AuditEvent:
    """Append one event. ``details`` must hold only non-sensitive values (ids, counts, field names).
    ``client_address`` is for callers that have the address but not the request (auditlog's context)."""
    if not transaction.get_connection(AuditEvent.objects.db).in_atomic_block:
        raise AuditWriteError("record_event must run inside the transaction of what it records.")
    prose = _prose_in(reason, "reason") or _prose_in(details or {}, "details")
    if prose:
        # The message names where, never the value (it may be exactly what must not be written down).
        raise AuditWriteError(f"The audit entry for {action!r} holds text in {prose}; only codes may.")
    try:
        with transaction.atomic():
            _lock_chain()
            previous = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
            previous_hash = previous or GENESIS_HASH
            event = AuditEvent(
                occurred_at=timezone.now(),
                actor=actor,
                actor_username=actor.get_username() if actor else "",
                agency_code=membership.agency.code if membership else "",
                role=membership.role if membership else "",
                action=action,
                object_type=object_type,
                object_reference=object_reference,
                object_agency=object_agency,
                reason=reason,
                request_id=getattr(request, "request_id", "") if request else "",
                client_address=_address(request, client_address),
                details=details or {},
                previous_hash=previous_hash,
            )
            event.entry_hash = compute_hash(event, previous_hash)
            current = _current_mac_key()
            if current is not None:
                event.mac_version, event.mac = current[0], event_mac(event.entry_hash, current[1])
            event.save(force_insert=True)
            return event
    except AuditWriteError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure to audit must stop the audited operation
        raise AuditWriteError(f"The audit entry for {action!r} could not be written.") from error
