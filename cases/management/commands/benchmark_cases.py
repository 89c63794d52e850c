from __future__ import annotations

import datetime
import math
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from access.models import Agency, AgencyKind, Membership, Role, User
from cases.actions import (
    current_summary_number,
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_open_case,
    do_save_contribution,
    do_save_summary,
)
from cases.models import Case, ProtectiveMeasure, RiskAssessment
from cases.policy import access_case
from cases.reading import read_case
from cases.records import Children, Classification, PersonData
from cases.routers import KEYSTORE

# About five paragraphs of a realistic summary; invented text, no one's data.
PARAGRAPH = (
    "Personen har berättat om upprepat psykiskt och fysiskt våld från en tidigare partner under flera år. "
    "Hon har kontakt med kvinnojouren och har fått information om skyddat boende, kontaktförbud och hur "
    "en polisanmälan går till. Barnen bor hos henne och går i förskola; förskolan är informerad om "
    "att ingen annan än personen själv får hämta dem. Nästa uppföljning är bokad och en säkerhetsplan "
    "har gjorts tillsammans med personen."
)
SUMMARY = "\n\n".join(f"{number}. {PARAGRAPH}" for number in range(1, 6))


class _Rollback(Exception):
    pass


@dataclass
class Figure:
    label: str
    samples: list[float]
    queries: int
    key_store_queries: int

    def line(self) -> str:
        ordered = sorted(self.samples)
        # Nearest-rank percentile: defined for any number of samples.
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        return (
            f"{self.label:<44} median {statistics.median(ordered):8.2f} ms   p95 {p95:8.2f} ms   "
            f"queries {self.queries} (+{self.key_store_queries} key store)"
        )


def _count_queries(operation: Callable[..., object], *args: Any) -> tuple[int, int]:
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as main,
        CaptureQueriesContext(connections[KEYSTORE]) as keys,
    ):
        operation(*args)
    return len(main), len(keys)


def _milliseconds(operation: Callable[..., object], *args: Any) -> float:
    start = time.perf_counter()
    operation(*args)
    return (time.perf_counter() - start) * 1000


class Bench:
    """The benchmark's own agencies, user and cases; everything inside the caller's transactions."""

    def __init__(self) -> None:
        suffix = secrets.token_hex(4)
        self.user = User.objects.create(username=f"benchmark-{suffix}")
        self.memberships: list[Membership] = []
        for number in range(3):
            agency = Agency.objects.create(
                code=f"benchmark-{suffix}-{number}",
                name=f"Benchmark {suffix} {number}",
                kind=AgencyKind.SOCIAL_SERVICES_ADULTS,
            )
            self.memberships.append(
                Membership.objects.create(user=self.user, agency=agency, role=Role.HANDLAGGARE)
            )
        self.owner = self.memberships[0]
        self.count = 0

    def open_case(self) -> Case:
        self.count += 1
        return do_open_case(
            acting_user=self.user,
            membership=self.owner,
            person=PersonData(
                name=f"Benchmark Person {self.count}",
                identity_kind="saknas",
                contact="070-000 00 00",
                safe_contact="Endast sms vardagar",
                address="Exempelgatan 1, 302 00 Halmstad",
                legal_gender="kvinna",
                birth_year=1980,
            ),
            classification=Classification(
                contexts=["vinr_partner"],
                forms=["fysiskt", "psykiskt", "digitalt"],
                relations=["ex_partner"],
                flags=["funktionsnedsattning"],
                children=Children(count=2, age_bands=["3-5"], witnessed=True),
            ),
            opened_on=datetime.date(2025, 1, 15),
        )

    def fill(self, case: Case) -> None:
        """A typical full case: summary, 3 contributions, 3 assessments, 2 measures, 3 incidents."""
        kwargs: dict[str, Any] = {"acting_user": self.user, "membership": self.owner}
        do_save_summary(case, text=SUMMARY, based_on=0, **kwargs)
        for membership in self.memberships:
            do_save_contribution(
                case, text=PARAGRAPH, based_on=0, acting_user=self.user, membership=membership
            )
        for month, level in ((2, "hog"), (5, "medel"), (9, "lag")):
            assessment = RiskAssessment.new(
                instrument="freda", assessed_on=datetime.date(2025, month, 1), level=level
            )
            do_add_risk_assessment(case, assessment=assessment, notes=PARAGRAPH, **kwargs)
        for kind in ("kontaktforbud", "trygghetslarm"):
            measure = ProtectiveMeasure.new(
                kind=kind, starts_on=datetime.date(2025, 2, 1), responsible_agency=self.owner.agency
            )
            do_add_protective_measure(case, measure=measure, notes=PARAGRAPH, **kwargs)
        for month in (1, 4, 8):
            do_add_incident(
                case, occurred_on=datetime.date(2025, month, 10), forms=["fysiskt"], notes=PARAGRAPH, **kwargs
            )

    def read(self, case: Case) -> None:
        # What a case page does: the one door, then the audited read of every field.
        fetched = access_case(self.user, case.reference)
        read_case(fetched, user=self.user, membership=self.owner, request=None)

    def save_summary(self, case: Case) -> None:
        do_save_summary(
            case,
            acting_user=self.user,
            membership=self.owner,
            text=SUMMARY + "\n\nTillägg.",
            based_on=current_summary_number(case),
        )


