"""Opening the checked cases through the ordinary actions, all or nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models.signals import post_save

from access.audit import record_event
from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.actions import (
    do_add_incident,
    do_add_protective_measure,
    do_add_risk_assessment,
    do_change_status,
    do_open_case,
    do_save_summary,
)
from cases.choices import (
    CaseStatus,
)
from cases.importing.format import (
    CaseRow,
    ImportFailed,
    ImportRefused,
)
from cases.models import Case, CaseKey, ProtectiveMeasure, RiskAssessment
from cases.routers import KEYSTORE

# --- Importing -------------------------------------------------------------------------------------


def membership_for_import(username: str, agency_code: str) -> Membership:
    """The membership the importing user acts in: casework (handläggare, samordnare) in the agency."""
    agency = Agency.objects.filter(code=agency_code).first()
    if agency is None:
        raise ImportRefused(f"No agency has the code {agency_code!r}.")
    if not agency.is_active:
        raise ImportRefused(f"Agency {agency_code!r} is not active.")
    user = User.objects.filter(username=username, is_active=True).first()
    membership = (
        Membership.objects.active()
        .select_related("agency", "user")
        .filter(user=user, agency=agency, role__in=CASEWORK_ROLES)
        .first()
        if user is not None
        else None
    )
    if membership is None:
        # One message for "no such user" and "not a caseworker there": the answer is the same.
        raise ImportRefused(
            f"{username!r} is not an active handläggare or samordnare of {agency_code!r}; imported cases "
            "are opened in that user's name, so it must be someone who could open them by hand."
        )
    return membership


@contextmanager
def _new_data_keys() -> Iterator[list[uuid.UUID]]:
    """Collects the case ids of data keys this thread stores meanwhile.

    do_open_case commits each key to the key store at once (a case row must never exist without its
    key), so rolling back the main database leaves them behind. Only this thread's keys are collected:
    another request opening a case at the same moment must keep its key.
    """
    collected: list[uuid.UUID] = []
    thread = threading.get_ident()

    def collect(sender: type[CaseKey], instance: CaseKey, created: bool, **kwargs: object) -> None:
        if created and threading.get_ident() == thread:
            collected.append(instance.case_id)

    post_save.connect(collect, sender=CaseKey, weak=False)
    try:
        yield collected
    finally:
        post_save.disconnect(collect, sender=CaseKey)


def _discard_keys(case_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Delete the keys of cases that do not exist; returns those that could not be deleted.

    A key whose case exists is never touched, and if the main database cannot be asked, no key is
    deleted: an orphan key identifies nobody, a lost key destroys a case.
    """
    if not case_ids:
        return []
    try:
        existing = set(Case.objects.filter(pk__in=case_ids).values_list("pk", flat=True))
        orphans = [case_id for case_id in case_ids if case_id not in existing]
        with transaction.atomic(using=KEYSTORE):
            CaseKey.objects.filter(case_id__in=orphans).delete()
    except Exception:  # noqa: BLE001 - the caller reports the leftovers; the original error matters more
        return case_ids
    return []


def _import_one(row: CaseRow, *, acting_user: User, membership: Membership) -> Case:
    case = do_open_case(
        acting_user=acting_user,
        membership=membership,
        person=row.person,
        classification=row.classification,
        opened_on=row.opened_on,
    )
    if row.summary:
        do_save_summary(case, text=row.summary, based_on=0, acting_user=acting_user, membership=membership)
    for risk in sorted(row.risk_assessments, key=lambda item: item.assessed_on):
        assessment = RiskAssessment.new(
            instrument=risk.instrument,
            instrument_version=risk.instrument_version,
            assessed_on=risk.assessed_on,
            level=risk.level,
            override_level=risk.override_level,
            own_perception=risk.own_perception,
            next_review_on=risk.next_review_on,
        )
        do_add_risk_assessment(
            case,
            assessment=assessment,
            override_reason=risk.override_reason,
            notes=risk.notes,
            acting_user=acting_user,
            membership=membership,
        )
    for item in row.protective_measures:
        measure = ProtectiveMeasure.new(
            kind=item.kind,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
            responsible_agency=item.responsible_agency or membership.agency,
            review_on=item.review_on,
        )
        do_add_protective_measure(
            case, measure=measure, notes=item.notes, acting_user=acting_user, membership=membership
        )
    for incident in sorted(row.incidents, key=lambda item: item.occurred_on):
        do_add_incident(
            case,
            occurred_on=incident.occurred_on,
            forms=incident.forms,
            notes=incident.notes,
            acting_user=acting_user,
            membership=membership,
        )
    if row.status == CaseStatus.WATCH:
        do_change_status(case, new_status=CaseStatus.WATCH, acting_user=acting_user, membership=membership)
    elif row.status == CaseStatus.CLOSED:
        do_change_status(
            case,
            new_status=CaseStatus.CLOSED,
            on=row.closed_on,
            acting_user=acting_user,
            membership=membership,
        )
    return case


def do_import_cases(rows: list[CaseRow], *, acting_user: User, membership: Membership) -> list[Case]:
    """Open every validated case in the name of ``acting_user``, all or nothing.

    Runs in one durable transaction (never inside another, whose later rollback this function could not
    clean up after). On any failure the main database is rolled back and the data keys stored meanwhile
    are deleted from the key store, then ImportFailed names the record that failed. One "case.import"
    audit event records the count; each case also gets the audit events of the actions that made it.
    """
    record: int | None = None
    cases: list[Case] = []
    with _new_data_keys() as new_keys:
        try:
            with transaction.atomic(durable=True):
                for position, row in enumerate(rows, start=1):
                    record = position
                    cases.append(_import_one(row, acting_user=acting_user, membership=membership))
                record = None
                statuses = {status: 0 for status in CaseStatus.values}
                for case in cases:
                    statuses[case.status] += 1
                record_event(
                    "case.import",
                    actor=acting_user,
                    membership=membership,
                    object_type="agency",
                    object_reference=membership.agency.code,
                    details={"count": len(cases), "statuses": statuses},
                )
        except Exception as error:
            raise ImportFailed(record, _discard_keys(list(new_keys))) from error
        except BaseException:
            # Interrupted (Ctrl-C): still leave no keys behind.
            _discard_keys(list(new_keys))
            raise
    return cases
