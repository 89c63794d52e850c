from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.sharing import expire_disclosures


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date written YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Record the disclosures whose end date has passed: each gets an audit entry and its stored "
        "per-case grants are dropped. Access already ended at midnight (the policy checks the date), so "
        "this only brings the records in step. Run daily (deploy/skyddsnat-expire-disclosures.timer). "
        "Prints a count, never a case or a person."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Compute as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = _date(options["today"]) if options["today"] else None
        count = expire_disclosures(today)
        self.stdout.write(f"Recorded {count} expired disclosure(s).")
