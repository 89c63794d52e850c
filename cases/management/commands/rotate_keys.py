from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from access.audit import record_event
from cases.keys import MissingKeyError, key_provider, reset_key_provider
from cases.rotation import add_key_to_file, rewrap_batch, versions_in_use


class Command(BaseCommand):
    help = (
        "Re-wrap every case data key with the current key-encryption key, in batches, while the "
        "system runs. Resumable: run it again until it reports nothing left. First make the new key "
        "current on every app node (SKYDDSNAT_KEKS + SKYDDSNAT_KEK_CURRENT, or --add-key-version with "
        "a key file) and restart them; retire the old key only when this reports no data key uses it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--max-batches", type=int, default=0, help="Stop after this many batches (0: no limit)."
        )
        parser.add_argument(
            "--add-key-version",
            metavar="VERSION",
            help="With SKYDDSNAT_KEY_FILE: first add a new random KEK with this version id, made current.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["add_key_version"]:
            key_file = os.environ.get("SKYDDSNAT_KEY_FILE")
            if not key_file:
                raise CommandError(
                    "--add-key-version needs SKYDDSNAT_KEY_FILE; with keys in the environment, add the "
                    "new version to SKYDDSNAT_KEKS and SKYDDSNAT_KEK_CURRENT yourself."
                )
            try:
                add_key_to_file(Path(key_file), options["add_key_version"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            reset_key_provider()
            self.stdout.write(
                f"Added key version {options['add_key_version']} to {key_file} and made it current."
            )
        provider = key_provider()
        target = provider.current_kek_version()
        total = batches = 0
        while options["max_batches"] == 0 or batches < options["max_batches"]:
            try:
                done = rewrap_batch(provider, batch_size=options["batch_size"])
            except MissingKeyError as error:
                raise CommandError(f"{error} Restore that key and run again; nothing was lost.") from None
            if done == 0:
                break
            total += done
            batches += 1
            self.stdout.write(f"Re-wrapped {total} data keys so far.")
        remaining = {version: count for version, count in versions_in_use().items() if version != target}
        with transaction.atomic():
            record_event(
                "keys.rotate",
                actor=None,
                details={"to": target, "rewrapped": total, "remaining": sum(remaining.values())},
            )
        self.stdout.write(f"Re-wrapped {total} data keys to key version {target}.")
        if remaining:
            listing = ", ".join(f"{version}: {count}" for version, count in sorted(remaining.items()))
            self.stdout.write(f"Still on older versions (run again): {listing}.")
        else:
            retired = sorted(set(provider.kek_versions()) - {target})
            note = f" Versions {', '.join(retired)} can now be retired." if retired else ""
            self.stdout.write(f"Every data key uses version {target}.{note}")
