from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.actions import CaseActionError
from cases.choices import CaseStatus
from cases.importing import (
    ImportFailed,
    ImportRefused,
    ImportRejected,
    do_import_cases,
    format_problems,
    load_import_file,
    membership_for_import,
    validate_import,
)


class Command(BaseCommand):
    help = (
        "Import cases from a JSON file in the format of docs/import-format.md into one agency, in the name "
        "of one of its handläggare or samordnare. The whole file is checked first; if any record has a "
        "problem, nothing is imported. Then all cases are imported in one transaction, or none. With "
        "--verbosity 2 it lists the reference given to each record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The JSON file.")
        parser.add_argument("--agency", required=True, help="Code of the agency that will own the cases.")
        parser.add_argument(
            "--user",
            help="Username of the handläggare or samordnare in whose name the cases are opened (required).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["user"]:
            raise CommandError(
                "--user is required: imported cases are opened, and audited, in the name of a handläggare "
                "or samordnare of the agency."
            )
        try:
            membership = membership_for_import(options["user"], options["agency"])
            data = load_import_file(options["path"])
            rows = validate_import(data, agency=membership.agency)
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        except ImportRejected as error:
            raise CommandError(format_problems(error.problems)) from None
        try:
            cases = do_import_cases(rows, acting_user=membership.user, membership=membership)
        except ImportFailed as error:
            raise CommandError(self._failure_message(error)) from error
        counts = {status: sum(1 for case in cases if case.status == status) for status in CaseStatus.values}
        self.stdout.write(
            f"Imported {len(cases)} case(s) into {membership.agency.code} in the name of "
            f"{membership.user.get_username()}: "
            + ", ".join(f"{count} {status}" for status, count in counts.items())
            + "."
        )
        if options["verbosity"] >= 2:
            for record, case in enumerate(cases, start=1):
                self.stdout.write(f"  record {record}: {case.reference}")

    def _failure_message(self, error: ImportFailed) -> str:
        cause = error.__cause__
        # Only our own rule messages are shown: a database error's text may quote the row it was given.
        detail = str(cause) if isinstance(cause, CaseActionError) else type(cause).__name__
        where = f"at record {error.record}" if error.record is not None else "while finishing"
        lines = [
            f"Import failed {where} ({detail}); everything was rolled back and nothing was imported. "
            "Run again with --traceback for the full error."
        ]
        if error.leftover_keys:
            keys = ", ".join(str(case_id) for case_id in error.leftover_keys)
            lines.append(
                f"{len(error.leftover_keys)} data key(s) of the rolled-back cases could not be removed "
                f"from the key store. They belong to no case and identify no one; delete these CaseKey "
                f"rows by hand: {keys}"
            )
        return "\n".join(lines)
