"""benchmark_case_list prints its figures and plans, checks its own data, and always leaves the databases
as it found them."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from access.models import Agency, AuditEvent, Membership, User
from cases.models import Case, CaseGroupObjectPermission, CaseKey, Disclosure, EmergencyAccess, Person

pytestmark = pytest.mark.django_db


def timing(queries: int) -> str:
    return rf" +median +\d+\.\d\d ms +p95 +\d+\.\d\d ms +queries {queries}$"


def benchmark(*args: str) -> str:
    out = io.StringIO()
    call_command("benchmark_case_list", *args, stdout=out)
    return out.getvalue()


def assert_nothing_left() -> None:
    for model in (Case, Person, Disclosure, EmergencyAccess, CaseGroupObjectPermission, CaseKey, AuditEvent):
        assert model.objects.count() == 0, model.__name__
    assert not Agency.objects.filter(code__startswith="benchmark-").exists()
    assert not User.objects.filter(username__startswith="benchmark-").exists()
    assert not Membership.objects.exists()
    assert not Group.objects.filter(name__startswith="myndighet:benchmark-").exists()


def assert_figures_for(output: str, total: str, visible: str) -> None:
    tag = re.escape(f"[{total} cases]")
    lines = [
        rf"{tag} created in \d+\.\d s, 21 agencies \(bulk_create in batches of 10,000, then ANALYZE\)$",
        # The list view's page: the count, the page's ids, the rows with their related rows.
        rf"{tag} list view page \(count, ids, rows\)" + timing(3),
        rf"{tag} page by one joined query, list order" + timing(1),
        rf"{tag} page by one joined query, Meta order \('-opened_on', 'reference'\)" + timing(1),
        rf"{tag} count of visible cases = {re.escape(visible)}" + timing(1),
    ]
    for line in lines:
        assert re.search(line, output, re.MULTILINE), f"no line like {line!r} in:\n{output}"
    for plan in ("the page's ids", "the page's count"):
        # The heading, then at least one indented line of the plan.
        assert re.search(rf"^{tag} EXPLAIN {plan}:\n    \S", output, re.MULTILINE), f"no plan for {plan}"


def test_it_prints_the_first_page_the_count_their_queries_and_plans() -> None:
    output = benchmark("--total", "300", "--visible", "40", "--repeat", "2")
    assert re.search(
        r"^Case list benchmark on (sqlite|postgresql), 2 repetition\(s\): the user sees 40 cases: "
        r"31 of their own agency, 8 disclosed to it, 1 by emergency access; hidden from them: 2 revoked and "
        r"2 expired disclosures to their agency, 1 expired emergency accesses of theirs, 8 disclosures "
        r"between other agencies\.$",
        output,
        re.MULTILINE,
    ), output
    assert_figures_for(output, "300", "40")
    assert output.rstrip().endswith("Rolled back: the benchmark left no data behind.")
    assert_nothing_left()


def test_it_measures_each_scale_on_growing_data() -> None:
    output = benchmark("--scales", "300,150", "--visible", "20", "--repeat", "1")
    assert_figures_for(output, "150", "20")
    assert_figures_for(output, "300", "20")
    assert output.index("[150 cases]") < output.index("[300 cases]")
    assert_nothing_left()


@pytest.mark.django_db(transaction=True, databases=["default", "keys"])
def test_it_leaves_nothing_behind_outside_a_test_transaction() -> None:
    benchmark("--total", "100", "--visible", "10", "--repeat", "1")
    assert_nothing_left()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeat", "0"], "at least 1"),
        (["--visible", "0"], "at least 1"),
        (["--total", "0"], "at least 1"),
        (["--scales", "1000,mycket"], "whole numbers"),
        (["--total", "50", "--visible", "40"], "--total must be at least 53 for 40 visible cases"),
    ],
)
def test_it_refuses_numbers_it_cannot_use(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        benchmark(*args)
    assert_nothing_left()
