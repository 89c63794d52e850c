"""Audit events for the compliance tests, written straight into the trail.

Written directly rather than through record_event so a test can choose the time, agencies and grounds
of each event. The hashes are random: these tests are about reading the trail, not its chain.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from access.models import AuditEvent, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """A moment in Swedish local time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def make_event(
    action: str = "case.read",
    *,
    actor: User | None = None,
    username: str | None = None,
    agency: str = "soc-vuxen",
    owner: str = "soc-vuxen",
    reference: str = "VR-AAAA-11",
    reason: str = "owner",
    role: str = "handlaggare",
    at: datetime.datetime | None = None,
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> AuditEvent:
    values: dict[str, Any] = {
        "occurred_at": at or timezone.now(),
        "actor": actor,
        "actor_username": username if username is not None else (actor.username if actor else ""),
        "agency_code": agency,
        "role": role,
        "action": action,
        "object_type": "case" if reference else "",
        "object_reference": reference,
        "object_agency": owner,
        "reason": reason,
        "request_id": uuid.uuid4().hex,
        "client_address": "192.0.2.10",
        "details": details if details is not None else {},
        "previous_hash": uuid.uuid4().hex * 2,
        "entry_hash": uuid.uuid4().hex * 2,
    }
    values.update(fields)
    return AuditEvent.objects.create(**values)
