"""How fast are the granskare's searches with a million events in the audit trail?

It times what the compliance views (access/compliance/views.py) run: a keyset page of 50 events of
``AuditEvent.objects.visible_to_auditor(user)`` unfiltered, by reference, by user and 100 pages deep;
one case's read summary and one user's counts per action; the proactive review's aggregates over 30
days; the distinct actions the search form offers; and the read of a full export.

The events are made with bulk_create, not record_event: the chain's hashes are random hex, because
writing a million chained entries one by one takes an hour and searching never reads the hashes.
Agencies, users and memberships are made as the application makes them (their own audit events
included). Everything happens in one transaction that is always rolled back. PostgreSQL statistics are
gathered (ANALYZE) inside it so the planner sees the million rows, and again after the rollback,
because the row estimates ANALYZE writes are not transactional.
"""

from __future__ import annotations

import datetime
import math
import random
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.compliance import anomalies
from access.compliance.queries import (
    PAGE_SIZE,
    EventFilters,
    action_counts,
    auditor_memberships,
    case_reads,
    keyset_page,
    present_actions,
    scope_parts,
)
from access.compliance.views import EXPORT_LIMIT
from access.models import Agency, AgencyKind, AuditEvent, Membership, Role, User

BATCH_SIZE = 10_000
DEEP_PAGES = 100
TABLES = ("access_auditevent", "access_agency", "access_user", "access_membership")

# What the trail holds, roughly as a working deployment writes it: mostly case reads.
ACTIONS = {
    "case.read": 60,
    "auth.login": 8,
    "case.summary.save": 7,
    "case.contribution.save": 4,
    "case.search": 4,
    "case.open": 3,
    "case.risk.add": 3,
    "case.incident.add": 3,
    "case.measure.add": 2,
    "case.disclose": 2,
    "case.disclosures.read": 1,
    "case.emergency_search": 1,
    "case.emergency_access": 1,
    "audit.search": 1,
}
# Actions about no case.
WITHOUT_OBJECT = {"auth.login", "case.search", "audit.search"}
CATEGORIES = ["identitet", "vald", "risk", "insatser", "barn"]


class _Rollback(Exception):
    pass


@dataclass
class Timing:
    label: str
    samples: list[float]
    queries: int

    def line(self) -> str:
        ordered = sorted(self.samples)
        # Nearest-rank percentile: defined for any number of samples.
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        return (
            f"{self.label:<58} median {statistics.median(ordered):9.2f} ms   p95 {p95:9.2f} ms   "
            f"queries {self.queries}"
        )


class AuditTrailBench:
    """The benchmark's agencies, users and events; made inside the caller's transaction."""

    def __init__(
        self, *, agencies: int, users_per_agency: int, own_share: float, seed: int = 20260101
    ) -> None:
        # Benchmark data, not security: a seeded generator makes runs comparable.
        self.random = random.Random(seed)  # noqa: S311
        self.suffix = secrets.token_hex(2)
        self.own_share = own_share
        self.agencies = [
            Agency.objects.create(
                code=f"benchmark-{self.suffix}-{number}",
                name=f"Benchmark {self.suffix} {number}",
                kind=AgencyKind.SOCIAL_SERVICES_ADULTS,
            )
            for number in range(agencies)
        ]
        self.own = self.agencies[0]
        self.users: dict[str, list[tuple[User, str]]] = {}
        for agency in self.agencies:
            staff = []
            for number in range(users_per_agency):
                role = Role.SAMORDNARE if number == 0 else Role.HANDLAGGARE
                user = User.objects.create(username=f"benchmark-{self.suffix}-{agency.pk}-{number}")
                Membership.objects.create(user=user, agency=agency, role=role)
                staff.append((user, str(role)))
            self.users[agency.code] = staff
        self.auditor = User.objects.create(username=f"benchmark-{self.suffix}-granskare")
        Membership.objects.create(user=self.auditor, agency=self.own, role=Role.GRANSKARE)
        self.created = 0

    def reference(self, agency_index: int, number: int) -> str:
        # Never the VR- prefix of real references, so the benchmark cannot clash with a real case.
        return f"BM-{self.suffix}-{agency_index:03d}-{number:04d}"

    def fill(self, total: int, cases_per_agency: int) -> None:
        start = timezone.now() - datetime.timedelta(days=365)
        step = datetime.timedelta(days=365) / max(total, 1)
        actions = list(ACTIONS)
        weights = list(ACTIONS.values())
        others = len(self.agencies) - 1
        while self.created < total:
            size = min(BATCH_SIZE, total - self.created)
            batch = []
            for number in range(self.created, self.created + size):
                if self.random.random() < self.own_share or not others:
                    agency_index = 0
                else:
                    agency_index = self.random.randrange(1, others + 1)
                agency = self.agencies[agency_index]
                actor, role = self.random.choice(self.users[agency.code])
                action = self.random.choices(actions, weights)[0]
                reference, owner, reason, details = "", "", "", {}
                if action not in WITHOUT_OBJECT:
                    owner_index = agency_index
                    if self.random.random() < 0.15 and others:
                        owner_index = self.random.randrange(0, others + 1)
                    owner = self.agencies[owner_index].code
                    reference = self.reference(owner_index, self.random.randrange(cases_per_agency))
                    if action == "case.read":
                        if owner_index == agency_index:
                            reason = "owner"
                        else:
                            reason = "emergency" if self.random.random() < 0.1 else "disclosure"
                        details = {
                            "categories": self.random.sample(CATEGORIES, 3),
                            "protected_identity": self.random.random() < 0.03,
                        }
                    elif action == "case.emergency_access":
                        reason = "nodatkomst"
                batch.append(
                    AuditEvent(
                        occurred_at=start + step * number,
                        actor=actor,
                        actor_username=actor.username,
                        agency_code=agency.code,
                        role=role,
                        action=action,
                        object_type="case" if reference else "",
                        object_reference=reference,
                        object_agency=owner,
                        reason=reason,
                        request_id=f"{self.random.getrandbits(128):032x}",
                        client_address=f"10.{agency_index % 250}.{self.random.randrange(250)}.{number % 250}",
                        details=details,
                        # Random, not chained: see the module's docstring.
                        previous_hash=f"{self.random.getrandbits(256):064x}",
                        entry_hash=f"{self.random.getrandbits(256):064x}",
                    )
                )
            AuditEvent.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            self.created += size


