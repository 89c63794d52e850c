"""Proactive review: patterns in a period of the trail that a granskare should look at.

Each flag is one aggregate query over the granskare's scope (``visible_to_auditor``) and the period;
rows come back already grouped per user, or per user and case, never one per event. A flag is a reason
to look, not a finding: an evening read during an on-call shift, or a caseworker with a heavy caseload,
is flagged as readily as misuse.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q

from access.compliance.labels import action_label, reason_label, role_label
from access.compliance.queries import LOCAL_TIME, local_midnight
from access.models import AuditEvent, AuditEventQuerySet, User

# (a) Reading many more cases than colleagues. A user is flagged when the distinct cases they read in
# the period exceed HEAVY_READER_FACTOR times the median of the readers with the same agency and role
# (the user included; users who read nothing are not in the median), and are at least
# HEAVY_READER_MINIMUM: below that, a median of one or two cases would flag anyone with a handful.
HEAVY_READER_FACTOR = 3
HEAVY_READER_MINIMUM = 20
# (c) Office hours, local time: reads before OFFICE_OPENS, from OFFICE_CLOSES on, or on a Saturday or
# Sunday are flagged. Public holidays are not known here and count as working days.
OFFICE_OPENS = 7
OFFICE_CLOSES = 18
WEEKEND = (6, 7)  # ISO weekdays: Saturday, Sunday
# Each list shows the most recent groups; more than this says so and points to the search.
LISTED_GROUPS = 200

READ = "case.read"
EMERGENCY_ACCESS = "case.emergency_access"


def period_events(events: AuditEventQuerySet, start: datetime.date, end: datetime.date) -> AuditEventQuerySet:
    """``events`` on the days from ``start`` to ``end``, both included, in local time."""
    return events.filter(
        occurred_at__gte=local_midnight(start),
        occurred_at__lt=local_midnight(end + datetime.timedelta(days=1)),
    )


@dataclass(frozen=True)
class HeavyReader:
    username: str
    agency_code: str
    role: str
    role_label: str
    cases: int
    reads: int
    colleagues: int
    median: float


def heavy_readers(events: AuditEventQuerySet) -> list[HeavyReader]:
    """(a) Per reader, the distinct cases read, grouped in the database; the medians per agency and role
    are then taken over those few per-user rows."""
    per_user = (
        events.filter(action=READ, actor__isnull=False)
        .values("actor__username", "agency_code", "role")
        .annotate(cases=Count("object_reference", distinct=True), reads=Count("id"))
        .order_by()
    )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in per_user:
        groups[(row["agency_code"], row["role"])].append(row)
    flagged = []
    for (agency_code, role), rows in groups.items():
        median = statistics.median(row["cases"] for row in rows)
        for row in rows:
            cases: int = row["cases"]
            if cases >= HEAVY_READER_MINIMUM and cases > HEAVY_READER_FACTOR * median:
                flagged.append(
                    HeavyReader(
                        username=row["actor__username"],
                        agency_code=agency_code,
                        role=role,
                        role_label=role_label(role),
                        cases=cases,
                        reads=row["reads"],
                        colleagues=len(rows),
                        median=median,
                    )
                )
    return sorted(flagged, key=lambda reader: (-reader.cases, reader.username))


@dataclass(frozen=True)
class EventGroup:
    """The events of one user, agency and role about one object on one ground, with first and last."""

    username: str
    current_username: str | None
    agency_code: str
    role_label: str
    reference: str
    object_agency: str
    reason: str
    reason_label: str
    events: int
    first: datetime.datetime
    last: datetime.datetime


@dataclass(frozen=True)
class GroupList:
    groups: list[EventGroup]
    # More groups than LISTED_GROUPS: only the most recent are listed.
    truncated: bool


def grouped(events: AuditEventQuerySet) -> GroupList:
    rows = list(
        events.values(
            "actor_username",
            "actor__username",
            "agency_code",
            "role",
            "object_reference",
            "object_agency",
            "reason",
        )
        .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-last", "actor_username", "object_reference")[: LISTED_GROUPS + 1]
    )
    groups = [
        EventGroup(
            username=row["actor_username"],
            current_username=row["actor__username"],
            agency_code=row["agency_code"],
            role_label=role_label(row["role"]),
            reference=row["object_reference"],
            object_agency=row["object_agency"],
            reason=row["reason"],
            reason_label=reason_label(row["reason"]),
            events=row["events"],
            first=row["first"],
            last=row["last"],
        )
        for row in rows[:LISTED_GROUPS]
    ]
    return GroupList(groups, truncated=len(rows) > LISTED_GROUPS)


def protected_identity_reads(events: AuditEventQuerySet) -> AuditEventQuerySet:
    """(b) Reads of cases with a protected identity, as cases.reading marks them in the details."""
    return events.filter(action=READ, details__protected_identity=True)


def outside_office_hours(
    start: datetime.date, end: datetime.date
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The stretches of time outside office hours from ``start`` to ``end`` (days included), as
    [from, until) moments: each evening to the next working morning, a weekend in one piece.

    Worked out here, per local day, so daylight saving time is right; the database then only compares
    ``occurred_at`` with these moments, which its index on ``occurred_at`` serves. Converting every
    event's time to local time in SQL instead costs a function call per row (on SQLite a Python call),
    which at a million events is seconds.
    """
    stretches: list[tuple[datetime.datetime, datetime.datetime]] = []

    def add(since: datetime.datetime, until: datetime.datetime) -> None:
        if stretches and stretches[-1][1] == since:
            stretches[-1] = (stretches[-1][0], until)
        else:
            stretches.append((since, until))

    day = start
    while day <= end:
        midnight = local_midnight(day)
        next_midnight = local_midnight(day + datetime.timedelta(days=1))
        if day.isoweekday() in WEEKEND:
            add(midnight, next_midnight)
        else:
            add(midnight, datetime.datetime.combine(day, datetime.time(OFFICE_OPENS), tzinfo=LOCAL_TIME))
            add(
                datetime.datetime.combine(day, datetime.time(OFFICE_CLOSES), tzinfo=LOCAL_TIME), next_midnight
            )
        day += datetime.timedelta(days=1)
    return stretches


