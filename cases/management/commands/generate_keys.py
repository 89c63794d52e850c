from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.keys import write_key_file


class Command(BaseCommand):
    help = (
        "Write a new key file (key-encryption key, blind-index key, pseudonym key, audit signing key) with "
        "fresh random keys, readable only by its owner. Point SKYDDSNAT_KEY_FILE at it. Never overwrites "
        "an existing file."
    )
    # It is how an installation gets its keys, so it must run before any exist.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--kek-version", default="v1", help="Version id of the first KEK.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if path.exists():
            raise CommandError(
                f"{path} already exists; refusing to overwrite keys (that would destroy all data)."
            )
        write_key_file(path, current=options["kek_version"])
        self.stdout.write(f"Wrote {path} (mode 0600). Back it up separately from the database.")
