"""Every change to a case record: one ``do_*`` function each, in one transaction with its audit entry
and the case's statistics record.

Audit details name fields and counts, never values. Each action takes the acting user keyword-only;
the membership passed is the one the user acts in (it is written to the audit trail).
"""

from __future__ import annotations

import datetime
import hashlib
from typing import cast

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from access.audit import record_event
from access.models import Agency, AuditEvent, Membership, User
from cases import statistics
from cases.choices import (
    STATUS_TRANSITIONS,
    CaseFlag,
    CaseStatus,
    HonourSubtype,
    MeasureKind,
    PerpetratorRelation,
    ProtectedIdentity,
    RiskInstrument,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
    age_band,
    to_mask,
)
from cases.crypto import blind_index
from cases.limits import (
    ADDRESS_MAX_LENGTH,
    CONTACT_MAX_LENGTH,
    EXPORT_NOTE_MAX_LENGTH,
    INSTRUMENT_VERSION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    OVERRIDE_REASON_MAX_LENGTH,
    SAFE_CONTACT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from cases.models import (
    Case,
    CaseKey,
    ContributionVersion,
    ExportNote,
    Incident,
    Person,
    ProtectiveMeasure,
    RiskAssessment,
    SummaryVersion,
    new_reference,
    period_of,
)
from cases.records import Classification, PersonData, rule_message
from cases.routers import KEYSTORE
from cases.statistics import StatisticsValues
from cases.vault import CaseVault

PERSON_FIELDS = (
    "name",
    "identity_number",
    "contact",
    "safe_contact",
    "address",
    "legal_gender",
    "birth_year",
)
REPEAT_WINDOW = datetime.timedelta(days=365)


class CaseActionError(Exception):
    """A change that the rules of the case record do not allow; the message is for the user."""


class StaleVersionError(CaseActionError):
    """The edit was based on an older version than the newest one; nothing was saved."""

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(
            _(
                "Någon annan har sparat en ny version (version %(current)s) medan du skrev. Din text är inte "
                "sparad men finns kvar i formuläret: jämför med den nya versionen och spara igen."
            )
            % {"current": current}
        )


def today() -> datetime.date:
    return timezone.localdate()


def _audit(
    action: str,
    case: Case,
    *,
    acting_user: User,
    membership: Membership | None,
    request: HttpRequest | None,
    details: dict[str, object] | None = None,
) -> None:
    record_event(
        action,
        actor=acting_user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        details=details,
    )


def _check_length(text: str, limit: int) -> None:
    """Refuse a text longer than ``limit`` characters (cases/limits.py), whoever calls the action."""
    if len(text) > limit:
        raise CaseActionError(_("Texten får vara högst %(limit)s tecken.") % {"limit": limit})


def _check_classification(classification: Classification) -> None:
    """Refuse a classification that breaks one of the rules (cases/records.py), whoever calls."""
    broken = classification.broken_rules(today=timezone.localdate())
    if broken:
        raise CaseActionError(rule_message(broken[0]))


def _seal_person(vault: CaseVault, person: Person, data: PersonData) -> None:
    _check_length(data.name, NAME_MAX_LENGTH)
    _check_length(data.contact, CONTACT_MAX_LENGTH)
    _check_length(data.safe_contact, SAFE_CONTACT_MAX_LENGTH)
    _check_length(data.address, ADDRESS_MAX_LENGTH)
    if data.protected_identity != ProtectedIdentity.NONE and data.address:
        raise CaseActionError(_("En person med skyddade personuppgifter får aldrig ha en adress i systemet."))
    person.identity_kind = data.identity_kind
    person.protected_identity = data.protected_identity
    vault.seal(person, "name", data.name)
    vault.seal(person, "identity_number", data.identity_number)
    vault.seal(person, "contact", data.contact)
    vault.seal(person, "safe_contact", data.safe_contact)
    if data.protected_identity == ProtectedIdentity.NONE:
        vault.seal(person, "address", data.address)
    else:
        # Never an address for a protected identity: the column stays empty, which the database checks
        # (protected_identity_has_no_address). The level is in plaintext, so the empty column tells nothing.
        person.address_sealed = b""
    vault.seal(person, "legal_gender", data.legal_gender)
    vault.seal(person, "birth_year", str(data.birth_year) if data.birth_year else "")
    person.identity_index = blind_index(data.identity_number) if data.identity_number else ""


def risk_levels(case: Case, vault: CaseVault) -> list[str]:
    """The effective risk level of each of the case's assessments, newest first (opened here: the
    levels are sealed)."""
    rows = case.risk_assessments.order_by("-assessed_on", "-created_at")
    return [cast(RiskAssessment, vault.open_values(row, "result")).effective_level for row in rows]


def measure_kinds(case: Case, vault: CaseVault) -> set[str]:
    """The kinds of protective measure the case has had (sealed, opened here)."""
    rows = case.protective_measures.all()
    return {cast(ProtectiveMeasure, vault.open_values(row, "details")).kind for row in rows}


def _check_code(value: str, choices: type[models.TextChoices], *, blank: bool = False) -> None:
    if (blank and value == "") or value in choices.values:
        return
    raise CaseActionError(_("Välj ett av alternativen i listan."))


def statistics_values(case: Case, vault: CaseVault) -> StatisticsValues:
    """What the nulägesbild counts of the case as it is now."""
    person = case.person
    birth_year_text = vault.open(person, "birth_year")
    birth_year = int(birth_year_text) if birth_year_text else None
    classification = Classification.from_json(vault.open_json(case, "classification"))
    levels = risk_levels(case, vault)
    measures = measure_kinds(case, vault)
    age = case.opened_on.year - birth_year if birth_year else None
    return StatisticsValues(
        closed_period=period_of(case.closed_on) if case.closed_on else None,
        legal_gender=vault.open(person, "legal_gender") or "annat",
        age_band=age_band(age),
        context_mask=to_mask(ViolenceContext, classification.contexts),
        form_mask=to_mask(ViolenceForm, classification.forms),
        honour_mask=to_mask(HonourSubtype, classification.honour_subtypes),
        relation_mask=to_mask(PerpetratorRelation, classification.relations),
        flag_mask=to_mask(CaseFlag, sorted(classification.effective_flags())),
        measure_mask=to_mask(MeasureKind, sorted(measures)),
        risk_level=levels[0] if levels else "",
        risk_assessment_count=len(levels),
        repeat_victimisation=has_repeat_victimisation(case),
        child_count=classification.children.count,
    )


def refresh_statistics(case: Case, vault: CaseVault) -> StatisticsValues:
    """Rewrite the case's record in its half-year's statistics block (same transaction)."""
    values = statistics_values(case, vault)
    statistics.store(case.pk, period_of(case.opened_on), values)
    return values


def has_repeat_victimisation(case: Case) -> bool:
    dates = sorted(case.incidents.values_list("occurred_on", flat=True))
    return any(later - earlier <= REPEAT_WINDOW for earlier, later in zip(dates, dates[1:], strict=False))


def _touch(case: Case, day: datetime.date | None = None) -> None:
    # A dated entry counts from its date, but never from the future: a measure that starts next month
    # must not postpone gallring.
    case.last_entry_on = max(case.last_entry_on, min(day or today(), today()))
    case.save(update_fields=["last_entry_on", "updated_at"])


@transaction.atomic
def do_open_case(
    *,
    acting_user: User,
    membership: Membership,
    person: PersonData,
    classification: Classification,
    opened_on: datetime.date | None = None,
    responsible: User | None = None,
    request: HttpRequest | None = None,
    reference: str | None = None,
) -> Case:
    """Open a case owned by ``membership.agency``. The data key is committed to the key store before
    the case itself (inner transaction), so a case row never exists without its key. ``reference`` is
    for the demo's fixed references only; real cases get a random one."""
    _check_classification(classification)
    opened_on = opened_on or today()
    case = Case(
        agency=membership.agency,
        opened_on=opened_on,
        last_entry_on=opened_on,
        responsible=responsible or acting_user,
    )
    if reference:
        case.reference = reference
    else:
        # About 2^30 references: a clash is rare, but would otherwise fail the whole action.
        while Case.objects.filter(reference=case.reference).exists():
            case.reference = new_reference()
    with transaction.atomic(using=KEYSTORE):
        vault = CaseVault.create(case)
    try:
        with transaction.atomic():
            vault.seal_json(case, "classification", classification.to_json())
            case.save(force_insert=True)
            person_row = Person(case=case)
            _seal_person(vault, person_row, person)
            person_row.save(force_insert=True)
            refresh_statistics(case, vault)
            _audit("case.open", case, acting_user=acting_user, membership=membership, request=request)
    except BaseException:
        # The case was not created: its key, already committed to the key store, must not linger.
        CaseKey.objects.filter(case_id=case.pk).delete()
        raise
    return case


class ConcurrentEditError(CaseActionError):
    """Someone saved the same record after this edit began; nothing was saved."""


def _token(*sealed: bytes | memoryview | None) -> str:
    """What an edit is based on: a digest of the sealed columns as they were read. Every save seals
    afresh (new nonces), so any save since changes it; it says nothing of the values."""
    digest = hashlib.sha256()
    for value in sealed:
        digest.update(bytes(value or b""))
        digest.update(b"|")
    return digest.hexdigest()[:32]


def person_token(case: Case) -> str:
    row = Person.objects.get(case=case)
    return _token(*(getattr(row, f"{name}_sealed") for name in PERSON_FIELDS))


def classification_token(case: Case) -> str:
    sealed = Case.objects.filter(pk=case.pk).values_list("classification_sealed", flat=True).first()
    return _token(sealed)


def _check_based_on(based_on: str | None, current: str, message: str) -> None:
    if based_on is not None and based_on != current:
        raise ConcurrentEditError(message)


@transaction.atomic
def do_update_person(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    person: PersonData,
    request: HttpRequest | None = None,
    based_on: str | None = None,
) -> None:
    """Save the person's details. ``based_on`` (person_token when the form was shown) refuses an edit
    made over someone else's newer save instead of silently overwriting it; None skips the check."""
    Case.objects.select_for_update().filter(pk=case.pk).first()
    _check_based_on(
        based_on,
        person_token(case),
        _(
            "Någon annan har ändrat personuppgifterna medan du skrev. Dina ändringar är inte sparade men "
            "finns kvar i formuläret: kontrollera ärendet och spara igen om de ska gälla."
        ),
    )
    vault = CaseVault.for_case(case)
    row = case.person
    row.refresh_from_db()  # as locked, not as cached when the case was fetched
    before = {name: vault.open(row, name) for name in PERSON_FIELDS}
    _seal_person(vault, row, person)
    row.save(
        update_fields=[
            "identity_kind",
            "protected_identity",
            "identity_index",
            *(f"{name}_sealed" for name in PERSON_FIELDS),
        ]
    )
    after = {name: vault.open(row, name) for name in PERSON_FIELDS}
    _touch(case)
    refresh_statistics(case, vault)
    changed = sorted(name for name in PERSON_FIELDS if before[name] != after[name])
    _audit(
        "case.person.update",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"changed_fields": changed, "protected_identity": person.protected_identity},
    )


