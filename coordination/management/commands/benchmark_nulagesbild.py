"""How fast is a nulägesbild over many cases?

Bulk-adds statistics records (cases/statistics.py: what the nulägesbild counts, sealed in one block
per half-year; no cases) at each --scales total in turn, growing the same data, and times for this
year's nulägesbild:

- each part of the tables: opening the blocks and counting (aggregate.py); the rules and the secondary
  suppression alone; the same with the integer gate (integer_audit.py), as a draft or a release makes
  the content (content.py); and the whole of it from the database, as a draft or a release does;
- the PDF made from that content (render_pdf.py).

Ten years of cases, opened evenly over the half-years and mostly closed within a year or two, so a
year's release counts about a tenth of them as new and about a fifth as ongoing. Everything happens in
a transaction that is always rolled back; on PostgreSQL the statistics are gathered (ANALYZE) inside
it so the planner sees the rows, and again after the rollback, because the row estimates ANALYZE
writes are not transactional.
"""

from __future__ import annotations

import math
import random
import secrets
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from cases import statistics as sealed_statistics
from cases.choices import (
    AgeBand,
    CaseFlag,
    HonourSubtype,
    MeasureKind,
    PerpetratorRelation,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
)
from cases.statistics import StatisticsValues
from coordination.nulagesbild.aggregate import count_period
from coordination.nulagesbild.content import build_content
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.render_pdf import render_pdf

YEARS = 10
DEFAULT_SCALES = "10000,100000,1000000"


class _Rollback(Exception):
    pass


def _bit(choices: Any, code: str) -> int:
    return 1 << list(choices.values).index(code)


def _mask(rng: random.Random, probabilities: list[float]) -> int:
    mask = 0
    for bit, probability in enumerate(probabilities):
        if rng.random() < probability:
            mask |= 1 << bit
    return mask


class RecordMaker:
    """Plausible records: mostly women, VINR partner violence, psychological and physical violence."""

    def __init__(self, last_period: int, seed: int = 20260101) -> None:
        # Benchmark data, not security: a seeded generator makes runs comparable.
        self.random = random.Random(seed)  # noqa: S311
        self.first_period = last_period - YEARS * 2 + 1
        self.last_period = last_period
        self.suffix = secrets.token_hex(3)
        self.made = 0
        self.genders = (["kvinna"] * 78) + (["man"] * 19) + (["annat"] * 3)
        self.ages = list(AgeBand.values)
        self.risks = ["", *RiskLevel.values]

    def record(self) -> tuple[bytes, int, StatisticsValues]:
        rng = self.random
        opened = rng.randint(self.first_period, self.last_period)
        # Most cases close within a year or two; one in twenty stays open for long.
        duration = rng.choice([0, 1, 1, 2, 2, 3, 4]) if rng.random() < 0.95 else rng.randint(5, 12)
        closed: int | None = opened + duration
        if opened + duration > self.last_period:
            closed = None
        honour = rng.random() < 0.08
        risk = rng.choice(self.risks)
        children = rng.choice([0, 0, 0, 1, 1, 2, 3])
        self.made += 1
        name = f"b{self.suffix}{self.made:09d}".encode()[: sealed_statistics.PSEUDONYM_BYTES]
        return (
            name.ljust(sealed_statistics.PSEUDONYM_BYTES, b"-"),
            opened,
            StatisticsValues(
                closed_period=closed,
                legal_gender=rng.choice(self.genders),
                age_band=rng.choice(self.ages),
                # Every case has a context (cases/records.py); partner violence where none was drawn.
                context_mask=(_mask(rng, [0.75, 0.25]) or _bit(ViolenceContext, ViolenceContext.PARTNER))
                | (_bit(ViolenceContext, ViolenceContext.HONOUR) if honour else 0),
                form_mask=_mask(
                    rng, [0.6, 0.85, 0.15, 0.1, 0.05, 0.03, 0.02, 0.02, 0.1][: len(ViolenceForm)]
                ),
                honour_mask=_mask(rng, [0.3] * len(HonourSubtype)) if honour else 0,
                relation_mask=_mask(
                    rng, [0.5, 0.3, 0.08, 0.03, 0.03, 0.05, 0.04, 0.03][: len(PerpetratorRelation)]
                ),
                flag_mask=_mask(rng, [0.05, 0.04, 0.05, 0.05])
                | (_bit(CaseFlag, CaseFlag.CHILDREN_IN_HOUSEHOLD) if children else 0)
                | (_bit(CaseFlag, CaseFlag.CHILDREN_WITNESSED) if children and rng.random() < 0.5 else 0)
                | (_bit(CaseFlag, CaseFlag.REPORT_OF_CONCERN) if children and rng.random() < 0.4 else 0),
                measure_mask=_mask(rng, [0.15, 0.12, 0.08, 0.02, 0.4][: len(MeasureKind)]),
                risk_level=risk,
                risk_assessment_count=rng.randint(1, 3) if risk else 0,
                repeat_victimisation=rng.random() < 0.2,
                child_count=children,
            ),
        )

    def grow_to(self, total: int) -> None:
        size = max(0, total - self.made)
        sealed_statistics.bulk_add(self.record() for _index in range(size))


