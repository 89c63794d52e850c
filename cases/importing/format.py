"""The import format: its field names, the parsed rows and the problems reported about them."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from access.models import Agency
from cases.records import Classification, PersonData, _Redacted

FORMAT_NAME = "skyddsnat-import"
SUPPORTED_VERSIONS = (1,)
MAX_LISTED_PROBLEMS = 50
# The largest file read: some 10,000 cases with full summaries. A bigger one is split and imported in
# parts (each part all or nothing), rather than read whole into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
# The format nests at most five levels (file, cases, case, classification, children, age bands);
# anything deeper is not the format, and Python's parser would overflow its stack on enough of it.
MAX_NESTING = 8

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


# A JSON string (escapes included) and a bracket, for measuring the nesting without parsing.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest, counted without parsing it (brackets in
    strings do not count), so a file nested thousands deep is refused before it reaches the parser."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def load_import_file(path: Path, *, max_bytes: int | None = None) -> object:
    """The parsed JSON of ``path`` (at most ``max_bytes``, default MAX_FILE_BYTES). Errors give line
    and column, never the text around them."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        with path.open("rb") as file:
            # One byte more than allowed tells "too big" without reading a huge file whole.
            raw = file.read(max_bytes + 1)
    except OSError as error:
        raise ImportRefused(f"Cannot read {path}: {error.strerror or error}.") from None
    if len(raw) > max_bytes:
        raise ImportRefused(
            f"{path} is larger than {max_bytes / (1024 * 1024):g} MB, the most one import reads. "
            "Split it into several files and import them one at a time."
        )
    try:
        # utf-8-sig: spreadsheet programs on Windows like to start the file with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"{path} is not UTF-8 text (first bad byte at offset {error.start}). Save it as UTF-8."
        ) from None
    if nesting_depth(text) > MAX_NESTING:
        raise ImportRefused(
            f"{path} nests arrays or objects more than {MAX_NESTING} levels deep, which the import "
            "format never does (see docs/import-format.md)."
        )
    try:
        return json.loads(text, object_pairs_hook=_object_from_pairs)
    except json.JSONDecodeError as error:
        raise ImportRefused(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except RecursionError:
        # Not reached after the check above; kept so no input can ever end in a traceback.
        raise ImportRefused(f"{path} nests arrays or objects too deeply to be read.") from None
