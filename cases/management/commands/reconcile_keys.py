"""Compare the key store with the main database, both ways.

A data key lives in the key store, its case in the main database: two databases, two commits. Opening
a case commits the key first (a case must never exist without its key), so a failure between the two
leaves a key without a case: it belongs to no one and identifies no one, but it should not linger.
Gallring destroys the key first, so one that stopped half-way leaves a case without a key: unreadable
for good, to be finished by ``gallra``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from cases.models import Case, CaseKey
from cases.retention import cases_without_key
from cases.routers import KEYSTORE

# A key younger than this may belong to a case being opened this very moment (its key is committed
# a moment before the case): never touched.
GRACE = datetime.timedelta(hours=1)
CHUNK = 500


def _existing_cases(case_ids: list[Any]) -> set[Any]:
    found: set[Any] = set()
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start : start + CHUNK]
        found.update(Case.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    return found


def orphan_keys(now: datetime.datetime | None = None) -> list[Any]:
    """Case ids of keys older than GRACE whose case does not exist."""
    cutoff = (now or timezone.now()) - GRACE
    key_ids = list(CaseKey.objects.filter(created_at__lt=cutoff).values_list("case_id", flat=True))
    existing = _existing_cases(key_ids)
    return sorted((case_id for case_id in key_ids if case_id not in existing), key=str)


def cases_without_keys() -> list[tuple[Any, str]]:
    """(id, reference) of every case whose key is gone."""
    cases = dict(Case.objects.values_list("pk", "reference"))
    keyless = cases_without_key(list(cases))
    return sorted(((case_id, cases[case_id]) for case_id in keyless), key=str)


class Command(BaseCommand):
    help = (
        "Compare the key store with the main database. Lists data keys whose case does not exist (left by "
        "a case opening that failed half-way; --delete-orphan-keys removes them) and cases whose key is "
        "gone (left by a gallring that stopped half-way, or a key store restored from an older backup). "
        "Keys younger than an hour are never touched. Exit status 0 when both agree, 1 when anything is "
        "listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--delete-orphan-keys",
            action="store_true",
            help="Delete the keys whose case does not exist (they identify no one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = orphan_keys()
        keyless = cases_without_keys()
        deleted = 0
        if orphans and options["delete_orphan_keys"]:
            with transaction.atomic(using=KEYSTORE):
                # Checked again inside the deletion: a case that appeared meanwhile keeps its key.
                still = set(orphans) - _existing_cases(orphans)
                deleted, _by_model = CaseKey.objects.filter(case_id__in=still).delete()
        for case_id in orphans:
            self.stdout.write(f"key without a case: {case_id}")
        for case_id, reference in keyless:
            self.stdout.write(
                f"case without a key: {reference} ({case_id}): unreadable; if it is due for gallring, "
                "manage.py gallra finishes it, otherwise restore its key from the key store's backup"
            )
        if deleted:
            self.stdout.write(f"Deleted {deleted} key(s) without a case.")
        remaining = (0 if options["delete_orphan_keys"] else len(orphans)) + len(keyless)
        if remaining:
            raise CommandError(
                f"The key store and the main database disagree: {len(orphans)} key(s) without a case, "
                f"{len(keyless)} case(s) without a key.",
                returncode=1,
            )
        self.stdout.write("The key store and the main database agree.")
