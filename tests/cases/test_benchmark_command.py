"""benchmark_cases prints its figures and always leaves the databases as it found them."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from access.models import Agency, AuditEvent, User
from cases.models import Case, CaseKey
from cases.statistics import record_count

pytestmark = pytest.mark.django_db


def benchmark(*args: str) -> str:
    out = io.StringIO()
    call_command("benchmark_cases", *args, stdout=out)
    return out.getvalue()


def assert_nothing_left(events_before: int) -> None:
    assert Case.objects.count() == 0
    assert record_count() == 0
    assert CaseKey.objects.count() == 0
    assert not Agency.objects.filter(code__startswith="benchmark-").exists()
    assert not User.objects.filter(username__startswith="benchmark-").exists()
    assert AuditEvent.objects.count() == events_before


FIGURE = r"median +\d+\.\d\d ms +p95 +\d+\.\d\d ms +queries \d+ \(\+\d+ key store\)"


def test_it_prints_median_p95_and_queries_for_each_operation() -> None:
    output = benchmark("--cases", "2", "--repeat", "3")
    assert "2 full case(s), 3 repetition(s)" in output
    for label in (
        "open a full case (access_case + read_case)",
        "save: do_open_case",
        "save: do_save_summary",
    ):
        assert re.search(re.escape(label) + r" +" + FIGURE, output), f"no figures for {label}:\n{output}"
    assert "Rolled back: the benchmark left no data behind." in output
    assert_nothing_left(0)


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_leaves_nothing_behind_outside_a_test_transaction() -> None:
    benchmark("--cases", "1", "--repeat", "1")
    assert_nothing_left(0)


def test_it_refuses_nonsense_counts() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        benchmark("--cases", "0")
