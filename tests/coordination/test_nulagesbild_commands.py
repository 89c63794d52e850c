"""``manage.py nulagesbild`` (scheduled exports) and ``manage.py benchmark_nulagesbild``."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from access.audit import AuditWriteError
from access.models import AuditEvent
from cases import statistics as sealed_statistics
from coordination.nulagesbild.periods import Period
from coordination.nulagesbild.release import do_export
from tests.coordination.nulagesbild_data import random_records, store_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def year() -> str:
    return str(timezone.localdate().year)


@pytest.fixture
def statistics(year: str) -> None:
    records = random_records(21, size=200, year=int(year))
    store_records(records)


def export(*arguments: str) -> str:
    out = io.StringIO()
    call_command("nulagesbild", *arguments, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["pdf", "html", "csv"])
def test_it_writes_the_same_file_as_a_release_made_now_and_audits_the_system(
    statistics: None, year: str, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"rapport.{fmt}"
    message = export("--period", year, "--format", fmt, "--out", str(out))
    assert f"Wrote the nulägesbild for {year}" in message
    assert out.read_bytes() == do_export(Period(int(year)), fmt).data
    event = AuditEvent.objects.filter(action="nulagesbild.export").first()
    assert event is not None and event.actor is None
    assert event.details["period"] == year and event.details["format"] == fmt


def test_a_half_year_is_exported_with_its_own_period(statistics: None, year: str, tmp_path: Path) -> None:
    out = tmp_path / "forsta.csv"
    export("--period", year, "--half", "1", "--format", "csv", "--out", str(out))
    assert f"Period: första halvåret {year}" in out.read_bytes().decode("utf-8-sig")
    assert AuditEvent.objects.get(action="nulagesbild.export").details["period"] == f"{year}-h1"


def test_an_existing_file_is_kept_unless_forced(year: str, tmp_path: Path) -> None:
    out = tmp_path / "rapport.csv"
    out.write_text("viktig fil", encoding="utf-8")
    with pytest.raises(CommandError, match="already exists; use --force"):
        export("--period", year, "--format", "csv", "--out", str(out))
    assert out.read_text(encoding="utf-8") == "viktig fil"
    assert not AuditEvent.objects.filter(action="nulagesbild.export").exists()
    export("--period", year, "--format", "csv", "--out", str(out), "--force")
    assert out.read_bytes().startswith("\ufeff".encode())
    assert [path.name for path in tmp_path.iterdir()] == ["rapport.csv"]  # no temporary file left


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--period", "tjugo", "--format", "pdf"], "--period must be a year such as 2026, not 'tjugo'"),
        (["--period", "1899", "--format", "pdf"], "The year must be between 2000 and 2999, not 1899"),
        (["--period", "2026", "--half", "3", "--format", "pdf"], "--half must be 1 or 2, not '3'"),
        (["--period", "2026", "--format", "docx"], "--format must be one of html, pdf, csv, not 'docx'"),
        (["--period", "2999", "--format", "pdf"], "The period 2999 has not started yet"),
    ],
)
def test_bad_arguments_get_a_plain_error_and_no_file(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    out = tmp_path / "rapport.pdf"
    with pytest.raises(CommandError, match=re.escape(message)):
        export(*arguments, "--out", str(out))
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="nulagesbild.export").exists()


def test_a_missing_directory_or_a_directory_as_file_is_refused(year: str, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist; create it first"):
        export("--period", year, "--format", "csv", "--out", str(tmp_path / "saknas" / "rapport.csv"))
    with pytest.raises(CommandError, match="is a directory"):
        export("--period", year, "--format", "csv", "--out", str(tmp_path))


def test_required_arguments_are_named() -> None:
    with pytest.raises(CommandError, match="--period, --format, --out"):
        call_command("nulagesbild")


def test_no_file_without_its_audit_entry(year: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise AuditWriteError("no audit today")

    monkeypatch.setattr("coordination.nulagesbild.release.record_event", broken)
    out = tmp_path / "rapport.pdf"
    with pytest.raises(AuditWriteError):
        export("--period", year, "--format", "pdf", "--out", str(out))
    assert not out.exists()


def test_an_unprotectable_period_or_a_missing_font_is_a_plain_error_and_no_file(
    year: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_pdf_font: None
) -> None:
    from coordination.nulagesbild.content import UnprotectedReleaseError

    out = tmp_path / "rapport.pdf"
    with pytest.raises(CommandError, match="Nothing was written: No PDF font is installed"):
        export("--period", year, "--format", "pdf", "--out", str(out))
    assert not out.exists()

    def unprotected(*args: object, **kwargs: object) -> None:
        raise UnprotectedReleaseError("2 suppressed cells could not be protected; nothing is published.")

    monkeypatch.setattr("coordination.nulagesbild.release.build_content", unprotected)
    with pytest.raises(CommandError, match="Nothing was written: 2 suppressed cells could not be protected"):
        export("--period", year, "--format", "csv", "--out", str(out))
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="nulagesbild.export").exists()


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_times_tables_and_pdf_at_each_scale_and_leaves_nothing_behind() -> None:
    store_records(random_records(1, size=5), "kept-")
    out = io.StringIO()
    call_command("benchmark_nulagesbild", "--scales", "300,1000", "--repeat", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Nulägesbild benchmark on ")
    assert "5 statistics records in the database before" in lines[0]
    for scale in ("300", "1,000"):
        assert any(line.startswith(f"[{scale} records] created in ") for line in lines)
        tables = next(line for line in lines if line.startswith(f"[{scale} records] tables "))
        assert re.search(r"median +\d+\.\d ms +p95 +\d+\.\d ms", tables)
        pdf = next(line for line in lines if line.startswith(f"[{scale} records] PDF "))
        assert re.search(r"median +\d+\.\d ms", pdf)
    assert lines[-1] == "Rolled back: 0 benchmark records left behind."
    assert sealed_statistics.record_count() == 5
    kept = [values for _period, values in sealed_statistics.records_up_to(10**6)]
    assert Counter(kept) == Counter(record.stored("x")[2] for record in random_records(1, size=5))


def test_the_benchmark_refuses_bad_scales() -> None:
    with pytest.raises(CommandError, match="whole numbers separated by commas"):
        call_command("benchmark_nulagesbild", "--scales", "många", stdout=io.StringIO())
    with pytest.raises(CommandError, match="at least 1"):
        call_command("benchmark_nulagesbild", "--scales", "0", stdout=io.StringIO())
