"""Importing cases from the documented JSON format (docs/import-format.md), for agencies leaving spreadsheets.

Two steps that never mix:

- ``validate_import`` checks the whole file and returns every problem at once, each named by record
  number and field path and never by value: the values are names and identity numbers, and error
  output ends up in terminals, scroll-back and support tickets.
- ``do_import_cases`` opens every case through the ordinary ``do_*`` actions, so an imported case is
  sealed, counted and audited exactly like one opened by hand, all in one transaction.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
import threading
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

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
from cases.models import Case, CaseKey, Person, ProtectiveMeasure, RiskAssessment
from cases.records import Children, Classification, PersonData, _Redacted
from cases.routers import KEYSTORE

FORMAT_NAME = "skyddsnat-import"
SUPPORTED_VERSIONS = (1,)
MAX_LISTED_PROBLEMS = 50

# The field names of each object of the format, in documented order (docs/import-format.md).
TOP_LEVEL_FIELDS = ("format", "version", "cases")
CASE_FIELDS = (
    "opened_on",
    "status",
    "closed_on",
    "person",
    "classification",
    "summary",
    "risk_assessments",
    "protective_measures",
    "incidents",
)
PERSON_FIELDS = (
    "name",
    "identity_kind",
    "identity_number",
    "contact",
    "safe_contact",
    "address",
    "legal_gender",
    "birth_year",
    "protected_identity",
)
CLASSIFICATION_FIELDS = ("contexts", "forms", "honour_subtypes", "relations", "flags", "children")
CHILDREN_FIELDS = ("count", "age_bands", "witnessed", "report_made", "report_date")
RISK_FIELDS = (
    "instrument",
    "instrument_version",
    "assessed_on",
    "level",
    "override_level",
    "override_reason",
    "own_perception",
    "notes",
    "next_review_on",
)
MEASURE_FIELDS = ("kind", "starts_on", "ends_on", "responsible_agency", "review_on", "notes")
INCIDENT_FIELDS = ("occurred_on", "forms", "notes")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A key that looks like a field name may be echoed back; anything else might be a value typed into the
# wrong place (a name as a key), so it is described, never shown.
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ImportRefused(Exception):
    """The import cannot start (file, agency or user); the message names no personal value."""


@dataclass(frozen=True)
class ImportProblem:
    record: int | None  # 1-based, as in a spreadsheet; None for the file as a whole
    path: str
    message: str

    def __str__(self) -> str:
        where = f"record {self.record}" if self.record is not None else "file"
        return f"{where}: {self.path}: {self.message}"


class ImportRejected(Exception):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the import file")


class ImportFailed(Exception):
    """Importing stopped at ``record`` after validation had passed; everything was undone.

    ``leftover_keys`` names data keys that could not be removed from the key store (they belong to
    no case and identify nobody, but should be deleted by hand).
    """

    def __init__(self, record: int | None, leftover_keys: list[uuid.UUID]) -> None:
        self.record = record
        self.leftover_keys = leftover_keys
        super().__init__(f"import failed at record {record}")


@dataclass(repr=False)
class RiskAssessmentRow(_Redacted):
    instrument: str
    instrument_version: str
    assessed_on: datetime.date
    level: str
    override_level: str
    override_reason: str
    own_perception: str
    notes: str
    next_review_on: datetime.date | None


@dataclass(repr=False)
class MeasureRow(_Redacted):
    kind: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    responsible_agency: Agency | None  # None: the importing agency
    review_on: datetime.date | None
    notes: str


@dataclass(repr=False)
class IncidentRow(_Redacted):
    occurred_on: datetime.date
    forms: list[str]
    notes: str


@dataclass(repr=False)
class CaseRow(_Redacted):
    """One validated case of the file, ready for the actions."""

    opened_on: datetime.date
    status: str
    closed_on: datetime.date | None
    person: PersonData
    classification: Classification
    summary: str = ""
    risk_assessments: list[RiskAssessmentRow] = field(default_factory=list)
    protective_measures: list[MeasureRow] = field(default_factory=list)
    incidents: list[IncidentRow] = field(default_factory=list)


# --- Reading the file --------------------------------------------------------------------------------


class _JSONObject(dict[str, Any]):
    """A JSON object that remembers keys written twice (``json`` silently keeps only the last)."""

    duplicate_keys: list[str]


def _object_from_pairs(pairs: list[tuple[str, Any]]) -> _JSONObject:
    result = _JSONObject()
    result.duplicate_keys = []
    for key, value in pairs:
        if key in result:
            result.duplicate_keys.append(key)
        result[key] = value
    return result


def load_import_file(path: Path) -> object:
    """The parsed JSON of ``path``. Errors give line and column, never the text around them."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportRefused(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        # utf-8-sig: spreadsheet programs on Windows like to start the file with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"{path} is not UTF-8 text (first bad byte at offset {error.start}). Save it as UTF-8."
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_object_from_pairs)
    except json.JSONDecodeError as error:
        raise ImportRefused(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None


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
        if not self._present(obj, key, path, required):
            return ""
        value: object = obj[key]
        if not isinstance(value, str):
            self.problem(_join(path, key), f"must be text (in quotes), not {_kind_of(value)}.")
            return ""
        if required and not value.strip():
            self.problem(_join(path, key), "must not be empty.")
        return value.strip()

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
        classification = Classification()
        if obj.get("classification") is not None:
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
        if result.honour_subtypes and ViolenceContext.HONOUR not in result.contexts:
            self.problem(_join(path, "honour_subtypes"), "need the context hrv in contexts.")
        if obj.get("children") is not None:
            result.children = self.children(obj["children"], _join(path, "children"))
        return result

    def children(self, value: object, path: str) -> Children:
        obj = self.fields(value, path, CHILDREN_FIELDS)
        if obj is None:
            return Children()
        result = Children(
            count=self.integer(obj, "count", path, minimum=0, maximum=30) or 0,
            age_bands=self.codes(obj, "age_bands", path, ChildAgeBand),
            witnessed=self.boolean(obj, "witnessed", path),
            report_made=self.boolean(obj, "report_made", path),
            report_date=self.date(obj, "report_date", path, past=True),
        )
        if result.report_date and not result.report_made:
            self.problem(_join(path, "report_date"), "is allowed only when report_made is true.")
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
        max_version = RiskAssessment._meta.get_field("instrument_version").max_length or 0
        if len(row.instrument_version) > max_version:
            self.problem(_join(path, "instrument_version"), f"must be at most {max_version} characters.")
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
        assessment = RiskAssessment(
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
        measure = ProtectiveMeasure(
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