@transaction.atomic
def do_update_classification(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    classification: Classification,
    request: HttpRequest | None = None,
    based_on: str | None = None,
) -> None:
    """Save the classification; ``based_on`` as for do_update_person (classification_token)."""
    _check_classification(classification)
    Case.objects.select_for_update().filter(pk=case.pk).first()
    _check_based_on(
        based_on,
        classification_token(case),
        _(
            "Någon annan har ändrat klassificeringen medan du skrev. Dina ändringar är inte sparade men "
            "finns kvar i formuläret: kontrollera ärendet och spara igen om de ska gälla."
        ),
    )
    vault = CaseVault.for_case(case)
    vault.seal_json(case, "classification", classification.to_json())
    case.save(update_fields=["classification_sealed", "updated_at"])
    _touch(case)
    refresh_statistics(case, vault)
    _audit(
        "case.classification.update", case, acting_user=acting_user, membership=membership, request=request
    )


@transaction.atomic
def do_change_status(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    new_status: str,
    on: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> None:
    if new_status not in CaseStatus.values:
        raise CaseActionError(_("Okänd status."))
    if new_status not in STATUS_TRANSITIONS[case.status]:
        raise CaseActionError(
            _("Ett ärende med status %(old)s kan inte få status %(new)s.")
            % {"old": CaseStatus(case.status).label, "new": CaseStatus(new_status).label}
        )
    old_status = case.status
    day = on or today()
    case.status = new_status
    case.closed_on = day if new_status == CaseStatus.CLOSED else None
    case.save(update_fields=["status", "closed_on", "updated_at"])
    _touch(case, day)
    refresh_statistics(case, CaseVault.for_case(case))
    _audit(
        "case.status",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"from": old_status, "to": new_status},
    )


