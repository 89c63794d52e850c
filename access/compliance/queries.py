"""Reading the trail for the granskare: the filters, the keyset pages, and the aggregates of one case
and one user.

Every function here takes a queryset that already went through ``visible_to_auditor``; none of them
widens it. Pages are keyset pages on ``id`` (newest first, "older than" a cursor): no OFFSET and no
COUNT of the whole selection, so the thousandth page costs what the first does at millions of events.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections, router
from django.db.models import Count, Max, Min, Q

from access.compliance.labels import action_label, reason_label, role_label
from access.models import Agency, AuditEvent, AuditEventQuerySet, Membership, Role, User, auditor_scope

PAGE_SIZE = 50
# The trail stores UTC; the granskare's dates and "office hours" are Swedish local time, whatever the
# server's or the browser's time zone.
LOCAL_TIME = ZoneInfo("Europe/Stockholm")


def auditor_memberships(user: User) -> list[Membership]:
    """The user's active granskare roles; empty for everyone else."""
    return list(Membership.objects.active().select_related("agency").filter(user=user, role=Role.GRANSKARE))


def acting_membership(memberships: list[Membership], agency_code: str = "") -> Membership:
    """The granskare role a read is recorded under: that of ``agency_code`` if the user has it."""
    for membership in memberships:
        if membership.agency.code == agency_code:
            return membership
    return memberships[0]


def reference_variants(reference: str) -> list[str]:
    """Case references are upper case (VR-7K3F-Q9); a few other objects use lower-case codes. Both
    spellings as exact values, so the (object_reference, -id) index serves a case-insensitive match."""
    normalised = reference.strip().upper()
    return sorted({normalised, normalised.lower()})


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=LOCAL_TIME)