class Command(BaseCommand):
    help = (
        "Measure what opening (reading) and saving a case costs: median and p95 milliseconds and SQL "
        "queries of access_case + read_case on a full case, do_open_case and do_save_summary. It creates "
        "its own agencies, user and cases inside transactions on both databases and always rolls them "
        "back, so it leaves nothing behind (and commits are not part of the figures)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=20, help="Full cases to create first (default 20).")
        parser.add_argument("--repeat", type=int, default=50, help="Timed repetitions (default 50).")

    def handle(self, *args: Any, **options: Any) -> None:
        cases_wanted: int = options["cases"]
        repeat: int = options["repeat"]
        if cases_wanted < 1 or repeat < 1:
            raise CommandError("--cases and --repeat must be at least 1.")
        figures: list[Figure] = []
        try:
            # Both databases: do_open_case commits each data key to the key store in a transaction of
            # its own, which inside these becomes a savepoint and is rolled back with everything else.
            with transaction.atomic(using=KEYSTORE), transaction.atomic(using=DEFAULT_DB_ALIAS):
                figures = self._measure(cases_wanted, repeat)
                raise _Rollback
        except _Rollback:
            pass
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        self.stdout.write(
            f"Benchmark on {vendor}: {cases_wanted} full case(s), {repeat} repetition(s) "
            "(summary of 5 paragraphs, 3 contributions, 3 risk assessments, 2 measures, 3 incidents)."
        )
        for figure in figures:
            self.stdout.write(figure.line())
        self.stdout.write("Rolled back: the benchmark left no data behind.")

    def _measure(self, cases_wanted: int, repeat: int) -> list[Figure]:
        bench = Bench()
        cases = []
        for _number in range(cases_wanted):
            case = bench.open_case()
            bench.fill(case)
            cases.append(case)

        def pick(repetition: int) -> Case:
            return cases[repetition % len(cases)]

        # Each operation runs once with its queries counted (also a warm-up), then timed without capture.
        read_queries = _count_queries(bench.read, pick(0))
        open_queries = _count_queries(bench.open_case)
        save_queries = _count_queries(bench.save_summary, pick(0))
        reads = [_milliseconds(bench.read, pick(index)) for index in range(repeat)]
        opens = [_milliseconds(bench.open_case) for _index in range(repeat)]
        saves = [_milliseconds(bench.save_summary, pick(index)) for index in range(repeat)]
        return [
            Figure("open a full case (access_case + read_case)", reads, *read_queries),
            Figure("save: do_open_case", opens, *open_queries),
            Figure("save: do_save_summary", saves, *save_queries),
        ]