def reads_outside_office_hours(
    events: AuditEventQuerySet, start: datetime.date, end: datetime.date
) -> AuditEventQuerySet:
    """(c) Reads before OFFICE_OPENS or from OFFICE_CLOSES, or at a weekend, in Swedish local time."""
    # The action is repeated inside each stretch rather than set beside them: as a condition of its
    # own, SQLite walks the action index (most events are reads) and tests every stretch on every read
    # in the trail; this way it walks the period in the occurred_at index instead (160 ms -> 40 ms at
    # a million events). The result is the same.
    outside = Q()
    for since, until in outside_office_hours(start, end):
        outside |= Q(occurred_at__gte=since, occurred_at__lt=until, action=READ)
    return events.filter(outside)


def reads_without_disclosure(events: AuditEventQuerySet) -> AuditEventQuerySet:
    """(d) Reads not covered by a disclosure in force: by emergency access, or by another agency than
    the owner on any other ground than a disclosure (which should never happen)."""
    by_other_agency = ~Q(object_agency="") & ~Q(agency_code=F("object_agency")) & ~Q(reason="disclosure")
    return events.filter(action=READ).filter(Q(reason="emergency") | by_other_agency)


def emergency_accesses(events: AuditEventQuerySet) -> AuditEventQuerySet:
    """Every emergency access (break-the-glass) opened in the period."""
    return events.filter(action=EMERGENCY_ACCESS)


# (f) The emergency search is an oracle by design: a case found and no access requested after it (someone
# may have learnt only where a person is known), and every search refused by the hourly limit.
EMERGENCY_SEARCH = "case.emergency_search"
EMERGENCY_THROTTLED = "case.emergency_search_throttled"