@dataclass(frozen=True)
class EventFilters:
    """What a granskare narrows the trail by. None of it is personal data of a protected person, so it
    may travel in a query string; the search has no field for a name or number."""

    username: str = ""
    agency: str = ""
    reference: str = ""
    # An exact action code, or a prefix ending in "." (``case.``) for a family of actions.
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    def apply(self, events: AuditEventQuerySet) -> AuditEventQuerySet:
        if self.username:
            # The current username, resolved to the user first: the (actor, -id) index then finds their
            # events, including those written under an earlier username.
            actors = list(User.objects.filter(username=self.username).values_list("pk", flat=True))
            events = events.filter(actor__in=actors) if actors else events.none()
        if self.agency:
            events = events.filter(agency_code=self.agency)
        if self.reference:
            events = events.filter(object_reference__in=reference_variants(self.reference))
        if self.action.endswith("."):
            # The family's actions by name: an IN list can use the action index, a LIKE cannot (SQLite).
            family = [action for action in present_actions() if action.startswith(self.action)]
            events = events.filter(action__in=family)
        elif self.action:
            events = events.filter(action=self.action)
        if self.date_from is not None:
            events = events.filter(occurred_at__gte=local_midnight(self.date_from))
        if self.date_to is not None:
            events = events.filter(occurred_at__lt=local_midnight(self.date_to + datetime.timedelta(days=1)))
        return events

    @property
    def is_empty(self) -> bool:
        return self == EventFilters()

    def as_query(self) -> dict[str, str]:
        """The filters as the search form's fields, for links and the export form: only those set."""
        values = {
            "anvandare": self.username,
            "myndighet": self.agency,
            "referens": self.reference,
            "handelse": self.action,
            "fran": self.date_from.isoformat() if self.date_from else "",
            "till": self.date_to.isoformat() if self.date_to else "",
        }
        return {name: value for name, value in values.items() if value}

    def as_details(self) -> dict[str, Any]:
        """The filters for the audit entry that records the search or export. A username that matches
        no user is not kept, only the fact (someone may have typed a password into the field)."""
        values: dict[str, Any] = {
            "username": self.username,
            "agency": self.agency,
            "reference": self.reference,
            "action": self.action,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        if self.username and not User.objects.filter(username=self.username).exists():
            values["username"] = ""
            values["unknown_username"] = True
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class KeysetPage:
    events: list[AuditEvent]
    # The cursor for the next older page (``?fore=``), None on the last page.
    older_than: int | None
    # The cursor for the next newer page (``?efter=``); ``has_newer`` with no cursor means "the newest".
    newer_than: int | None
    has_newer: bool


def scope_parts(memberships: list[Membership]) -> list[Q]:
    """The parts of ``visible_to_auditor``'s condition, for ``keyset_page`` of the unfiltered
    trail. Each is only ever added to a queryset already scoped by ``visible_to_auditor``: it can
    narrow the scope, never widen it.

    Only unfiltered: with a filter (a user, a reference, an action, dates) the database does better with
    the one query, starting from the filter's own index; per half, a filter that matches nothing in one
    half (logins have no owning agency) would walk that half's whole index to find so."""
    codes = sorted({membership.agency.code for membership in memberships})
    # The parts of access.models.auditor_scope, each walking its own index.
    return [child if isinstance(child, Q) else Q(child) for child in auditor_scope(codes).children]


def _first_by_id(events: AuditEventQuerySet, parts: list[Q], ordering: str, limit: int) -> list[AuditEvent]:
    """The first ``limit`` of ``events`` in ``ordering`` ("-id" or "id"), taken from each part in turn
    and merged. The scope is an OR of two columns: as one query the database must collect and sort
    every event of the scope before it can return the first 50; per part, each walks its own index
    ((agency_code, -id), (object_agency, -id)) and stops after ``limit`` rows."""
    if not parts:
        return list(events.order_by(ordering)[:limit])
    merged: dict[int, AuditEvent] = {}
    for part in parts:
        for event in events.filter(part).order_by(ordering)[:limit]:
            merged[event.pk] = event
    return sorted(merged.values(), key=lambda event: event.pk, reverse=ordering == "-id")[:limit]


def keyset_page(
    events: AuditEventQuerySet,
    *,
    parts: list[Q] | None = None,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> KeysetPage:
    """One page of ``events``, newest first: older than ``before``, or the page just newer than
    ``after``. At most ``size + 1`` rows per part of ``parts`` (see ``scope_parts``); the extra row
    only says whether more follow."""
    if after is not None:
        rows = _first_by_id(events.filter(id__gt=after), parts or [], "id", size + 1)
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        # Paging back from an older page: the page it came from is older still.
        has_older = bool(rows)
    else:
        selection = events.filter(id__lt=before) if before is not None else events
        rows = _first_by_id(selection, parts or [], "-id", size + 1)
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = before is not None
    return KeysetPage(
        events=rows,
        older_than=rows[-1].pk if has_older and rows else None,
        newer_than=rows[0].pk if has_newer and rows else None,
        has_newer=has_newer,
    )


def present_actions() -> list[str]:
    """The distinct actions in the trail, in order, without reading the whole trail: a recursive
    "next action after this one" walk, each step one seek in the action index (PostgreSQL before 18
    and SQLite have no skip scan, so DISTINCT would read every index entry). Action codes are
    constants of the code, not secrets, so this is not scoped."""
    database = router.db_for_read(AuditEvent)
    connection = connections[database]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = (
        f"WITH RECURSIVE present(action) AS ("  # noqa: S608 - the table name is the model's own
        f"SELECT MIN(action) FROM {table} "
        f"UNION ALL "
        f"SELECT (SELECT MIN(action) FROM {table} WHERE action > present.action) "
        f"FROM present WHERE present.action IS NOT NULL"
        f") SELECT action FROM present WHERE action IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [str(row[0]) for row in cursor.fetchall()]


def action_prefixes(actions: list[str]) -> list[str]:
    """Every family the actions fall into: ``case.``, ``case.emergency_access.`` and so on."""
    prefixes = set()
    for action in actions:
        parts = action.split(".")
        for length in range(1, len(parts)):
            prefixes.add(".".join(parts[:length]) + ".")
    return sorted(prefixes)


def agency_names() -> dict[str, str]:
    return dict(Agency.objects.values_list("code", "name"))


# --- Presenting rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    action_label: str
    reason_label: str
    role_label: str
    agency_name: str
    object_agency_name: str
    details: str


def details_text(details: Any) -> str:
    """The details as compact JSON text. The templates escape it like any other text."""
    if not details:
        return ""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def present(events: list[AuditEvent], names: dict[str, str]) -> list[EventRow]:
    return [
        EventRow(
            event=event,
            action_label=action_label(event.action),
            reason_label=reason_label(event.reason),
            role_label=role_label(event.role),
            agency_name=names.get(event.agency_code, ""),
            object_agency_name=names.get(event.object_agency, ""),
            details=details_text(event.details),
        )
        for event in events
    ]


# --- One case, one user --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadSummary:
    """Who read a case, through which agency and role, on what grounds, how often, first and last."""

    username: str
    # The reader's username now, for the link to their activity; None for a removed account.
    current_username: str | None
    agency_code: str
    agency_name: str
    role_label: str
    reason: str
    reason_label: str
    reads: int
    first: datetime.datetime
    last: datetime.datetime


def case_reads(events: AuditEventQuerySet, reference: str, names: dict[str, str]) -> list[ReadSummary]:
    """The reads (``case.read``) of one case among ``events``, grouped in the database."""
    grouped = (
        events.filter(object_reference__in=reference_variants(reference), action="case.read")
        .values("actor_username", "actor__username", "agency_code", "role", "reason")
        .annotate(reads=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-last", "actor_username")
    )
    return [
        ReadSummary(
            username=row["actor_username"],
            current_username=row["actor__username"],
            agency_code=row["agency_code"],
            agency_name=names.get(row["agency_code"], ""),
            role_label=role_label(row["role"]),
            reason=row["reason"],
            reason_label=reason_label(row["reason"]),
            reads=row["reads"],
            first=row["first"],
            last=row["last"],
        )
        for row in grouped
    ]


@dataclass(frozen=True)
class ActionCount:
    action: str
    label: str
    count: int


def action_counts(events: AuditEventQuerySet) -> list[ActionCount]:
    grouped = events.values("action").annotate(count=Count("id")).order_by("-count", "action")
    return [ActionCount(row["action"], action_label(row["action"]), row["count"]) for row in grouped]