@transaction.atomic
def do_set_legal_hold(
    case: Case, *, acting_user: User, membership: Membership, hold: bool, request: HttpRequest | None = None
) -> None:
    if hold and not CaseKey.objects.filter(case_id=case.pk).exists():
        # A gallring that stopped half-way destroyed the key: there is nothing left to preserve, and a
        # hold would keep the next run from removing the unreadable rest.
        raise CaseActionError(
            _(
                "Ärendets uppgifter är redan förstörda vid gallring och kan inte bevaras. Nästa "
                "gallringskörning tar bort det som är kvar."
            )
        )
    case.legal_hold = hold
    case.save(update_fields=["legal_hold", "updated_at"])
    _audit(
        "case.legal_hold",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"hold": hold},
    )


def _split_paragraphs(text: str) -> list[str]:
    normalised = text.replace("\r\n", "\n").strip()
    return [part.strip() for part in normalised.split("\n\n") if part.strip()]


def attribute_paragraphs(previous: list[dict[str, str]], text: str, agency_code: str) -> list[dict[str, str]]:
    """Each paragraph keeps the agency that wrote it; new or changed paragraphs are the editor's."""
    earlier = {item["text"]: item["agency"] for item in previous}
    return [{"agency": earlier.get(part, agency_code), "text": part} for part in _split_paragraphs(text)]


