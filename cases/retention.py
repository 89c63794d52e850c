"""Gallring: purging closed cases once the retention period after their last entry has run out.

A case is due when it is closed (avslutat), has no legal hold (bevarandebeslut), and its last entry is
more than ``settings.RETENTION_YEARS`` years ago: it is due from the day *after* the anniversary of the
last entry. The anniversary of 29 February in a year without one is 28 February, so a leap-day entry
is never kept a day longer than any other.

Purging destroys the case's data key first (crypto-shredding) and only then deletes the rows. Once the
key is gone every ciphertext of the case is noise, in the database and in each backup of it; if the
process dies between the two steps, the rows left behind are unreadable and the next run finishes them.
"""

from __future__ import annotations

import datetime
import uuid
from calendar import isleap
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.deletion import Collector

from access.audit import record_event
from cases import statistics
from cases.choices import CaseStatus
from cases.models import Case, CaseKey, CaseQuerySet, period_of
from cases.routers import KEYSTORE


class GallringError(Exception):
    """One case could not be purged; the message names its reference, nothing else."""


@dataclass(frozen=True)
class GallringResult:
    reference: str
    key_was_present: bool


def anniversary(day: datetime.date, years: int) -> datetime.date:
    """``day`` moved ``years`` years on; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def last_due_entry_date(today: datetime.date, years: int | None = None) -> datetime.date:
    """The latest last-entry date that is due on ``today``: due means ``today > anniversary(last entry)``.

    Found from the day before ``today`` (the latest anniversary that has fully passed) moved back
    ``years`` years. Going back from 28 February of a common year into a leap year also takes in the
    29th, whose anniversary is that 28 February.
    """
    years = settings.RETENTION_YEARS if years is None else years
    yesterday = today - datetime.timedelta(days=1)
    try:
        latest = yesterday.replace(year=yesterday.year - years)
    except ValueError:
        # Yesterday was 29 February and the year ``years`` back has none.
        return yesterday.replace(year=yesterday.year - years, day=28)
    if (latest.month, latest.day) == (2, 28) and isleap(latest.year) and not isleap(yesterday.year):
        return latest.replace(day=29)
    return latest


def due_for_gallring(today: datetime.date, *, years: int | None = None) -> CaseQuerySet:
    """Closed cases without legal hold whose last entry is more than the retention period before ``today``."""
    return (
        Case.objects.filter(
            status=CaseStatus.CLOSED,
            legal_hold=False,
            last_entry_on__lte=last_due_entry_date(today, years),
        )
        .select_related("agency")
        .order_by("last_entry_on", "reference")
    )


def cases_without_key(case_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``case_ids`` whose data key is already gone (a purge that stopped half-way)."""
    present: set[uuid.UUID] = set()
    # In slices: SQLite limits the number of parameters of one query.
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        present.update(CaseKey.objects.filter(case_id__in=chunk).values_list("case_id", flat=True))
    return set(case_ids) - present


def _refuse_if_something_protects(case: Case) -> None:
    # Checked before the key is destroyed: a row that protects the case (on_delete=PROTECT) would stop
    # the deletion after the shredding and leave an unreadable case behind for good.
    try:
        Collector(using=Case.objects.db).collect([case])
    except ProtectedError as error:
        blockers = {type(row).__name__ for row in error.protected_objects}
    except RestrictedError as error:
        blockers = {type(row).__name__ for row in error.restricted_objects}
    else:
        return
    raise GallringError(
        f"{case.reference} cannot be purged: rows of {', '.join(sorted(blockers))} refer to it."
    )


def _locked_due(case: Case, today: datetime.date, years: int) -> Case:
    """The case row, locked for the caller's transaction, if it is still due and nothing protects it."""
    locked = Case.objects.select_for_update().select_related("agency").filter(pk=case.pk).first()
    if locked is None:
        raise GallringError(f"{case.reference} no longer exists.")
    if not due_for_gallring(today, years=years).filter(pk=locked.pk).exists():
        raise GallringError(f"{locked.reference} is no longer due (reopened, or put on legal hold).")
    _refuse_if_something_protects(locked)
    return locked


def do_gallra(case: Case, *, today: datetime.date, years: int | None = None) -> GallringResult:
    """Purge one due case: destroy its data key, then delete its rows, and audit it.

    Runs in this order, each step committed before the next:

    0. an audit event "case.gallring_started", once the case is checked (below);
    1. the case row is locked and checked again (it may have been reopened or put on hold since it was
       listed), and nothing may protect it from deletion;
    2. its data key is deleted from the key store and committed (durable: never inside a transaction
       that could still roll it back);
    3. in the main database: its statistics record, the case and everything cascading from it, and an
       audit event "case.gallrad" (actor None: the retention rule, not a person, decided it).

    Audit events are never deleted: they name the reference, which identifies no one.
    """
    years = settings.RETENTION_YEARS if years is None else years
    # Committed before anything is destroyed: if what follows stops half-way (the key gone, the rows
    # not), the trail still says that this case's gallring began.
    with transaction.atomic(durable=True):
        locked = _locked_due(case, today, years)
        record_event(
            "case.gallring_started",
            actor=None,
            object_type="case",
            object_reference=locked.reference,
            object_agency=locked.agency.code,
            details={"retention_years": years},
        )
    with transaction.atomic(durable=True):
        # Checked again under the lock that is held while the key is destroyed: it may have been
        # reopened or put on hold in between.
        locked = _locked_due(case, today, years)
        with transaction.atomic(using=KEYSTORE, durable=True):
            deleted_keys, _by_model = CaseKey.objects.filter(case_id=locked.pk).delete()
        statistics.remove(locked.pk, period_of(locked.opened_on))
        reference = locked.reference
        last_entry_on = locked.last_entry_on
        owner = locked.agency.code
        locked.delete()
        record_event(
            "case.gallrad",
            actor=None,
            object_type="case",
            object_reference=reference,
            object_agency=owner,
            details={
                "retention_years": years,
                "last_entry_on": last_entry_on.isoformat(),
                "key_was_present": deleted_keys > 0,
            },
        )
    return GallringResult(reference=reference, key_was_present=deleted_keys > 0)
