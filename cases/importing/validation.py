"""Checking a whole import file and naming every problem by record and field path, never by value."""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Collection, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from access.models import Agency
from cases.choices import (
    CaseFlag,
    CaseStatus,
    ChildAgeBand,
    HonourSubtype,
    IdentityNumberKind,
    LegalGender,
    MeasureKind,
    PerpetratorRelation,
    ProtectedIdentity,
    RiskInstrument,
    RiskLevel,
    ViolenceContext,
    ViolenceForm,
)
from cases.crypto import blind_index
from cases.identity import birth_year_from, normalise_identity_number
from cases.importing.format import (
    _DATE,
    _FIELD_NAME,
    CASE_FIELDS,
    CHILDREN_FIELDS,
    CLASSIFICATION_FIELDS,
    FORMAT_NAME,
    INCIDENT_FIELDS,
    MAX_LISTED_PROBLEMS,
    MEASURE_FIELDS,
    PERSON_FIELDS,
    RISK_FIELDS,
    SUPPORTED_VERSIONS,
    TOP_LEVEL_FIELDS,
    CaseRow,
    ImportProblem,
    ImportRejected,
    IncidentRow,
    MeasureRow,
    RiskAssessmentRow,
)
from cases.limits import (
    ADDRESS_MAX_LENGTH,
    CONTACT_MAX_LENGTH,
    IDENTITY_NUMBER_MAX_LENGTH,
    INSTRUMENT_VERSION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTES_MAX_LENGTH,
    OVERRIDE_REASON_MAX_LENGTH,
    SAFE_CONTACT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from cases.models import Person
from cases.records import (
    CHILD_DETAILS_WITHOUT_CHILDREN,
    CONTEXT_REQUIRED,
    DERIVED_FLAG_RECORDED,
    MAX_CHILDREN,
    REPORT_DATE_IN_FUTURE,
    REPORT_DATE_WITHOUT_REPORT,
    SUBTYPE_WITHOUT_HONOUR_CONTEXT,
    TOO_MANY_CHILDREN,
    Children,
    Classification,
    PersonData,
)

# The longest text of each text field of the format: the limits of the forms (cases/limits.py), so an
# imported case holds nothing its pages, meeting packs and PDFs were not made for.
TEXT_LIMITS = {
    "summary": TEXT_MAX_LENGTH,
    "name": NAME_MAX_LENGTH,
    "identity_number": IDENTITY_NUMBER_MAX_LENGTH,
    "contact": CONTACT_MAX_LENGTH,
    "safe_contact": SAFE_CONTACT_MAX_LENGTH,
    "address": ADDRESS_MAX_LENGTH,
    "instrument_version": INSTRUMENT_VERSION_MAX_LENGTH,
    "override_reason": OVERRIDE_REASON_MAX_LENGTH,
    "notes": NOTES_MAX_LENGTH,
    "responsible_agency": Agency._meta.get_field("code").max_length or 40,
}

# Where each rule of a classification is reported, and how (empty: the field's reader reports it).
RULE_PROBLEMS = {
    CONTEXT_REQUIRED: ("contexts", "needs at least one context: every case has one."),
    TOO_MANY_CHILDREN: ("children.count", ""),
    CHILD_DETAILS_WITHOUT_CHILDREN: (
        "children.count",
        "must be at least 1 when age_bands, witnessed or report_made say there are children.",
    ),
    REPORT_DATE_WITHOUT_REPORT: ("children.report_date", "is allowed only when report_made is true."),
    REPORT_DATE_IN_FUTURE: ("children.report_date", ""),
    SUBTYPE_WITHOUT_HONOUR_CONTEXT: ("honour_subtypes", "need the context hrv in contexts."),
    DERIVED_FLAG_RECORDED: (
        "flags",
        "must not list barn_i_hushallet, barn_bevittnat or orosanmalan: they follow from children "
        "(count, witnessed, report_made).",
    ),
}

# --- Validation -------------------------------------------------------------------------------------


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggestion(value: str, candidates: Collection[str]) -> str:
    matches = difflib.get_close_matches(value, list(candidates), n=1)
    return f" Did you mean '{matches[0]}'?" if matches else ""


class _Checker:
    """Collects problems while reading one file; each reader returns a usable default on error."""

    def __init__(self, *, today: datetime.date, agencies: dict[str, Agency]) -> None:
        self.today = today
        self.agencies = agencies
        self.problems: list[ImportProblem] = []
        self.record: int | None = None

    def problem(self, path: str, message: str) -> None:
        self.problems.append(ImportProblem(self.record, path, message))

    def fields(self, value: object, path: str, allowed: Collection[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path or "the top level", f"must be an object {{...}}, not {_kind_of(value)}.")
            return None
        for key in getattr(value, "duplicate_keys", []):
            self.problem(_join(path, key), "is written more than once in the same object.")
        for key in value:
            if key in allowed:
                continue
            if _FIELD_NAME.fullmatch(key):
                self.problem(_join(path, key), f"is not a known field.{_suggestion(key, allowed)}")
            else:
                self.problem(
                    path or "the top level",
                    "has a field with an unexpected name (not shown: it may be personal data).",
                )
        return value

    def _present(self, obj: dict[str, Any], key: str, path: str, required: bool) -> bool:
        # null counts as "not given": spreadsheet exports write empty cells that way.
        if obj.get(key) is not None:
            return True
        if required:
            self.problem(_join(path, key), "is required.")
        return False

    def text(self, obj: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
        """The trimmed text, within the limit the form has (TEXT_LIMITS); never shown back."""
        max_length = TEXT_LIMITS[key]
        if not self._present(obj, key, path, required):
            return ""
        value: object = obj[key]
        if not isinstance(value, str):
            self.problem(_join(path, key), f"must be text (in quotes), not {_kind_of(value)}.")
            return ""
        if required and not value.strip():
            self.problem(_join(path, key), "must not be empty.")
        if "\x00" in value:
            self.problem(_join(path, key), "contains a NUL character (\\u0000), which no text may hold.")
            return ""
        text = value.strip()
        if len(text) > max_length:
            self.problem(
                _join(path, key), f"is {len(text)} characters long; at most {max_length} are allowed."
            )
            return ""
        return text

    def date(
        self, obj: dict[str, Any], key: str, path: str, *, required: bool = False, past: bool = False
    ) -> datetime.date | None:
        if not self._present(obj, key, path, required):
            return None
        value: object = obj[key]
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.problem(_join(path, key), "must be a date written YYYY-MM-DD.")
            return None
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(_join(path, key), "is not a date that exists.")
            return None
        if past and day > self.today:
            self.problem(_join(path, key), "is in the future.")
        return day

    def code(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        choices: type[models.TextChoices],
        *,
        required: bool = False,
        default: str = "",
    ) -> str:
        if not self._present(obj, key, path, required):
            return default
        return self._code(obj[key], _join(path, key), choices) or default

    def _code(self, value: object, path: str, choices: type[models.TextChoices]) -> str:
        allowed = list(choices.values)
        if isinstance(value, str) and value in allowed:
            return value
        hint = _suggestion(value, allowed) if isinstance(value, str) else ""
        self.problem(path, f"is not a known code.{hint} Allowed: {', '.join(allowed)}.")
        return ""

    def codes(self, obj: dict[str, Any], key: str, path: str, choices: type[models.TextChoices]) -> list[str]:
        if not self._present(obj, key, path, False):
            return []
        value: object = obj[key]
        if not isinstance(value, list):
            self.problem(_join(path, key), f"must be a list [...] of codes, not {_kind_of(value)}.")
            return []
        result: list[str] = []
        for position, item in enumerate(value, start=1):
            code = self._code(item, f"{_join(path, key)}[{position}]", choices)
            if code and code not in result:
                result.append(code)
        return result

    def integer(self, obj: dict[str, Any], key: str, path: str, *, minimum: int, maximum: int) -> int | None:
        if not self._present(obj, key, path, False):
            return None
        value: object = obj[key]
        # bool is an int in Python; true must not pass as 1.
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_join(path, key), f"must be a whole number, not {_kind_of(value)}.")
            return None
        if not minimum <= value <= maximum:
            self.problem(_join(path, key), f"must be between {minimum} and {maximum}.")
            return None
        return value

    def boolean(self, obj: dict[str, Any], key: str, path: str) -> bool:
        if not self._present(obj, key, path, False):
            return False
        value: object = obj[key]
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"must be true or false, not {_kind_of(value)}.")
            return False
        return value

    def objects(self, obj: dict[str, Any], key: str, path: str) -> Iterator[tuple[str, object]]:
        if not self._present(obj, key, path, False):
            return
        value: object = obj[key]
        if not isinstance(value, list):
            self.problem(_join(path, key), f"must be a list [...], not {_kind_of(value)}.")
            return
        for position, item in enumerate(value, start=1):
            yield f"{_join(path, key)}[{position}]", item

    # --- The parts of a case ---

    def case(self, value: object, path: str) -> CaseRow | None:
        obj = self.fields(value, path, CASE_FIELDS)
        if obj is None:
            return None
        opened_on = self.date(obj, "opened_on", path, required=True, past=True)
        status = self.code(obj, "status", path, CaseStatus, required=True)
        closed_on = self.date(obj, "closed_on", path, past=True)
        if status == CaseStatus.CLOSED and obj.get("closed_on") is None:
            self.problem(_join(path, "closed_on"), "is required when status is avslutat.")
        if status and status != CaseStatus.CLOSED and obj.get("closed_on") is not None:
            self.problem(_join(path, "closed_on"), "is allowed only when status is avslutat.")
        if opened_on and closed_on and closed_on < opened_on:
            self.problem(_join(path, "closed_on"), "is before opened_on.")
        person = self.person(obj.get("person"), _join(path, "person"))
        classification = Classification(contexts=[ViolenceContext.PARTNER])  # stands in after a problem
        if obj.get("classification") is None:
            self.problem(_join(path, "classification"), "is required: every case has at least one context.")
        else:
            classification = self.classification(obj["classification"], _join(path, "classification"))
        row = CaseRow(
            opened_on=opened_on or self.today,
            status=status,
            closed_on=closed_on,
            person=person,
            classification=classification,
            summary=self.text(obj, "summary", path),
        )
        for item_path, item in self.objects(obj, "risk_assessments", path):
            assessment = self.risk_assessment(item, item_path)
            if assessment is not None:
                row.risk_assessments.append(assessment)
        for item_path, item in self.objects(obj, "protective_measures", path):
            measure = self.measure(item, item_path)
            if measure is not None:
                row.protective_measures.append(measure)
        for item_path, item in self.objects(obj, "incidents", path):
            incident = self.incident(item, item_path)
            if incident is not None:
                row.incidents.append(incident)
        return row

    def person(self, value: object, path: str) -> PersonData:
        obj = self.fields(value, path, PERSON_FIELDS) if value is not None else None
        if obj is None:
            if value is None:
                self.problem(path, "is required.")
            return PersonData(name="")
        number = self.text(obj, "identity_number", path)
        kind = self.code(
            obj,
            "identity_kind",
            path,
            IdentityNumberKind,
            default=IdentityNumberKind.PERSONNUMMER if number else IdentityNumberKind.NONE,
        )
        normalised = ""
        if number:
            try:
                normalised = normalise_identity_number(number, kind, today=self.today)
            except ValidationError as error:
                self.problem(
                    _join(path, "identity_number"),
                    f"is not a valid {kind} (validation says: {' '.join(error.messages)})",
                )
        elif kind != IdentityNumberKind.NONE and obj.get("identity_kind") is not None:
            self.problem(
                _join(path, "identity_number"),
                f'is required when identity_kind is {kind}; use identity_kind "saknas" when there is none.',
            )
        data = PersonData(
            name=self.text(obj, "name", path, required=True),
            identity_kind=kind,
            identity_number=normalised,
            contact=self.text(obj, "contact", path),
            safe_contact=self.text(obj, "safe_contact", path),
            address=self.text(obj, "address", path),
            legal_gender=self.code(obj, "legal_gender", path, LegalGender, default=LegalGender.OTHER),
            birth_year=self.integer(obj, "birth_year", path, minimum=1900, maximum=self.today.year),
            protected_identity=self.code(
                obj, "protected_identity", path, ProtectedIdentity, default=ProtectedIdentity.NONE
            ),
        )
        from_number = birth_year_from(normalised, kind) if normalised else None
        if data.birth_year is None:
            data.birth_year = from_number
        elif from_number is not None and data.birth_year != from_number:
            self.problem(_join(path, "birth_year"), "does not match the birth date in identity_number.")
        if data.protected_identity != ProtectedIdentity.NONE and data.address:
            self.problem(
                _join(path, "address"),
                "must be left out: a person with protected identity never has an address in the system.",
            )
        return data

    def classification(self, value: object, path: str) -> Classification:
        obj = self.fields(value, path, CLASSIFICATION_FIELDS)
        if obj is None:
            return Classification()
        result = Classification(
            contexts=self.codes(obj, "contexts", path, ViolenceContext),
            forms=self.codes(obj, "forms", path, ViolenceForm),
            honour_subtypes=self.codes(obj, "honour_subtypes", path, HonourSubtype),
            relations=self.codes(obj, "relations", path, PerpetratorRelation),
            flags=self.codes(obj, "flags", path, CaseFlag),
        )
        if obj.get("children") is not None:
            result.children = self.children(obj["children"], _join(path, "children"))
        # The rules of the case form, exactly (cases/records.py): a file may not record what the form
        # could not. A rule the readers above already reported on is not reported twice.
        for rule in result.broken_rules(today=self.today):
            where, message = RULE_PROBLEMS[rule]
            if message:
                self.problem(_join(path, where), message)
        return result

    def children(self, value: object, path: str) -> Children:
        obj = self.fields(value, path, CHILDREN_FIELDS)
        if obj is None:
            return Children()
        result = Children(
            count=self.integer(obj, "count", path, minimum=0, maximum=MAX_CHILDREN) or 0,
            age_bands=self.codes(obj, "age_bands", path, ChildAgeBand),
            witnessed=self.boolean(obj, "witnessed", path),
            report_made=self.boolean(obj, "report_made", path),
            report_date=self.date(obj, "report_date", path, past=True),
        )
        return result

    def risk_assessment(self, value: object, path: str) -> RiskAssessmentRow | None:
        obj = self.fields(value, path, RISK_FIELDS)
        if obj is None:
            return None
        row = RiskAssessmentRow(
            instrument=self.code(obj, "instrument", path, RiskInstrument, required=True),
            instrument_version=self.text(obj, "instrument_version", path),
            assessed_on=self.date(obj, "assessed_on", path, required=True, past=True) or self.today,
            level=self.code(obj, "level", path, RiskLevel, required=True),
            override_level=self.code(obj, "override_level", path, RiskLevel),
            override_reason=self.text(obj, "override_reason", path),
            own_perception=self.code(obj, "own_perception", path, RiskLevel),
            notes=self.text(obj, "notes", path),
            next_review_on=self.date(obj, "next_review_on", path),
        )
        if row.override_level and not row.override_reason:
            self.problem(_join(path, "override_reason"), "is required when override_level is given.")
        if row.override_reason and not obj.get("override_level"):
            self.problem(_join(path, "override_reason"), "is allowed only with override_level.")
        if row.next_review_on and row.next_review_on < row.assessed_on:
            self.problem(_join(path, "next_review_on"), "is before assessed_on.")
        return row

    def measure(self, value: object, path: str) -> MeasureRow | None:
        obj = self.fields(value, path, MEASURE_FIELDS)
        if obj is None:
            return None
        row = MeasureRow(
            kind=self.code(obj, "kind", path, MeasureKind, required=True),
            starts_on=self.date(obj, "starts_on", path, required=True) or self.today,
            ends_on=self.date(obj, "ends_on", path),
            responsible_agency=None,
            review_on=self.date(obj, "review_on", path),
            notes=self.text(obj, "notes", path),
        )
        if row.ends_on and row.ends_on < row.starts_on:
            self.problem(_join(path, "ends_on"), "is before starts_on.")
        agency_code = self.text(obj, "responsible_agency", path)
        if agency_code:
            agency = self.agencies.get(agency_code)
            if agency is None:
                self.problem(_join(path, "responsible_agency"), "is not the code of any agency.")
            elif not agency.is_active:
                self.problem(_join(path, "responsible_agency"), "is an agency that is no longer active.")
            row.responsible_agency = agency
        return row

    def incident(self, value: object, path: str) -> IncidentRow | None:
        obj = self.fields(value, path, INCIDENT_FIELDS)
        if obj is None:
            return None
        return IncidentRow(
            occurred_on=self.date(obj, "occurred_on", path, required=True, past=True) or self.today,
            forms=self.codes(obj, "forms", path, ViolenceForm),
            notes=self.text(obj, "notes", path),
        )


def validate_import(data: object, *, agency: Agency, today: datetime.date | None = None) -> list[CaseRow]:
    """Every case of the file, validated; or ImportRejected listing every problem found.

    Besides types, codes and dates it refuses an identity number that appears twice in the file, or
    that already has a case in the importing agency (importing the same file twice).
    """
    checker = _Checker(
        today=today or timezone.localdate(), agencies={a.code: a for a in Agency.objects.all()}
    )
    top = checker.fields(data, "", TOP_LEVEL_FIELDS)
    if top is None:
        raise ImportRejected(checker.problems)
    if top.get("format") != FORMAT_NAME:
        checker.problem("format", f'must be "{FORMAT_NAME}".')
    version = top.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        versions = ", ".join(str(supported) for supported in SUPPORTED_VERSIONS)
        checker.problem("version", f"must be one of the supported versions: {versions}.")
    items = list(checker.objects(top, "cases", ""))
    if top.get("cases") is None:
        checker.problem("cases", "is required.")
    elif isinstance(top["cases"], list) and not items:
        checker.problem("cases", "is empty: there is nothing to import.")

    rows: list[CaseRow] = []
    first_record_of: dict[str, int] = {}
    for record, (path, item) in enumerate(items, start=1):
        checker.record = record
        row = checker.case(item, path)
        if row is None:
            continue
        rows.append(row)
        number = row.person.identity_number
        if number and number in first_record_of:
            checker.problem(
                f"{path}.person.identity_number",
                f"is the same identity number as record {first_record_of[number]}.",
            )
        elif number:
            first_record_of[number] = record

    index_of = {blind_index(number): number for number in first_record_of}
    indexes = list(index_of)
    existing: set[str] = set()
    # In slices: SQLite limits the number of parameters of one query.
    for start in range(0, len(indexes), 500):
        existing.update(
            Person.objects.filter(
                case__agency=agency, identity_index__in=indexes[start : start + 500]
            ).values_list("identity_index", flat=True)
        )
    for identity_index in existing:
        checker.record = first_record_of[index_of[identity_index]]
        checker.problem(
            f"cases[{checker.record}].person.identity_number",
            f"already has a case in agency {agency.code} (was this file imported before?).",
        )

    if checker.problems:
        # Stable: within a record, problems keep the order of the fields.
        checker.problems.sort(key=lambda problem: problem.record or 0)
        raise ImportRejected(checker.problems)
    return rows


def format_problems(problems: list[ImportProblem], *, limit: int = MAX_LISTED_PROBLEMS) -> str:
    records = {problem.record for problem in problems if problem.record is not None}
    lines = [
        f"The file has {len(problems)} problem(s) in {len(records)} record(s); nothing was imported.",
        *(f"  {problem}" for problem in problems[:limit]),
    ]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more.")
    return "\n".join(lines)
