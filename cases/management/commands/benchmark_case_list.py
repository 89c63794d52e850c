"""How fast is the case list with a million cases in the database?

The list view (case_list in cases/views/browsing.py) loads a page with Case.objects.page_for(user, ...):
three queries on Case.objects.visible_to(user), a COUNT for the paginator, the page's 25 ids, then those
rows with their agency, responsible and person. This command times that whole page, the count alone,
and for comparison the single-query page (visible_to with select_related, sliced), which PostgreSQL
runs more slowly because it joins before it sorts.
It measures them for a user who can see --visible of --total cases through every path
(their own agency's cases, disclosures in force to their agency, their own emergency accesses), with
related rows they must not see (revoked and expired disclosures to their agency, expired emergency
accesses, other agencies' disclosures to each other) so the Exists subqueries do realistic work.

The data are made with bulk_create, not the actions: do_open_case encrypts, writes a data key and an
audit entry per case, which takes hours for a million cases, while the list reads only plaintext
columns (case dates, status, agency, responsible, the person's protection level) and the access
tables. So Person rows have empty sealed fields and no CaseKey rows are made. Everything happens in a
transaction on both databases that is always rolled back. PostgreSQL statistics are gathered (ANALYZE)
inside it so the planner sees the million rows, and gathered again after the rollback, because the row
estimates ANALYZE writes are not transactional.
"""

from __future__ import annotations

import datetime
import functools
import math
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.groups import agency_group
from access.models import Agency, AgencyKind, Membership, Role, User
from cases.choices import CaseStatus, DisclosureEnd, IdentityNumberKind, LegalBasis, ProtectedIdentity
from cases.models import Case, CaseGroupObjectPermission, Disclosure, EmergencyAccess, Person
from cases.routers import KEYSTORE
from cases.views.browsing import LIST_ORDERING
from cases.views.common import PAGE_SIZE