def current_summary_number(case: Case) -> int:
    return case.summary_versions.order_by("-number").values_list("number", flat=True).first() or 0


@transaction.atomic
def do_save_summary(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    text: str,
    based_on: int,
    request: HttpRequest | None = None,
    on: datetime.date | None = None,
) -> SummaryVersion:
    """Save a new version of the summary, refused with StaleVersionError if ``based_on`` is not the
    newest version. The case row is locked first so two concurrent saves cannot both pass the check."""
    _check_length(text, TEXT_MAX_LENGTH)
    Case.objects.select_for_update().filter(pk=case.pk).first()
    current = current_summary_number(case)
    if based_on != current:
        raise StaleVersionError(current)
    vault = CaseVault.for_case(case)
    previous_row = case.summary_versions.order_by("-number").first()
    previous = vault.open_json(previous_row, "paragraphs", []) if previous_row else []
    version = SummaryVersion(case=case, number=current + 1, author=acting_user, agency=membership.agency)
    vault.seal_json(version, "paragraphs", attribute_paragraphs(previous, text, membership.agency.code))
    version.save(force_insert=True)
    _touch(case, on)
    _audit(
        "case.summary.save",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"version": version.number},
    )
    return version


def current_contribution_number(case: Case, agency: Agency) -> int:
    rows = case.contribution_versions.filter(agency=agency).order_by("-number")
    return rows.values_list("number", flat=True).first() or 0


@transaction.atomic
def do_save_contribution(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    text: str,
    based_on: int,
    request: HttpRequest | None = None,
    on: datetime.date | None = None,
) -> ContributionVersion:
    """Save a new version of the acting agency's own contribution (optimistic versioning as above)."""
    _check_length(text.strip(), TEXT_MAX_LENGTH)
    Case.objects.select_for_update().filter(pk=case.pk).first()
    current = current_contribution_number(case, membership.agency)
    if based_on != current:
        raise StaleVersionError(current)
    vault = CaseVault.for_case(case)
    version = ContributionVersion(case=case, agency=membership.agency, number=current + 1, author=acting_user)
    vault.seal(version, "text", text.strip())
    version.save(force_insert=True)
    _touch(case, on)
    _audit(
        "case.contribution.save",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"version": version.number, "agency": membership.agency.code},
    )
    return version


