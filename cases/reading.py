"""Audited reads of case contents.

The audit entry is written first, in the same transaction as the decryption; if it cannot be written,
nothing is decrypted and the caller gets AuditWriteError instead of data (fail closed).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest

from access.audit import record_event
from access.models import Agency, Membership, User
from cases.choices import InformationCategory, ProtectedIdentity
from cases.models import Case, Incident, ProtectiveMeasure, RiskAssessment
from cases.permissions import CaseAccess, case_access
from cases.records import Children, Classification, Paragraph, PersonData, _Redacted
from cases.vault import CaseVault


@dataclass(repr=False)
class RiskEntry(_Redacted):
    assessment: RiskAssessment
    override_reason: str
    notes: str


@dataclass(repr=False)
class MeasureEntry(_Redacted):
    measure: ProtectiveMeasure
    notes: str


@dataclass(repr=False)
class IncidentEntry(_Redacted):
    incident: Incident
    forms: list[str]
    notes: str
    is_repeat: bool


@dataclass(repr=False)
class Contribution(_Redacted):
    agency: Agency
    number: int
    text: str
    author: str
    saved_at: datetime.datetime


@dataclass(repr=False)
class CaseDetail(_Redacted):
    case: Case
    person: PersonData
    classification: Classification
    summary: list[Paragraph] = field(default_factory=list)
    summary_number: int = 0
    contributions: list[Contribution] = field(default_factory=list)
    risks: list[RiskEntry] = field(default_factory=list)
    measures: list[MeasureEntry] = field(default_factory=list)
    incidents: list[IncidentEntry] = field(default_factory=list)
    access: CaseAccess | None = None

    def sees(self, category: str) -> bool:
        return self.access is not None and self.access.sees(category)

    @property
    def risk_trend(self) -> list[str]:
        """Effective levels oldest first, for the trend line."""
        return [entry.assessment.effective_level for entry in reversed(self.risks)]


def hidden_person(case: Case) -> PersonData:
    """What a reader without the identity category gets: nothing but the protection level."""
    return PersonData(
        name="", identity_kind="", legal_gender="", protected_identity=case.person.protected_identity
    )


def open_person(vault: CaseVault, case: Case) -> PersonData:
    row = case.person
    birth_year = vault.open(row, "birth_year")
    return PersonData(
        name=vault.open(row, "name"),
        identity_kind=row.identity_kind,
        identity_number=vault.open(row, "identity_number"),
        contact=vault.open(row, "contact"),
        safe_contact=vault.open(row, "safe_contact"),
        address=vault.open(row, "address"),
        legal_gender=vault.open(row, "legal_gender"),
        birth_year=int(birth_year) if birth_year else None,
        protected_identity=row.protected_identity,
    )


def _agency_names() -> dict[str, str]:
    return dict(Agency.objects.values_list("code", "name"))


@transaction.atomic
def read_case(
    case: Case, *, user: User, membership: Membership | None, request: HttpRequest | None, reason: str = ""
) -> CaseDetail:
    """What the user may see of the case, decrypted, after writing the audit entry that says so.

    The categories come from ``case_access`` here, not from the caller, so no view can forget them.
    Rows of a category that is not disclosed are never decrypted; the classification is one sealed
    blob, opened and then cut down to the disclosed parts before it leaves this function.
    """
    access = case_access(user, case)
    if access is None:
        raise Http404("Ärendet finns inte.")
    categories = access.categories
    record_event(
        "case.read",
        actor=user,
        membership=membership if membership is not None else access.membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
        reason=reason or access.via,
        # For the granskare's review: a read of a protected identity is flagged, without decrypting.
        details={
            "categories": sorted(categories),
            "protected_identity": case.person.protected_identity != ProtectedIdentity.NONE,
        },
    )
    vault = CaseVault.for_case(case)
    names = _agency_names()
    classification = Classification.from_json(vault.open_json(case, "classification"))
    if InformationCategory.VIOLENCE not in categories:
        classification = Classification(children=classification.children)
    if InformationCategory.CHILDREN not in categories:
        classification.children = Children()
    detail = CaseDetail(
        case=case,
        person=open_person(vault, case)
        if InformationCategory.IDENTITY in categories
        else hidden_person(case),
        classification=classification,
        access=access,
    )
    latest = case.summary_versions.order_by("-number").first()
    if latest is not None and InformationCategory.SUMMARY in categories:
        detail.summary_number = latest.number
        detail.summary = [
            Paragraph(
                agency_code=item["agency"],
                agency_name=names.get(item["agency"], item["agency"]),
                text=item["text"],
            )
            for item in vault.open_json(latest, "paragraphs", [])
        ]
    seen: set[int] = set()
    for version in case.contribution_versions.select_related("agency", "author").order_by(
        "agency__name", "-number"
    ):
        if version.agency_id in seen:
            continue
        own = access.membership is not None and version.agency_id == access.membership.agency_id
        if InformationCategory.SUMMARY not in categories and not own:
            continue
        seen.add(version.agency_id)
        detail.contributions.append(
            Contribution(
                agency=version.agency,
                number=version.number,
                text=vault.open(version, "text"),
                author=version.author.get_full_name() or version.author.get_username(),
                saved_at=version.created_at,
            )
        )
    if InformationCategory.RISK in categories:
        for assessment in case.risk_assessments.select_related("assessor", "agency"):
            vault.open_values(assessment, "result")
            detail.risks.append(
                RiskEntry(
                    assessment, vault.open(assessment, "override_reason"), vault.open(assessment, "notes")
                )
            )
    if InformationCategory.MEASURES in categories:
        for measure in case.protective_measures.select_related("responsible_agency"):
            vault.open_values(measure, "details")
            detail.measures.append(MeasureEntry(measure, vault.open(measure, "notes")))
    if InformationCategory.VIOLENCE in categories:
        incidents = list(case.incidents.order_by("-occurred_on"))
        for index, incident in enumerate(incidents):
            earlier = incidents[index + 1] if index + 1 < len(incidents) else None
            is_repeat = earlier is not None and (incident.occurred_on - earlier.occurred_on).days <= 365
            detail.incidents.append(
                IncidentEntry(
                    incident, vault.open_json(incident, "forms", []), vault.open(incident, "notes"), is_repeat
                )
            )
    return detail


@transaction.atomic
def read_summary_history(
    case: Case, *, user: User, membership: Membership | None, request: HttpRequest | None
) -> list[tuple[int, str, datetime.datetime, list[Paragraph]]]:
    """Every version of the summary, newest first: (number, author, saved at, paragraphs)."""
    access = case_access(user, case)
    if access is None:
        raise Http404("Ärendet finns inte.")
    if InformationCategory.SUMMARY not in access.categories:
        raise PermissionDenied
    record_event(
        "case.summary.history",
        actor=user,
        membership=membership,
        request=request,
        object_type="case",
        object_reference=case.reference,
        object_agency=case.agency.code,
    )
    vault = CaseVault.for_case(case)
    names = _agency_names()
    history = []
    for version in case.summary_versions.select_related("author").order_by("-number"):
        paragraphs = [
            Paragraph(
                agency_code=item["agency"],
                agency_name=names.get(item["agency"], item["agency"]),
                text=item["text"],
            )
            for item in vault.open_json(version, "paragraphs", [])
        ]
        author = version.author.get_full_name() or version.author.get_username()
        history.append((version.number, author, version.created_at, paragraphs))
    return history