# As in the list view: its page size and its ordering, which is not Case.Meta.ordering.
META_ORDERING = tuple(str(field) for field in Case._meta.ordering or ())
BATCH_SIZE = 10_000
# Other agencies' cases are spread so each agency holds about as many as the user's own: a million cases
# means a national deployment with hundreds of agencies, not twenty agencies of 50,000 cases each (which
# would also mislead the planner's estimate of "cases of one agency").
CASES_PER_AGENCY = 5_000
MINIMUM_OTHER_AGENCIES = 20
# What ANALYZE refreshes: every table the list query reads.
TABLES = (
    "cases_case",
    "cases_person",
    "cases_disclosure",
    "cases_emergencyaccess",
    "cases_casegroupobjectpermission",
    "access_membership",
    "access_agency",
    "access_user",
    "access_user_groups",
    "auth_group",
    "auth_permission",
)
DISCLOSED_CODENAMES = ("view_case", "contribute_to_case", "view_case_risk")


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class Mix:
    """How the visible cases reach the user, and the related rows that must not make a case visible."""

    own: int
    disclosed: int
    emergency: int

    @classmethod
    def of(cls, visible: int) -> Mix:
        disclosed = max(1, visible // 5) if visible >= 3 else 0
        emergency = max(1, visible // 200) if visible >= 3 else 0
        return cls(visible - disclosed - emergency, disclosed, emergency)

    @property
    def visible(self) -> int:
        return self.own + self.disclosed + self.emergency

    @property
    def revoked(self) -> int:
        return self.disclosed // 4

    @property
    def expired(self) -> int:
        return self.disclosed // 4

    @property
    def expired_emergency(self) -> int:
        return self.emergency

    @property
    def elsewhere(self) -> int:
        """Disclosures between other agencies."""
        return self.disclosed

    @property
    def special(self) -> int:
        return self.visible + self.revoked + self.expired + self.expired_emergency + self.elsewhere

    def describe(self) -> str:
        return (
            f"the user sees {self.visible:,} cases: {self.own:,} of their own agency, {self.disclosed:,} "
            f"disclosed to it, {self.emergency:,} by emergency access; hidden from them: {self.revoked:,} "
            f"revoked and {self.expired:,} expired disclosures to their agency, {self.expired_emergency:,} "
            f"expired emergency accesses of theirs, {self.elsewhere:,} disclosures between other agencies"
        )


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
            f"{self.label:<62} median {statistics.median(ordered):9.2f} ms   p95 {p95:9.2f} ms   "
            f"queries {self.queries}"
        )


def _milliseconds(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    operation()
    return (time.perf_counter() - start) * 1000


class CaseListBench:
    """The benchmark's agencies, user and cases; made inside the caller's transactions."""

    def __init__(self, mix: Mix, *, seed: int = 20260101) -> None:
        self.mix = mix
        # Benchmark data, not security: a seeded generator makes runs comparable.
        self.random = random.Random(seed)  # noqa: S311
        self.suffix = secrets.token_hex(2)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.own = self._agency("own")
        self.others: list[Agency] = []
        self.user = User.objects.create(username=f"benchmark-{self.suffix}")
        # The membership signal puts the user in the agency's group (access/groups.py).
        Membership.objects.create(user=self.user, agency=self.own, role=Role.HANDLAGGARE)
        self.groups = {self.own.pk: agency_group(self.own).pk}
        self.permissions = dict(
            Permission.objects.filter(
                content_type__app_label="cases", codename__in=DISCLOSED_CODENAMES
            ).values_list("codename", "pk")
        )
        self.created = 0

    def _agency(self, name: str) -> Agency:
        return Agency.objects.create(
            code=f"benchmark-{self.suffix}-{name}",
            name=f"Benchmark {self.suffix} {name}",
            kind=AgencyKind.SOCIAL_SERVICES_ADULTS,
        )

    def grow_to(self, total: int) -> None:
        wanted = max(MINIMUM_OTHER_AGENCIES, total // CASES_PER_AGENCY)
        while len(self.others) < wanted:
            agency = self._agency(str(len(self.others)))
            self.others.append(agency)
            self.groups[agency.pk] = agency_group(agency).pk
        while self.created < total:
            self._batch(min(BATCH_SIZE, total - self.created))

    def _batch(self, size: int) -> None:
        cases: list[Case] = []
        people: list[Person] = []
        disclosures: list[Disclosure] = []
        grants: list[CaseGroupObjectPermission] = []
        emergencies: list[EmergencyAccess] = []
        mix = self.mix
        bounds = {
            "own": mix.own,
            "disclosed": mix.own + mix.disclosed,
            "emergency": mix.visible,
            "revoked": mix.visible + mix.revoked,
            "expired": mix.visible + mix.revoked + mix.expired,
            "expired_emergency": mix.visible + mix.revoked + mix.expired + mix.expired_emergency,
            "elsewhere": mix.special,
        }
        for number in range(self.created, self.created + size):
            kind = next((name for name, bound in bounds.items() if number < bound), "other")
            agency = self.own if kind == "own" else self.random.choice(self.others)
            case = self._case(number, agency, responsible=self.user if kind == "own" else None)
            cases.append(case)
            people.append(
                Person(
                    case_id=case.pk,
                    identity_kind=IdentityNumberKind.NONE,
                    protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION
                    if number % 40 == 0
                    else ProtectedIdentity.NONE,
                )
            )
            if kind in ("disclosed", "revoked", "expired"):
                disclosures.append(self._disclosure(case, self.own, kind))
                if kind != "revoked":
                    # An expired disclosure keeps its grants until the nightly expire_disclosures runs.
                    grants += self._grants(case, self.own)
            elif kind == "elsewhere":
                recipient = next(other for other in self.others if other != agency)
                disclosures.append(self._disclosure(case, recipient, "disclosed"))
                grants += self._grants(case, recipient)
            elif kind in ("emergency", "expired_emergency"):
                started = self.now - datetime.timedelta(minutes=10 if kind == "emergency" else 3 * 24 * 60)
                emergencies.append(
                    EmergencyAccess(
                        case_id=case.pk,
                        user=self.user,
                        agency=self.own,
                        started_at=started,
                        expires_at=started + datetime.timedelta(hours=1),
                    )
                )
        Case.objects.bulk_create(cases, batch_size=BATCH_SIZE)
        Person.objects.bulk_create(people, batch_size=BATCH_SIZE)
        Disclosure.objects.bulk_create(disclosures, batch_size=BATCH_SIZE)
        CaseGroupObjectPermission.objects.bulk_create(grants, batch_size=BATCH_SIZE)
        EmergencyAccess.objects.bulk_create(emergencies, batch_size=BATCH_SIZE)
        self.created += size

    def _case(self, number: int, agency: Agency, *, responsible: User | None) -> Case:
        opened = self.today - datetime.timedelta(days=self.random.randrange(3650))
        last_entry = min(self.today, opened + datetime.timedelta(days=self.random.randrange(400)))
        status = self.random.choices(
            [CaseStatus.OPEN, CaseStatus.WATCH, CaseStatus.CLOSED], weights=[70, 15, 15]
        )[0]
        return Case(
            id=uuid.uuid4(),
            # Never the VR- prefix of real references, so the benchmark cannot clash with a real case.
            reference=f"BM-{self.suffix}-{number:07d}",
            agency=agency,
            status=status,
            opened_on=opened,
            last_entry_on=last_entry,
            closed_on=last_entry if status == CaseStatus.CLOSED else None,
            responsible=responsible,
        )

    def _disclosure(self, case: Case, recipient: Agency, kind: str) -> Disclosure:
        disclosure = Disclosure(
            case_id=case.pk,
            recipient=recipient,
            legal_basis=LegalBasis.NECESSARY,
            categories=["risk"],
            created_by=self.user,
        )
        if kind == "revoked":
            disclosure.ended_at = self.now - datetime.timedelta(days=2)
            disclosure.ended_by = self.user
            disclosure.end_kind = DisclosureEnd.REVOKED
        elif kind == "expired":
            disclosure.valid_until = self.today - datetime.timedelta(days=1)
        return disclosure

    def _grants(self, case: Case, agency: Agency) -> list[CaseGroupObjectPermission]:
        return [
            CaseGroupObjectPermission(
                content_object_id=case.pk, group_id=self.groups[agency.pk], permission_id=permission
            )
            for permission in self.permissions.values()
        ]

    def list_queryset(self, ordering: tuple[str, ...]) -> QuerySet[Case]:
        """The single-query form of the list: scoped, joined, ordered."""
        return (
            Case.objects.visible_to(self.user)
            .select_related("agency", "responsible", "person")
            .order_by(*ordering)
        )


def analyze(database: str) -> None:
    connection = connections[database]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


def explain(queryset: QuerySet[Any], *, count: bool = False) -> list[str]:
    """The plan of the query (or of its COUNT), cut down to the lines that say how rows are found."""
    connection = connections[queryset.db]
    postgres = connection.vendor == "postgresql"
    if count:
        inner, params = queryset.order_by().query.sql_with_params()
        sql = f"SELECT COUNT(*) FROM ({inner}) counted"  # noqa: S608 - Django's own SQL, parameters bound
    else:
        sql, params = queryset.query.sql_with_params()
    # ANALYZE runs the query: PostgreSQL then reports the rows and time each step really took.
    prefix = (
        connection.ops.explain_query_prefix(analyze=True)
        if postgres
        else connection.ops.explain_query_prefix()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix} {sql}", params)
        rows = cursor.fetchall()
    if not postgres:
        return [str(row[-1]) for row in rows]
    lines = [str(row[0]) for row in rows]
    keep = ("Scan", "Join", "Nested Loop", "SubPlan", "Sort", "Limit", "Aggregate", "Execution Time")
    return [lines[0], *(line for line in lines[1:] if any(word in line for word in keep))][:14]


class Command(BaseCommand):
    help = (
        "Time the case list's first page (25 rows, list view ordering, and Case.Meta ordering) and its "
        "count for a user who sees --visible of --total cases, with SQL query counts and EXPLAIN. The "
        "data are bulk-created inside a transaction on both databases that is always rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--total", type=int, default=1_000_000, help="Cases in the database (1,000,000).")
        parser.add_argument("--visible", type=int, default=5_000, help="Cases the user sees (5,000).")
        parser.add_argument("--repeat", type=int, default=20, help="Timed repetitions (20).")
        parser.add_argument(
            "--scales",
            default="",
            help="Comma-separated totals to measure in turn, growing the same data (10000,100000,1000000); "
            "replaces --total.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        repeat: int = options["repeat"]
        visible: int = options["visible"]
        try:
            scales = sorted({int(value) for value in options["scales"].split(",") if value.strip()}) or [
                options["total"]
            ]
        except ValueError as error:
            raise CommandError("--scales takes whole numbers separated by commas.") from error
        if repeat < 1 or visible < 1 or scales[0] < 1:
            raise CommandError("--total, --visible and --repeat must be at least 1.")
        mix = Mix.of(visible)
        if scales[0] < mix.special:
            raise CommandError(
                f"--total must be at least {mix.special:,} for {visible:,} visible cases "
                "(the visible cases and the hidden related ones)."
            )
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        self.stdout.write(f"Case list benchmark on {vendor}, {repeat} repetition(s): {mix.describe()}.")
        try:
            with transaction.atomic(using=KEYSTORE), transaction.atomic(using=DEFAULT_DB_ALIAS):
                bench = CaseListBench(mix)
                for total in scales:
                    self._measure(bench, total, repeat)
                raise _Rollback
        except _Rollback:
            pass
        if vendor == "postgresql":
            analyze(DEFAULT_DB_ALIAS)
        self.stdout.write("Rolled back: the benchmark left no data behind.")

    def _measure(self, bench: CaseListBench, total: int, repeat: int) -> None:
        tag = f"[{total:,} cases]"
        start = time.perf_counter()
        bench.grow_to(total)
        analyze(DEFAULT_DB_ALIAS)
        self.stdout.write(
            f"{tag} created in {time.perf_counter() - start:.1f} s, {len(bench.others) + 1} agencies "
            f"(bulk_create in batches of {BATCH_SIZE:,}, then ANALYZE)"
        )
        connection = connections[DEFAULT_DB_ALIAS]

        def view_page(ordering: tuple[str, ...]) -> list[Case]:
            page = Case.objects.page_for(bench.user, 1, ordering=ordering, per_page=PAGE_SIZE)
            rows = list(page.object_list)
            # What the list template reads: without the joined rows each would cost a query more.
            for case in rows:
                _shown = (case.agency.name, case.responsible, case.person.protected_identity)
            return rows

        def single_query_page(ordering: tuple[str, ...]) -> list[Case]:
            return list(bench.list_queryset(ordering)[:PAGE_SIZE])

        def count() -> int:
            return bench.list_queryset(LIST_ORDERING).count()

        timings = []
        for label, load, ordering in (
            ("list view page (count, ids, rows)", view_page, LIST_ORDERING),
            ("page by one joined query, list order", single_query_page, LIST_ORDERING),
            (f"page by one joined query, Meta order {META_ORDERING}", single_query_page, META_ORDERING),
        ):
            with CaptureQueriesContext(connection) as queries:
                page = load(ordering)
            if len(page) != min(PAGE_SIZE, bench.mix.visible):
                raise CommandError(f"The first page has {len(page)} rows; the data are not as intended.")
            samples = [_milliseconds(functools.partial(load, ordering)) for _index in range(repeat)]
            timings.append(Timing(f"{tag} {label}", samples, len(queries)))
        with CaptureQueriesContext(connection) as queries:
            counted = count()
        if counted != bench.mix.visible:
            raise CommandError(
                f"The user sees {counted} cases, not {bench.mix.visible}: the data are not as intended."
            )
        timings.append(
            Timing(
                f"{tag} count of visible cases = {counted:,}",
                [_milliseconds(count) for _ in range(repeat)],
                len(queries),
            )
        )
        for timing in timings:
            self.stdout.write(timing.line())
        for label, lines in (
            ("the page's ids", explain(Case.objects.reached_ids(bench.user, LIST_ORDERING)[:PAGE_SIZE])),
            ("the page's count", explain(Case.objects.reached_ids(bench.user, LIST_ORDERING), count=True)),
        ):
            self.stdout.write(f"{tag} EXPLAIN {label}:")
            for line in lines:
                self.stdout.write(f"    {line}")