@transaction.atomic
def do_add_risk_assessment(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    assessment: RiskAssessment,
    override_reason: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
) -> RiskAssessment:
    """Record a new assessment (history is kept: earlier ones are never changed)."""
    if assessment.override_level and not override_reason.strip():
        raise CaseActionError(
            _("Ange skälet till att den professionella bedömningen avviker från instrumentet.")
        )
    _check_code(assessment.instrument, RiskInstrument)
    _check_code(assessment.level, RiskLevel)
    _check_code(assessment.override_level, RiskLevel, blank=True)
    _check_code(assessment.own_perception, RiskLevel, blank=True)
    if len(assessment.instrument_version) > INSTRUMENT_VERSION_MAX_LENGTH:
        raise CaseActionError(
            _("Versionen får vara högst %(limit)s tecken.") % {"limit": INSTRUMENT_VERSION_MAX_LENGTH}
        )
    _check_length(override_reason.strip(), OVERRIDE_REASON_MAX_LENGTH)
    _check_length(notes.strip(), NOTES_MAX_LENGTH)
    vault = CaseVault.for_case(case)
    assessment.case = case
    assessment.assessor = acting_user
    assessment.agency = membership.agency
    vault.seal_values(assessment, "result")
    # Sealed even when empty: an empty column would tell a dump which assessments were overridden.
    vault.seal(assessment, "override_reason", override_reason.strip() if assessment.override_level else "")
    vault.seal(assessment, "notes", notes.strip())
    assessment.save(force_insert=True)
    _touch(case, assessment.assessed_on)
    refresh_statistics(case, vault)
    _audit(
        "case.risk.add",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        # No instrument and no level: they are sealed, and the trail outlives the case's key.
        details={"risk_assessment": str(assessment.pk)},
    )
    return assessment


@transaction.atomic
def do_add_protective_measure(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    measure: ProtectiveMeasure,
    notes: str = "",
    request: HttpRequest | None = None,
) -> ProtectiveMeasure:
    _check_code(measure.kind, MeasureKind)
    _check_length(notes.strip(), NOTES_MAX_LENGTH)
    vault = CaseVault.for_case(case)
    measure.case = case
    measure.created_by = acting_user
    vault.seal_values(measure, "details")
    vault.seal(measure, "notes", notes.strip())
    measure.save(force_insert=True)
    _touch(case, measure.starts_on)
    refresh_statistics(case, vault)
    _audit(
        "case.measure.add",
        case,
        acting_user=acting_user,
        membership=membership,
        request=request,
        details={"protective_measure": str(measure.pk)},
    )
    return measure


@transaction.atomic
def do_add_incident(
    case: Case,
    *,
    acting_user: User,
    membership: Membership,
    occurred_on: datetime.date,
    forms: list[str],
    notes: str = "",
    request: HttpRequest | None = None,
) -> Incident:
    """Record an incident. Whether it makes the case one of repeat victimisation (another incident
    within 12 months) is derived, never typed in."""
    _check_length(notes.strip(), NOTES_MAX_LENGTH)
    vault = CaseVault.for_case(case)
    incident = Incident(case=case, occurred_on=occurred_on, created_by=acting_user)
    vault.seal_json(incident, "forms", sorted(forms))
    vault.seal(incident, "notes", notes.strip())
    incident.save(force_insert=True)
    _touch(case, occurred_on)
    refresh_statistics(case, vault)
    _audit("case.incident.add", case, acting_user=acting_user, membership=membership, request=request)
    return incident


def seal_export_note(
    case: Case, *, event: AuditEvent, user: User, membership: Membership, note: str
) -> ExportNote | None:
    """Keep the optional note typed beside a download's reason, sealed with ``case``'s key and linked
    to ``event`` (which holds the reason's code). Call it in the transaction that wrote the event. An
    empty note keeps nothing."""
    text = note.strip()
    if not text:
        return None
    if len(text) > EXPORT_NOTE_MAX_LENGTH:
        raise CaseActionError(
            _("Anteckningen får vara högst %(limit)s tecken.") % {"limit": EXPORT_NOTE_MAX_LENGTH}
        )
    row = ExportNote(
        case=case,
        audit_event_id=event.pk,
        action=event.action,
        reason=event.reason,
        user=user,
        agency=membership.agency,
        created_at=event.occurred_at,
    )
    CaseVault.for_case(case).seal(row, "note", text)
    row.save(force_insert=True)
    return row
