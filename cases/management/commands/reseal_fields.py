"""Rewrite every sealed value still in an old, unpadded form (format 1, or an empty column) as a padded
one (format 2, cases/crypto.py), so that a dump of an upgraded database shows no ciphertext length that
follows its plaintext. Run once after upgrading; running it again finds nothing to do.

Every model with ``*_sealed`` columns that belongs to a case (the case itself, or a ``case`` foreign key) is
walked, whichever app it lives in. Each row is opened and sealed again with its own case's data key, in
one transaction per case; nothing is decrypted into any output. ``--check`` only counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import models, transaction

from access.audit import record_event
from cases.crypto import is_padded
from cases.models import Case, Person
from cases.vault import CaseShreddedError, CaseVault


def sealed_models() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Each model belonging to a case, with the names of its sealed values (column without ``_sealed``)."""
    for model in apps.get_models():
        names = [
            field.name[: -len("_sealed")]
            for field in model._meta.concrete_fields
            if field.name.endswith("_sealed")
        ]
        if not names:
            continue
        belongs = model is Case or any(
            isinstance(field, models.ForeignKey) and field.name == "case" and field.related_model is Case
            for field in model._meta.concrete_fields
        )
        if belongs:
            yield model, names


def _stale(row: models.Model, names: list[str]) -> list[str]:
    stale = []
    for name in names:
        blob = bytes(getattr(row, f"{name}_sealed"))
        # Empty on purpose, which the database checks: a protected person never has an address.
        kept_empty = isinstance(row, Person) and name == "address" and row.has_protected_identity
        if (blob == b"" and not kept_empty) or (blob and not is_padded(blob)):
            stale.append(name)
    return stale


class Command(BaseCommand):
    help = "Rewrite unpadded sealed values (written before padding) as padded ones, case by case."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Only count what would be rewritten.")

    def handle(self, *args: Any, **options: Any) -> None:
        check: bool = options["check"]
        rewritten = rows = shredded = 0
        for model, names in sealed_models():
            for row in model._default_manager.order_by("pk").iterator():
                stale = _stale(row, names)
                if not stale:
                    continue
                rows += 1
                rewritten += len(stale)
                if check:
                    continue
                try:
                    vault = CaseVault.for_case(row.pk if isinstance(row, Case) else row.case_id)  # type: ignore[attr-defined]
                except CaseShreddedError:
                    shredded += 1  # its key is gone (gallring under way): nothing left to protect
                    continue
                with transaction.atomic():
                    for name in stale:
                        vault.seal(row, name, vault.open(row, name))
                    row.save(update_fields=[f"{name}_sealed" for name in stale])
        verb = "would be rewritten" if check else "rewritten"
        self.stdout.write(f"{rewritten} sealed value(s) in {rows} row(s) {verb}.")
        if shredded:
            self.stdout.write(f"{shredded} row(s) skipped: their case has no data key any more.")
        if not check and rows:
            with transaction.atomic():
                record_event("maintenance.reseal", actor=None, details={"rows": rows, "values": rewritten})