def analyze(database: str) -> None:
    connection = connections[database]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE cases_statisticsblock")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


def _seconds(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    operation()
    return time.perf_counter() - start


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return f"median {statistics.median(ordered) * 1000:9.1f} ms   p95 {p95 * 1000:9.1f} ms"


class Command(BaseCommand):
    help = (
        "Time one nulägesbild (its tables, then its PDF) over --scales statistics records, bulk-created in "
        "a transaction that is always rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scales",
            default=DEFAULT_SCALES,
            help=f"Comma-separated totals to measure in turn, growing the same data ({DEFAULT_SCALES}).",
        )
        parser.add_argument("--repeat", type=int, default=5, help="Timed repetitions at each scale (5).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            scales = sorted({int(value) for value in str(options["scales"]).split(",") if value.strip()})
        except ValueError as error:
            raise CommandError(
                "--scales takes whole numbers separated by commas, such as 10000,100000."
            ) from error
        repeat: int = options["repeat"]
        if not scales or scales[0] < 1 or repeat < 1:
            raise CommandError("--scales and --repeat must be at least 1.")
        today = timezone.localdate()
        period = Period(today.year)
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        before = sealed_statistics.record_count()
        self.stdout.write(
            f"Nulägesbild benchmark on {vendor}: the release for {period.label}, {repeat} repetition(s) "
            f"per scale, {before:,} statistics records in the database before."
        )
        try:
            with transaction.atomic(using=DEFAULT_DB_ALIAS):
                maker = RecordMaker(last_period=period.first + (0 if today.month <= 6 else 1))
                for total in scales:
                    self._measure(maker, total, period, repeat, today)
                raise _Rollback
        except _Rollback:
            pass
        if vendor == "postgresql":
            analyze(DEFAULT_DB_ALIAS)
        left = sealed_statistics.record_count() - before
        self.stdout.write(f"Rolled back: {left} benchmark records left behind.")

    def _measure(self, maker: RecordMaker, total: int, period: Period, repeat: int, today: Any) -> None:
        tag = f"[{total:,} records]"
        start = time.perf_counter()
        maker.grow_to(total)
        analyze(DEFAULT_DB_ALIAS)
        self.stdout.write(f"{tag} created in {time.perf_counter() - start:.1f} s (sealed into blocks)")
        content: dict[str, Any] = {}
        counts: dict[str, int] = {}

        def count() -> None:
            counts.clear()
            counts.update(count_period(period, today))

        def tables() -> None:
            content.clear()
            content.update(build_content(count_period(period, today), period))

        count_times = [_seconds(count) for _index in range(repeat)]
        linear_times = [
            _seconds(lambda: build_content(counts, period, integer=False)) for _index in range(repeat)
        ]
        whole_times = [_seconds(lambda: build_content(counts, period)) for _index in range(repeat)]
        table_times = [_seconds(tables) for _index in range(repeat)]
        self.stdout.write(
            f"{tag} count in the database:                              {_summary(count_times)}"
        )
        self.stdout.write(
            f"{tag} rules and secondary suppression:                    {_summary(linear_times)}"
        )
        self.stdout.write(
            f"{tag} the same with the integer gate:                     {_summary(whole_times)}"
        )
        pdf_times = [_seconds(lambda: render_pdf(content)) for _index in range(repeat)]
        cells = content["method"]["cells"]
        new_cases = content["tables"][0]["rows"][0]["cells"][3]["display"]
        self.stdout.write(
            f"{tag} tables (count in the database, disclosure control, content): {_summary(table_times)}   "
            f"{new_cases} new cases, {cells['shown']} of {cells['total']} cells shown"
        )
        self.stdout.write(f"{tag} PDF from the content:                               {_summary(pdf_times)}")