def analyze(database: str) -> None:
    connection = connections[database]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


def explain(queryset: QuerySet[Any]) -> list[str]:
    connection = connections[queryset.db]
    postgres = connection.vendor == "postgresql"
    sql, params = queryset.query.sql_with_params()
    prefix = (
        connection.ops.explain_query_prefix(analyze=True)
        if postgres
        else connection.ops.explain_query_prefix()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    lines = [str(row[-1]) for row in rows] if not postgres else [str(row[0]) for row in rows][:16]
    # A filter of many time ranges is one very long line; its start says enough.
    return [line if len(line) <= 200 else line[:200] + " …" for line in lines]


def _milliseconds(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    operation()
    return (time.perf_counter() - start) * 1000


class Command(BaseCommand):
    help = (
        "Time the granskare's audit trail searches (keyset pages unfiltered, by reference, by user, 100 "
        "pages deep), a case's read summary, a user's counts, the proactive review's aggregates and the "
        "export read, with SQL query counts, over --events bulk-created audit events. Their hashes are "
        "random hex (searching never reads them). Everything is rolled back afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=1_000_000, help="Audit events (1,000,000).")
        parser.add_argument("--agencies", type=int, default=100, help="Agencies (100).")
        parser.add_argument("--users-per-agency", type=int, default=8, help="Users in each agency (8).")
        parser.add_argument(
            "--own-share",
            type=float,
            default=0.05,
            help="Share of the events by staff of the granskare's agency (0.05: a large municipality).",
        )
        parser.add_argument("--repeat", type=int, default=20, help="Timed repetitions (20).")
        parser.add_argument("--explain", action="store_true", help="Print the plans of the page queries.")

    def handle(self, *args: Any, **options: Any) -> None:
        total: int = options["events"]
        repeat: int = options["repeat"]
        agencies: int = options["agencies"]
        users: int = options["users_per_agency"]
        own_share: float = options["own_share"]
        if total < 1 or repeat < 1 or agencies < 2 or users < 1 or not 0 < own_share <= 1:
            raise CommandError(
                "--events, --repeat and --users-per-agency must be at least 1, --agencies at least 2, "
                "and --own-share between 0 and 1."
            )
        database = router.db_for_write(AuditEvent)
        vendor = connections[database].vendor
        self.stdout.write(
            f"Audit search benchmark on {vendor}, {repeat} repetition(s): {total:,} events, {agencies} "
            f"agencies of {users} users, {own_share:.0%} of the events by the granskare's agency."
        )
        try:
            with transaction.atomic(using=database):
                start = time.perf_counter()
                bench = AuditTrailBench(agencies=agencies, users_per_agency=users, own_share=own_share)
                bench.fill(total, cases_per_agency=max(10, total // 20 // agencies))
                analyze(database)
                self.stdout.write(
                    f"created in {time.perf_counter() - start:.1f} s "
                    f"(bulk_create in batches of {BATCH_SIZE:,}, then ANALYZE)"
                )
                self._measure(bench, repeat, explain_plans=options["explain"])
                raise _Rollback
        except _Rollback:
            pass
        if vendor == "postgresql":
            analyze(database)
        self.stdout.write("Rolled back: the benchmark left no data behind.")

    def _measure(self, bench: AuditTrailBench, repeat: int, *, explain_plans: bool) -> None:
        auditor = bench.auditor
        connection = connections[router.db_for_read(AuditEvent)]

        def scoped(filters: EventFilters) -> Any:
            return filters.apply(AuditEvent.objects.visible_to_auditor(auditor))

        def page(filters: EventFilters, before: int | None = None) -> list[AuditEvent]:
            # As the views: the granskare's roles, the scoped and filtered events, and unfiltered a page
            # per half of the scope.
            memberships = auditor_memberships(auditor)
            parts = scope_parts(memberships) if filters.is_empty else None
            return keyset_page(scoped(filters), parts=parts, before=before).events

        def first_page(filters: EventFilters) -> Callable[[], object]:
            return lambda: page(filters)

        # A case of the granskare's agency, and its busiest reader there.
        reference = (
            AuditEvent.objects.filter(object_agency=bench.own.code, action="case.read")
            .order_by("-id")
            .values_list("object_reference", flat=True)
            .first()
            or ""
        )
        user = bench.users[bench.own.code][-1][0]
        cursor = None
        parts = scope_parts(auditor_memberships(auditor))
        for _page in range(DEEP_PAGES):
            cursor = keyset_page(scoped(EventFilters()), parts=parts, before=cursor).older_than
            if cursor is None:
                break
        deep_cursor = cursor
        today = timezone.localdate()
        period = (today - datetime.timedelta(days=29), today)
        selection = anomalies.period_events(AuditEvent.objects.visible_to_auditor(auditor), *period)

        measured: list[tuple[str, Callable[[], object]]] = [
            ("first page, unfiltered", first_page(EventFilters())),
            ("first page, by reference", first_page(EventFilters(reference=reference))),
            ("first page, by user", first_page(EventFilters(username=user.username))),
            (
                f"page {DEEP_PAGES + 1} (keyset after {DEEP_PAGES} pages)",
                lambda: page(EventFilters(), before=deep_cursor),
            ),
            (
                "first page, action case.emergency_access, last 30 days",
                first_page(
                    EventFilters(action="case.emergency_access", date_from=period[0], date_to=period[1])
                ),
            ),
            ("first page, actions auth.*", first_page(EventFilters(action="auth."))),
            (
                "first page, last 7 days",
                first_page(EventFilters(date_from=today - datetime.timedelta(days=6), date_to=today)),
            ),
            (
                "first page, one day half a year ago",
                first_page(
                    EventFilters(
                        date_from=today - datetime.timedelta(days=180),
                        date_to=today - datetime.timedelta(days=180),
                    )
                ),
            ),
            (
                "case history: read summary",
                lambda: case_reads(AuditEvent.objects.visible_to_auditor(auditor), reference, {}),
            ),
            (
                "user activity: counts per action",
                lambda: action_counts(scoped(EventFilters(username=user.username))),
            ),
            ("anomalies (a) heavy readers, 30 days", lambda: anomalies.heavy_readers(selection)),
            (
                "anomalies (b) protected identity, 30 days",
                lambda: anomalies.grouped(anomalies.protected_identity_reads(selection)),
            ),
            (
                "anomalies (c) outside office hours, 30 days",
                lambda: anomalies.grouped(anomalies.reads_outside_office_hours(selection, *period)),
            ),
            (
                "anomalies (d) without disclosure, 30 days",
                lambda: anomalies.grouped(anomalies.reads_without_disclosure(selection)),
            ),
            (
                "anomalies (e) emergency accesses, 30 days",
                lambda: anomalies.grouped(anomalies.emergency_accesses(selection)),
            ),
            ("actions offered by the search form", present_actions),
            (
                f"export read ({EXPORT_LIMIT:,} + 1 rows), unfiltered",
                lambda: list(scoped(EventFilters()).order_by("-id")[: EXPORT_LIMIT + 1]),
            ),
        ]
        for label, operation in measured:
            with CaptureQueriesContext(connection) as queries:
                operation()
            samples = [_milliseconds(operation) for _index in range(repeat)]
            self.stdout.write(Timing(label, samples, len(queries)).line())
        if explain_plans:
            first, second, third, fourth = parts
            for label, queryset in (
                ("first page, unfiltered, 1st part", scoped(EventFilters()).filter(first).order_by("-id")),
                ("first page, unfiltered, 2nd part", scoped(EventFilters()).filter(second).order_by("-id")),
                ("first page, unfiltered, 3rd part", scoped(EventFilters()).filter(third).order_by("-id")),
                ("first page, unfiltered, 4th part", scoped(EventFilters()).filter(fourth).order_by("-id")),
                ("first page, by user", scoped(EventFilters(username=user.username)).order_by("-id")),
                ("first page, actions auth.*", scoped(EventFilters(action="auth.")).order_by("-id")),
                (
                    "deep page, 2nd part",
                    scoped(EventFilters()).filter(second, id__lt=deep_cursor or 0).order_by("-id"),
                ),
                (
                    "anomalies (c), 30 days",
                    anomalies.reads_outside_office_hours(selection, *period).values("id"),
                ),
            ):
                self.stdout.write(f"EXPLAIN {label}:")
                for line in explain(queryset[: PAGE_SIZE + 1]):
                    self.stdout.write(f"    {line}")
