"""Appending is safe under concurrency (one chain, no fork), and benchmark_audit's parts print figures."""

from __future__ import annotations

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from access.benchmarking import append_rate, verify_rates
from access.checkpoints import verify_chain
from access.models import AuditEvent

# Committed transactions, as in use: the appends must really commit, and threads need their own connections.
pytestmark = pytest.mark.django_db(transaction=True)

RATE = r"^{label} +[\d,]+ events in +\d+\.\d\d s = +[\d,]+ events/s$"


def test_concurrent_writers_append_to_one_unbroken_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the test database on SQLite lives in memory, out of other threads' reach")
    rate = append_rate(120, 4)
    assert rate.events == 120
    assert AuditEvent.objects.count() == 120
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == 120, "two events claimed the same predecessor: the chain forked"
    report = verify_chain(full=True)
    assert report.ok, report.problem
    assert report.checked == 120


def test_the_rates_are_printed_and_the_benchmark_chain_verifies() -> None:
    lines = [append_rate(40, 1).line(), *(rate.line() for rate in verify_rates())]
    assert re.match(RATE.format(label=re.escape("append, 1 writer (a transaction per event)")), lines[0])
    assert re.match(RATE.format(label=re.escape("verify, whole chain")), lines[1])
    assert "  40 events" in lines[1]
    assert re.match(RATE.format(label=re.escape("verify, incremental (1,000 after a checkpoint)")), lines[2])
    assert " 1,000 events" in lines[2]
    assert AuditEvent.objects.count() == 1040


@pytest.mark.parametrize("args", [["--events", "0"], ["--writers", "0"]])
def test_the_command_refuses_nonsense(args: list[str]) -> None:
    with pytest.raises(CommandError, match="must be at least 1"):
        call_command("benchmark_audit", *args)