def emergency_searches_not_followed(events: AuditEventQuerySet) -> AuditEventQuerySet:
    """Emergency searches that found a case the searcher then requested no emergency access to."""
    requested = AuditEvent.objects.filter(
        action=EMERGENCY_ACCESS,
        actor=OuterRef("actor"),
        object_reference=OuterRef("object_reference"),
        id__gt=OuterRef("id"),
    )
    return events.filter(action=EMERGENCY_SEARCH, details__found=True).exclude(Exists(requested))


def emergency_search_bursts(events: AuditEventQuerySet) -> AuditEventQuerySet:
    return events.filter(action=EMERGENCY_THROTTLED)


# (g) The person said never to this agency, and a disclosure on another ground or an emergency access
# went to it anyway (cases/sharing.py: require_refusal_considered).
def refusals_overridden(events: AuditEventQuerySet) -> AuditEventQuerySet:
    return events.filter(action__in=("case.disclose", EMERGENCY_ACCESS), details__overrides_refusal=True)


# (e) Account administration a granskare should see: who gave which roles (and who confirmed them), who
# tried to change their own account, whose login or address was reset, whose lockout was lifted.
ADMINISTRATION_ACTIONS = (
    "admin.membership_grant",
    "admin.membership_confirm",
    "admin.self_change_refused",
    "admin.login_reset_request",
    "admin.login_reset",
    "admin.email_request",
    "admin.email_change",
    "admin.lockout_lift",
)


@dataclass(frozen=True)
class AdministrationGroup:
    """One administrator's events of one kind about one account in the period."""

    username: str
    current_username: str | None
    agency_code: str
    role_label: str
    action: str
    action_label: str
    target: str
    events: int
    first: datetime.datetime
    last: datetime.datetime


def account_administration(events: AuditEventQuerySet) -> list[AdministrationGroup]:
    """(e) Grouped per administrator, kind and account in the database; the account is shown by the
    username it has now (staff, not a person subjected to violence)."""
    rows = list(
        events.filter(action__in=ADMINISTRATION_ACTIONS)
        .values("actor_username", "actor__username", "agency_code", "role", "action", "object_reference")
        .annotate(events=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-last", "actor_username")[:LISTED_GROUPS]
    )
    names = dict(
        User.objects.filter(
            public_id__in={row["object_reference"] for row in rows if row["object_reference"]}
        ).values_list("public_id", "username")
    )
    names_by_text = {str(key): value for key, value in names.items()}
    return [
        AdministrationGroup(
            username=row["actor_username"],
            current_username=row["actor__username"],
            agency_code=row["agency_code"],
            role_label=role_label(row["role"]),
            action=row["action"],
            action_label=action_label(row["action"]),
            target=names_by_text.get(row["object_reference"], row["object_reference"]),
            events=row["events"],
            first=row["first"],
            last=row["last"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Review:
    heavy_readers: list[HeavyReader]
    protected_identity: GroupList
    outside_office_hours: GroupList
    without_disclosure: GroupList
    emergency: GroupList
    administration: list[AdministrationGroup]
    searches_not_followed: GroupList
    search_bursts: GroupList
    refusals_overridden: GroupList


def review(events: AuditEventQuerySet, start: datetime.date, end: datetime.date) -> Review:
    """Every flag for ``events`` (already scoped) from ``start`` to ``end``: eight aggregate queries,
    and one for the names of the administered accounts."""
    selection = period_events(events, start, end)
    return Review(
        heavy_readers=heavy_readers(selection),
        protected_identity=grouped(protected_identity_reads(selection)),
        outside_office_hours=grouped(reads_outside_office_hours(selection, start, end)),
        without_disclosure=grouped(reads_without_disclosure(selection)),
        emergency=grouped(emergency_accesses(selection)),
        administration=account_administration(selection),
        searches_not_followed=grouped(emergency_searches_not_followed(selection)),
        search_bursts=grouped(emergency_search_bursts(selection)),
        refusals_overridden=grouped(refusals_overridden(selection)),
    )
