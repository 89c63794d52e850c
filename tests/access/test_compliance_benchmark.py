"""benchmark_audit_search prints a figure for each search it times, and always leaves the database as it
found it."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from access.models import Agency, AuditEvent, Membership, User

pytestmark = pytest.mark.django_db

# Each with its SQL queries: the granskare's roles and the agency codes of the scope, then the page:
# unfiltered one query per part of the scope (acting agency, owning agency, members' logins, events of
# no agency), filtered
# one query (a username or an action family costs one lookup more).
LABELS = [
    (r"first page, unfiltered", 6),
    (r"first page, by reference", 3),
    (r"first page, by user", 4),
    (r"page 101 \(keyset after 100 pages\)", 6),
    (r"first page, action case\.emergency_access, last 30 days", 3),
    (r"first page, actions auth\.\*", 4),
    (r"first page, last 7 days", 3),
    (r"first page, one day half a year ago", 3),
    (r"case history: read summary", 2),
    (r"user activity: counts per action", 3),
    (r"anomalies \(a\) heavy readers, 30 days", 1),
    (r"anomalies \(b\) protected identity, 30 days", 1),
    (r"anomalies \(c\) outside office hours, 30 days", 1),
    (r"anomalies \(d\) without disclosure, 30 days", 1),
    (r"anomalies \(e\) emergency accesses, 30 days", 1),
    (r"actions offered by the search form", 1),
    (r"export read \(10,000 \+ 1 rows\), unfiltered", 2),
]


def benchmark(*args: str) -> str:
    out = io.StringIO()
    call_command("benchmark_audit_search", *args, stdout=out)
    return out.getvalue()


def test_it_prints_every_figure_and_leaves_nothing_behind() -> None:
    events_before = AuditEvent.objects.count()
    output = benchmark("--events", "3000", "--agencies", "4", "--users-per-agency", "2", "--repeat", "2")
    assert re.search(
        r"^Audit search benchmark on (sqlite|postgresql), 2 repetition\(s\): 3,000 events, 4 agencies of 2 "
        r"users, 5% of the events by the granskare's agency\.$",
        output,
        re.MULTILINE,
    ), output
    assert re.search(
        r"^created in \d+\.\d s \(bulk_create in batches of 10,000, then ANALYZE\)$", output, re.MULTILINE
    )
    for label, queries in LABELS:
        line = rf"^{label} +median +\d+\.\d\d ms +p95 +\d+\.\d\d ms +queries {queries}$"
        assert re.search(line, output, re.MULTILINE), f"no line like {line!r} in:\n{output}"
    assert output.rstrip().endswith("Rolled back: the benchmark left no data behind.")
    assert AuditEvent.objects.count() == events_before
    assert not Agency.objects.filter(code__startswith="benchmark-").exists()
    assert not User.objects.filter(username__startswith="benchmark-").exists()
    assert not Membership.objects.exists()


def test_it_prints_the_plans_when_asked() -> None:
    output = benchmark(
        "--events", "500", "--agencies", "2", "--users-per-agency", "1", "--repeat", "1", "--explain"
    )
    for plan in (
        "first page, unfiltered, 1st part",
        "first page, unfiltered, 2nd part",
        "first page, unfiltered, 4th part",
        "first page, by user",
        "first page, actions auth\\.\\*",
        "deep page, 2nd part",
        "anomalies \\(c\\), 30 days",
    ):
        assert re.search(rf"^EXPLAIN {plan}:\n    \S", output, re.MULTILINE), f"no plan for {plan}"


@pytest.mark.parametrize(
    "args",
    [("--events", "0"), ("--repeat", "0"), ("--agencies", "1"), ("--own-share", "0"), ("--own-share", "1.5")],
)
def test_it_refuses_nonsense(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        benchmark(*args)
