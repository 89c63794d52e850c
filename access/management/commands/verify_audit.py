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

# Exit statuses (also in the help text and the README).
HOLDS, BROKEN, MISCONFIGURED, CRASHED = 0, 1, 2, 3


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain and its signed checkpoints. By default it starts from the "
        "newest checkpoint and reads only the events after it; --full reads the whole chain. When the "
        "chain holds, a new signed checkpoint covers the events just verified. Exit status: 0 the trail "
        "holds; 1 the trail is BROKEN (the first broken event is named) when anything was changed, removed, "
        "reordered or rolled back; 2 misconfigured or bad arguments (keys, files); 3 the verification "
        "could not run (the database refused or failed), which says nothing about the trail."
    )

    def execute(self, *args: Any, **options: Any) -> str | None:
        # Any failure that is not a finding gets its own status, so an alert can tell a node that cannot
        # verify (a missing privilege, a database that is down) from a trail that was tampered with.
        try:
            return super().execute(*args, **options)
        except CommandError:
            raise
        except Exception as error:  # noqa: BLE001 - reported with its type; --traceback shows the rest
            if options.get("traceback"):
                raise
            raise CommandError(
                f"The verification could not run ({type(error).__name__}: {error}). This is not a finding "
                "about the trail: fix the cause and run again (--traceback shows where it failed).",
                returncode=CRASHED,
            ) from error

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
            "--archive",
            type=Path,
            metavar="DIR",
            help=(
                "Keep the checkpoints outside the database: check against the newest file in DIR (written "
                "by an earlier run), and after a run where the trail holds, add a new one. A database "
                "rolled back to an older backup lacks checkpoints the newest file has."
            ),
        )
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="Verify only; do not sign a new checkpoint."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        export: Path | None = options["export"]
        if export is not None and export.exists():
            raise CommandError(f"{export} already exists; choose a new file name.", returncode=MISCONFIGURED)
        against = []
        archive: Path | None = options["archive"]
        files = [options["against"]] if options["against"] is not None else []
        if archive is not None:
            if not archive.is_dir() or not os.access(archive, os.W_OK):
                raise CommandError(
                    f"{archive} is not a directory this user can write to.", returncode=MISCONFIGURED
                )
            newest = _newest_archived(archive)
            if newest is not None:
                files.append(newest)
        for path in files:
            try:
                against.extend(read_checkpoint_file(path))
            except CheckpointFileError as error:
                raise CommandError(str(error), returncode=MISCONFIGURED) from None
        started_at = timezone.now()
        try:
            report = verify_chain(full=options["full"], against=against)
            checkpoint = None if options["no_checkpoint"] else sign_checkpoint(report)
        except ImproperlyConfigured as error:
            raise CommandError(str(error), returncode=MISCONFIGURED) from None
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
            raise CommandError(f"The audit trail is BROKEN: {report.problem}.{where}", returncode=BROKEN)
        checked = f"events {report.from_event_id}–{report.to_event_id}" if report.checked else "no new events"
        self.stdout.write(
            f"The audit trail holds: verified {report.checked} event(s) {start} ({checked}) and "
            f"{report.checkpoints_checked} checkpoint signature(s)."
        )
        for note in report.notes:
            self.stdout.write(f"Note: {note}.")
        if checkpoint is not None:
            self.stdout.write(f"Signed checkpoint {checkpoint.pk} at event {checkpoint.event_id}.")
        if archive is not None:
            export_to = archive / f"{ARCHIVE_PREFIX}{timezone.now().strftime('%Y%m%dT%H%M%S%fZ')}.jsonl"
            self.stdout.write(f"Archived {_export(export_to)} checkpoint(s) in {export_to}.")
        if export is not None:
            self.stdout.write(f"Wrote {_export(export)} checkpoint(s) to {export}.")


ARCHIVE_PREFIX = "kontrollpunkter-"


def _newest_archived(archive: Path) -> Path | None:
    """The newest file of the archive (names carry the UTC time they were written, so they sort)."""
    files = sorted(archive.glob(f"{ARCHIVE_PREFIX}*.jsonl"))
    return files[-1] if files else None


def _export(path: Path) -> int:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        return export_checkpoints(handle)
