"""Model changes through django-auditlog, tied into the hash-chained trail.

Which models are tracked, and which of their fields are masked, is declared in settings
(AUDITLOG_INCLUDE_TRACKING_MODELS, from coordination/audit_tracking.py). Three things make auditlog fit here:

- Masking is a constant (``MASK``), never auditlog's default of half the value: a sealed column, a blind
  index or a password hash shows only *that* it changed.
- The client address comes from access/network.py (only a configured, trusted proxy may name it), not
  from whatever X-Forwarded-For a client sends, which auditlog's own middleware would believe.
- Every LogEntry gets a chained AuditEvent ("model.create" / "model.update" / "model.delete") that names
  the entry, the changed field names and a SHA-256 of what the entry recorded, so a LogEntry edited
  later no longer matches the chain (the LogEntry table is append-only on PostgreSQL as well).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.signals import post_log
from django.db import transaction
from django.http import HttpRequest

from access.audit import record_event
from access.context import current_request
from access.network import client_ip

MASK = "********"

CHAINED_ACTIONS = {
    LogEntry.Action.CREATE: "model.create",
    LogEntry.Action.UPDATE: "model.update",
    LogEntry.Action.DELETE: "model.delete",
}


def constant_mask(value: str) -> str:
    """AUDITLOG_MASK_CALLABLE: the same mask whatever the value, so not even its length shows."""
    return MASK


class AuditlogMiddleware(_AuditlogMiddleware):  # type: ignore[misc]  # auditlog has no type hints
    """auditlog's middleware (actor and correlation id for every LogEntry of the request), with the
    client address taken the trusted way."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_ip(request) or None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None


# The digest formats of a LogEntry. 1 covered five columns (content type, object, action, changes,
# actor): an edit to the timestamp, the repr, the client address, changes_text, cid or additional_data
# went unseen. 2 covers every stored column. Events name the format they used ("digest"; none: 1), so
# entries chained before keep verifying.
DIGEST_FORMAT = 2


def _stored(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return value


def changes_digest(entry: LogEntry, digest_format: int = DIGEST_FORMAT) -> str:
    """SHA-256 of what a LogEntry recorded, as the chained event names it (in ``digest_format``)."""
    content: dict[str, object]
    if digest_format == 1:
        content = {
            "content_type": entry.content_type_id,
            "object_pk": str(entry.object_pk),
            "action": entry.action,
            "changes": entry.changes,
            "actor": entry.actor_id,
        }
    else:
        content = {
            field.attname: _stored(field.value_from_object(entry)) for field in LogEntry._meta.concrete_fields
        }
        content["object_pk"] = str(entry.object_pk)
        content["format"] = digest_format
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def chain_log_entry(sender: type[Any], log_entry: LogEntry | None = None, **kwargs: Any) -> None:
    """post_log receiver: the chained event for a LogEntry, in the transaction of the change."""
    if log_entry is None or log_entry.action not in CHAINED_ACTIONS:
        return
    changes = log_entry.changes if isinstance(log_entry.changes, dict) else {}
    meta = sender._meta
    # The request (its id and client address) when the change came through one; else the system's.
    request = current_request.get()
    with transaction.atomic():
        record_event(
            CHAINED_ACTIONS[log_entry.action],
            actor=log_entry.actor,
            request=request,
            object_type=meta.label_lower,
            details={
                "log_entry": log_entry.pk,
                "object_pk": str(log_entry.object_pk),
                "fields": sorted(changes),
                "sha256": changes_digest(log_entry),
                "digest": DIGEST_FORMAT,
            },
        )


post_log.connect(chain_log_entry, dispatch_uid="access.auditing.chain_log_entry")
