from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.retention import GallringError, cases_without_key, do_gallra, due_for_gallring, last_due_entry_date


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date written YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Gallring: list the closed cases, without legal hold, whose last entry is more than "
        "SKYDDSNAT_RETENTION_YEARS years old (due from the day after the anniversary). A dry run by "
        "default; with --execute each case's data key is destroyed (crypto-shredding) and then its rows "
        "are deleted. Audit events are kept. Prints references only, never personal data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--execute", action="store_true", help="Purge the due cases (default: only list them)."
        )
        parser.add_argument("--today", help="Compute as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = _date(options["today"]) if options["today"] else timezone.localdate()
        years: int = settings.RETENTION_YEARS
        due = list(due_for_gallring(today, years=years))
        half_done = cases_without_key([case.pk for case in due])
        self.stdout.write(
            f"Gallring on {today}: closed cases without legal hold whose last entry is on or before "
            f"{last_due_entry_date(today, years)} ({years} years)."
        )
        self.stdout.write(f"{len(due)} case(s) due.")
        for case in due:
            note = (
                "  (data key already destroyed; rows left from an interrupted run)"
                if case.pk in half_done
                else ""
            )
            self.stdout.write(
                f"  {case.reference}  {case.agency.code}  closed {case.closed_on}  "
                f"last entry {case.last_entry_on}{note}"
            )
        if not options["execute"]:
            self.stdout.write("Dry run: nothing was changed. Run with --execute to purge these cases.")
            return
        failures: list[str] = []
        purged = 0
        for case in due:
            # One case's failure stops neither the others nor the report.
            try:
                do_gallra(case, today=today, years=years)
            except GallringError as error:
                failures.append(str(error))
                continue
            except Exception as error:  # noqa: BLE001 - named by type: a database error's text may quote rows
                failures.append(
                    f"{case.reference} failed ({type(error).__name__}); if its data key was destroyed, the "
                    "next run finishes it"
                )
                continue
            purged += 1
            self.stdout.write(f"  purged {case.reference}")
        self.stdout.write(f"Purged {purged} case(s); their data keys are destroyed.")
        if failures:
            raise CommandError(
                f"{len(failures)} case(s) were not purged:\n"
                + "\n".join(f"  {failure}" for failure in failures)
            )
