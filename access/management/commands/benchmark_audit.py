from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from access.benchmarking import append_rate, verify_rates


class Command(BaseCommand):
    help = (
        "Print how many audit events per second are appended (one committed transaction each; alone and "
        "with concurrent writers) and verified (whole chain, and incrementally after a checkpoint). Runs in "
        "a scratch database it creates beside the configured one and drops afterwards, because audit rows "
        "cannot be deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=20_000, help="Events per append run (20,000).")
        parser.add_argument(
            "--writers", type=int, default=4, help="Concurrent writers in the second run (4)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        events: int = options["events"]
        writers: int = options["writers"]
        if events < 1 or writers < 1:
            raise CommandError("--events and --writers must be at least 1.")
        connection = connections[DEFAULT_DB_ALIAS]
        settings_dict = connection.settings_dict
        scratch_dir = None
        if connection.vendor == "sqlite":
            # A file, not memory: commits must reach the disk as they would in use.
            scratch_dir = tempfile.TemporaryDirectory(prefix="skyddsnat-auditbench-")
            settings_dict["TEST"]["NAME"] = str(Path(scratch_dir.name) / "bench.sqlite3")
        else:
            settings_dict["TEST"]["NAME"] = f"{settings_dict['NAME']}_auditbench"
        self.stdout.write(f"Audit benchmark on {connection.vendor}: creating a scratch database ...")
        original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            rates = [append_rate(events, 1), append_rate(events, writers)]
            rates += verify_rates()
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)
            if scratch_dir is not None:
                scratch_dir.cleanup()
        for rate in rates:
            self.stdout.write(rate.line())
        self.stdout.write("Dropped the scratch database.")
