from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from access.checkpoints import (
    CheckpointFileError,
    export_checkpoints,
    read_checkpoint_file,
    record_verification,
    sign_checkpoint,
    verify_chain,
)


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain and its signed checkpoints. By default it starts from the "
        "newest checkpoint and reads only the events after it; --full reads the whole chain. When the "
        "chain holds, a new signed checkpoint covers the events just verified. Exits 1 and names the first "
        "broken event when anything was changed, removed, reordered or rolled back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Verify every event from the first one.")
        parser.add_argument(
            "--against",
            type=Path,
            metavar="FILE",
            help="Also check the checkpoints of a file exported earlier with --export.",
        )
        parser.add_argument(
            "--export",
            type=Path,
            metavar="FILE",
            help="After verifying, write every checkpoint to FILE (a new file) for the granskare to keep.",
        )
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="Verify only; do not sign a new checkpoint."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        export: Path | None = options["export"]
        if export is not None and export.exists():
            raise CommandError(f"{export} already exists; choose a new file name.", returncode=2)
        against = []
        if options["against"] is not None:
            try:
                against = read_checkpoint_file(options["against"])
            except CheckpointFileError as error:
                raise CommandError(str(error), returncode=2) from None
        started_at = timezone.now()
        try:
            report = verify_chain(full=options["full"], against=against)
            checkpoint = None if options["no_checkpoint"] else sign_checkpoint(report)
        except ImproperlyConfigured as error:
            raise CommandError(str(error), returncode=2) from None
        record_verification(report, started_at, checkpoint)
        start = (
            f"after checkpoint {report.start_checkpoint}"
            if report.start_checkpoint is not None
            else "from the start of the trail"
        )
        if not report.ok:
            where = (
                f" First broken event: {report.first_broken_event_id}."
                if report.first_broken_event_id
                else ""
            )
            raise CommandError(f"The audit trail is BROKEN: {report.problem}.{where}", returncode=1)
        checked = f"events {report.from_event_id}–{report.to_event_id}" if report.checked else "no new events"
        self.stdout.write(
            f"The audit trail holds: verified {report.checked} event(s) {start} ({checked}) and "
            f"{report.checkpoints_checked} checkpoint signature(s)."
        )
        if checkpoint is not None:
            self.stdout.write(f"Signed checkpoint {checkpoint.pk} at event {checkpoint.event_id}.")
        if export is not None:
            descriptor = os.open(export, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                written = export_checkpoints(handle)
            self.stdout.write(f"Wrote {written} checkpoint(s) to {export}.")
