"""Write the nulägesbild for a period to a file, for scheduled reports.

    python manage.py nulagesbild --period 2026 [--half 1] --format html|pdf|csv --out FILE [--force]

The content and the rendering are those of a release made now for the same period (release.do_export);
the export is audited as the system (no actor, action ``nulagesbild.export``), in the same transaction
as the file is written: if the audit entry cannot be written, no file is. An existing file is never
overwritten unless --force is given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from coordination.nulagesbild.content import UnprotectedReleaseError
from coordination.nulagesbild.periods import Period, PeriodError
from coordination.nulagesbild.release import FORMATS, do_export
from coordination.pdf_fonts import PdfFontMissingError


class Command(BaseCommand):
    help = (
        "Write the anonymised nulägesbild for a calendar year (or one half of it) to a file as HTML, "
        "PDF or CSV. Audited as a system export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="The calendar year, for example 2026.")
        parser.add_argument("--half", help="1 for January–June, 2 for July–December; leave out for the year.")
        parser.add_argument("--format", required=True, dest="fmt", help="html, pdf or csv.")
        parser.add_argument("--out", required=True, help="The file to write.")
        parser.add_argument("--force", action="store_true", help="Overwrite the file if it exists.")

    def handle(self, *args: Any, **options: Any) -> None:
        period = self._period(options["period"], options["half"])
        fmt = str(options["fmt"]).lower()
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, not {options['fmt']!r}.")
        out = Path(options["out"])
        if out.is_dir():
            raise CommandError(f"--out must name a file, but {out} is a directory.")
        if not out.parent.is_dir():
            raise CommandError(f"The directory {out.parent} does not exist; create it first.")
        if out.exists() and not options["force"]:
            raise CommandError(f"{out} already exists; use --force to overwrite it.")
        try:
            with transaction.atomic():
                rendered = do_export(period, fmt)
                self._write(out, rendered.data, force=options["force"])
        except PeriodError as error:
            raise CommandError(str(error)) from error
        except UnprotectedReleaseError as error:
            raise CommandError(f"Nothing was written: {error}") from error
        except PdfFontMissingError as error:
            raise CommandError(f"Nothing was written: {error}") from error
        self.stdout.write(
            f"Wrote the nulägesbild for {period.label} ({fmt}, {len(rendered.data):,} bytes) to {out}."
        )

    def _period(self, year_text: str, half_text: str | None) -> Period:
        try:
            year = int(year_text)
        except ValueError:
            raise CommandError(f"--period must be a year such as 2026, not {year_text!r}.") from None
        half = None
        if half_text is not None:
            if half_text not in ("1", "2"):
                raise CommandError(f"--half must be 1 or 2, not {half_text!r}.")
            half = int(half_text)
        try:
            return Period(year, half)
        except PeriodError as error:
            raise CommandError(str(error)) from error

    def _write(self, out: Path, data: bytes, *, force: bool) -> None:
        """Write to a new file beside ``out`` and move it into place: a reader never sees half a file,
        and without --force a file that appeared meanwhile is still not overwritten."""
        temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        try:
            with temporary.open("xb") as handle:
                handle.write(data)
            if force:
                temporary.replace(out)
            else:
                try:
                    os.link(temporary, out)
                except FileExistsError:
                    raise CommandError(f"{out} already exists; use --force to overwrite it.") from None
        finally:
            temporary.unlink(missing_ok=True)
